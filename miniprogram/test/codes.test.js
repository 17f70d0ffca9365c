const qrcode = require('qrcode-generator')
const code128 = require('../utils/code128')
const {component: render} = require('./render')

function lastContext() {
  const {results} = wx.createCanvasContext.mock
  return results[results.length - 1].value
}

// Reads the module widths back from the bars and maps them to symbols.
function decode({bars, modules}) {
  const runs = []
  bars.forEach((bar, i) => {
    runs.push(bar.width)
    const next = bars[i + 1] ? bars[i + 1].x : modules - 10
    if (next > bar.x + bar.width) runs.push(next - bar.x - bar.width)
  })
  const values = []
  for (let i = 0; i < runs.length; i += 6) {
    const pattern = runs.slice(i, i + (runs.length - i === 7 ? 7 : 6)).join('')
    values.push(code128.PATTERNS.indexOf(pattern))
    if (pattern.length === 7) break
  }
  return values
}

describe('Code 128', () => {
  test('digits use code set C with its checksum', () => {
    const encoded = code128.encode('1234')
    expect(encoded.values).toEqual([105, 12, 34, 82, 106])
    expect(encoded.modules).toBe(10 + 11 * 4 + 13 + 10)
    expect(decode(encoded)).toEqual(encoded.values)
  })

  test('an 18-digit member code round-trips', () => {
    const encoded = code128.encode('880000000000000017')
    expect(decode(encoded).slice(1, 10)).toEqual([88, 0, 0, 0, 0, 0, 0, 0, 17])
  })

  test('other text uses code set B', () => {
    expect(code128.encode('A1').values).toEqual([104, 33, 17, (104 + 33 + 2 * 17) % 103, 106])
  })
})

describe('code components', () => {
  test('the QR code paints exactly the dark modules', () => {
    render('qrcode', {text: 'OMNI-PICKUP:41:48213657', size: 116})
    const context = lastContext()
    expect(context.draw).toHaveBeenCalledTimes(1)
    const qr = qrcode(0, 'M')
    qr.addData('OMNI-PICKUP:41:48213657')
    qr.make()
    const count = qr.getModuleCount()
    const cell = 116 / (count + 4)
    const painted = new Set()
    context.fillRect.mock.calls.slice(1).forEach(([x, y, w]) => {
      for (let i = 0; i < Math.round(w / cell); i++) {
        painted.add(`${Math.round(y / cell) - 2},${Math.round(x / cell) - 2 + i}`)
      }
    })
    const dark = new Set()
    for (let r = 0; r < count; r++) for (let c = 0; c < count; c++) if (qr.isDark(r, c)) dark.add(`${r},${c}`)
    expect(painted).toEqual(dark)
  })

  test('the barcode repaints when its text changes', () => {
    const comp = render('barcode', {text: '880000000000000017', width: 250, height: 60})
    expect(lastContext().fillRect).toHaveBeenCalledTimes(1 + code128.encode('880000000000000017').bars.length)
    comp.setData({text: '880000000000000025'})
    expect(wx.createCanvasContext).toHaveBeenCalledTimes(2)
    expect(lastContext().draw).toHaveBeenCalled()
  })
})
