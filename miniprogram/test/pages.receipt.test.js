// The receipt page that the QR code of a till's printed receipt opens.
const fs = require('fs')
const path = require('path')
const simulate = require('miniprogram-simulate')
const {text, tap, ROOT} = require('./render')
const openapi = require('./openapi').load()

// Written by hand (the recordings do not ring up till sales yet)
const RECEIPT = JSON.parse(fs.readFileSync(
  path.join(__dirname, 'fixtures', 'handwritten', 'receipt.json'), 'utf8'))
const NOT_FOUND = {
  operation: 'GET /me/receipts/{number}',
  status: 404,
  body: {code: 'receipt_not_found', message: '您没有这张小票的购物记录。', message_en: 'You have no purchase of this receipt.'},
}
const PHONE_REQUIRED = {
  operation: 'GET /me/receipts/{number}',
  status: 403,
  body: {code: 'phone_required', message: '请先绑定手机号', message_en: 'Bind your phone first.'},
}

let id = null
function receiptPage() {
  if (!id) id = simulate.load(path.join(ROOT, 'pages/receipt/receipt'), {rootPath: ROOT, compiler: 'simulate'})
  const comp = simulate.render(id)
  comp.attach(document.createElement('parent-wrapper'))
  return comp
}

describe('receipt', () => {
  test('the hand-written answer follows openapi.yaml', () => {
    expect(openapi.checkResponse(RECEIPT.operation, RECEIPT.status, RECEIPT.body)).toBeNull()
    expect(openapi.checkResponse(NOT_FOUND.operation, NOT_FOUND.status, NOT_FOUND.body)).toBeNull()
  })

  test('the scanned link opens the receipt, logging in first', async () => {
    server.queue(RECEIPT)
    const page = receiptPage()
    const link = 'https://shop.example.com/mp/receipt?n=WL%2F0007'
    await page.instance.onLoad({q: encodeURIComponent(link), scancode_time: '1767225600'})
    expect(server.sent('POST', '/login')).toHaveLength(1)
    const [request] = server.sent('GET')
    expect(request.route).toBe('/me/receipts/WL%2F0007')
    expect(request.header.Authorization).toMatch(/^Bearer /)
    const shown = text(page)
    expect(shown).toContain('西湖店')
    expect(shown).toContain('单号 WL/0007')
    expect(shown).toContain('大益 7542 生茶饼')
    expect(shown).toContain('¥285.00 ×2')
    expect(shown).toContain('¥570.00')
    expect(shown).toContain('优惠券-¥20.00')
    expect(shown).toContain('合计¥730.00')
    expect(shown).toContain('微信付款码¥700.00')
    expect(shown).toContain('本单获得积分700')
  })

  test('another page opens it by number', async () => {
    server.queue(RECEIPT)
    const page = receiptPage()
    await page.instance.onLoad({number: 'WL/0007'})
    expect(server.sent('GET')[0].route).toBe('/me/receipts/WL%2F0007')
    expect(text(page)).toContain('合计¥730.00')
  })

  test("someone else's receipt is not found", async () => {
    server.queue(NOT_FOUND)
    const page = receiptPage()
    await page.instance.onLoad({q: encodeURIComponent('https://shop.example.com/mp/receipt?n=WL%2F0008')})
    const shown = text(page)
    expect(shown).toContain('找不到这张小票')
    expect(shown).not.toContain('合计')
  })

  test('a guest is sent to bind the phone', async () => {
    server.queue(PHONE_REQUIRED)
    const page = receiptPage()
    await page.instance.onLoad({number: 'WL/0007'})
    await tap(page, '.phone')
    expect(wx.switchTab).toHaveBeenCalledWith({url: '/pages/member/index'})
  })

  test('a link without a number asks nothing of the server', async () => {
    const page = receiptPage()
    await page.instance.onLoad({q: encodeURIComponent('https://shop.example.com/mp/receipt')})
    expect(server.sent('GET')).toHaveLength(0)
    expect(text(page)).toContain('小票二维码无效')
  })
})
