const {page, text, tap} = require('./render')
const fixtures = require('./fixtures')

const ready = fixtures.load('order_pickup_ready').body
const ORDER = ready.id
const STORE = ready.store

describe('orders', () => {
  test('lists the orders with status and total, filters by status', async () => {
    const orders = page('orders')
    await orders.instance.onShow()
    const shown = text(orders)
    expect(shown).toContain(`${ready.number} · 到店自提已付款`)
    expect(shown).toContain('¥995.74')
    await tap(orders, '#tab-ready')
    expect(server.sent('GET', '/orders')[1].query.status).toBe('ready')
    await tap(orders, `#order-${ORDER}`)
    expect(wx.navigateTo).toHaveBeenCalledWith({url: `/pages/order/index?id=${ORDER}`})
  })

  test('a pickup order shows its code as QR and digits, the store and its map', async () => {
    const order = page('order')
    await order.instance.onLoad({id: String(ORDER)})
    const shown = text(order)
    expect(shown).toContain('已付款')
    expect(shown).toContain('4821 3657 90')
    expect(shown).toContain('大益 7542 生茶饼')
    expect(shown).toContain('杭州西湖区北山街 32 号')
    expect(wx.createCanvasContext).toHaveBeenCalled()
    await tap(order, '.map')
    expect(wx.openLocation).toHaveBeenCalledWith(expect.objectContaining({
      latitude: STORE.latitude, longitude: STORE.longitude, name: '西湖店',
    }))
  })

  test('a paid order is refunded after confirmation', async () => {
    const order = page('order')
    await order.instance.onLoad({id: String(ORDER)})
    await tap(order, '.cancel')
    expect(wx.showModal).toHaveBeenCalledWith(expect.objectContaining({title: '申请退款'}))
    expect(server.sent('POST', `/orders/${ORDER}/cancel`)).toHaveLength(1)
    expect(text(order)).toContain('退款中')
    expect(text(order)).not.toContain('4821 3657')
  })

  test('nothing is cancelled when the customer says no', async () => {
    server.queue('order_awaiting')
    wx.showModal.mockImplementationOnce(options => options.success({confirm: false, cancel: true}))
    const order = page('order')
    await order.instance.onLoad({id: String(ORDER)})
    await tap(order, '.cancel')
    expect(wx.showModal).toHaveBeenCalledWith(expect.objectContaining({title: '取消订单'}))
    expect(server.sent('POST', `/orders/${ORDER}/cancel`)).toHaveLength(0)
  })

  test('an unpaid order is paid again; sold out since is explained', async () => {
    server.queue('order_awaiting', 'order_awaiting')
    const order = page('order')
    await order.instance.onLoad({id: String(ORDER)})
    expect(text(order)).toContain('请在')
    await tap(order, '.pay')
    expect(wx.requestPayment).toHaveBeenCalledWith(expect.objectContaining({signType: 'RSA'}))
    // Sold out since: the server's out_of_stock answer, to the payment
    const soldOut = Object.assign(fixtures.load('order_out_of_stock'), {operation: 'POST /orders/{order}/pay'})
    server.queue(soldOut, 'order_awaiting')
    await tap(order, '.pay')
    expect(wx.showModal).toHaveBeenCalledWith(expect.objectContaining({
      title: '无法支付', content: '手慢了，大益 7542 生茶饼 库存不足，中央仓、武林店、滨江店、西湖店 有货',
    }))
    expect(wx.requestPayment).toHaveBeenCalledTimes(1)
  })
})
