// A QR code: one rectangle per run of dark modules in a row.
const qrcode = require('qrcode-generator')
const canvas = require('../../behaviors/canvas')

const MARGIN = 2

Component({
  behaviors: [canvas],
  properties: {
    text: {type: String, value: '', observer: 'paint'},
    size: {type: Number, value: 200},
  },
  methods: {
    shape() {
      const {text, size} = this.data
      if (!text) return null
      const qr = qrcode(0, 'M')
      qr.addData(text)
      qr.make()
      const count = qr.getModuleCount()
      const cell = size / (count + 2 * MARGIN)
      const rects = []
      for (let row = 0; row < count; row++) {
        let col = 0
        while (col < count) {
          const start = col
          while (col < count && qr.isDark(row, col)) col += 1
          if (col > start) {
            rects.push([(start + MARGIN) * cell, (row + MARGIN) * cell, (col - start) * cell, cell])
          } else {
            col += 1
          }
        }
      }
      return {width: size, height: size, rects}
    },
  },
})
