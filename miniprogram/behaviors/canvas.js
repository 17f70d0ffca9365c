// A component that paints black rectangles on a white canvas of its own.
// It defines shape(): {width, height, rects: [[x, y, w, h], ...]} or null.
let serial = 0

module.exports = Behavior({
  data: {
    canvasId: '',
  },
  lifetimes: {
    attached() {
      serial += 1
      this.setData({canvasId: `code-canvas-${serial}`})
      this.paint()
    },
  },
  methods: {
    paint() {
      const shape = this.data.canvasId && this.shape()
      if (!shape) return
      const context = wx.createCanvasContext(this.data.canvasId, this)
      context.setFillStyle('#ffffff')
      context.fillRect(0, 0, shape.width, shape.height)
      context.setFillStyle('#000000')
      shape.rects.forEach(rect => context.fillRect(...rect))
      context.draw()
    },
  },
})
