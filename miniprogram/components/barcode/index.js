// A Code 128 barcode.
const code128 = require('../../utils/code128')
const canvas = require('../../behaviors/canvas')

Component({
  behaviors: [canvas],
  properties: {
    text: {type: String, value: '', observer: 'paint'},
    width: {type: Number, value: 300},
    height: {type: Number, value: 80},
  },
  methods: {
    shape() {
      const {text, width, height} = this.data
      if (!text) return null
      const {bars, modules} = code128.encode(text)
      const unit = width / modules
      return {width, height, rects: bars.map(bar => [bar.x * unit, 0, bar.width * unit, height])}
    },
  },
})
