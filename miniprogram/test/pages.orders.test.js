const {page, text, tap} = require('./render')

describe('orders', () => {
  test('lists the orders with status and total, filters by status', async () => {
    const orders = page('orders')
    await orders.instance.onShow()
    const shown = text(orders)
    expect(shown).toContain('MP2024000041 · 到店自提待取货')
    expect(shown).toContain('MP2024000040 · 快递配送已发货')
    expect(shown).toContain('¥20.90')
    await tap(orders, '#tab-ready')
    expect(server.sent('GET', '/orders')[1].query.status).toBe('ready')
    await tap(orders, '#order-41')
    expect(wx.navigateTo).toHaveBeenCalledWith({url: '/pages/order/index?id=41'})
  })

  test('a pickup order shows its code as QR and digits, the store and its map', async () => {
    const order = page('order')
    await order.instance.onLoad({id: '41'})
    const shown = text(order)
    expect(shown).toContain('待取货')
    expect(shown).toContain('4821 3657')
    expect(shown).toContain('上海市静安区南京西路1601号')
    expect(wx.createCanvasContext).toHaveBeenCalled()
    await tap(order, '.map')
    expect(wx.openLocation).toHaveBeenCalledWith(expect.objectContaining({latitude: 31.2235, longitude: 121.4453, name: '静安寺店'}))
  })

  test('a paid order is refunded after confirmation', async () => {
    const order = page('order')
    await order.instance.onLoad({id: '41'})
    await tap(order, '.cancel')
    expect(wx.showModal).toHaveBeenCalledWith(expect.objectContaining({title: '申请退款'}))
    expect(server.sent('POST', '/orders/41/cancel')).toHaveLength(1)
    expect(text(order)).toContain('退款中')
    expect(text(order)).not.toContain('4821 3657')
  })

  test('nothing is cancelled when the customer says no', async () => {
    server.queue('order_awaiting')
    wx.showModal.mockImplementationOnce(options => options.success({confirm: false, cancel: true}))
    const order = page('order')
    await order.instance.onLoad({id: '41'})
    await tap(order, '.cancel')
    expect(wx.showModal).toHaveBeenCalledWith(expect.objectContaining({title: '取消订单'}))
    expect(server.sent('POST', '/orders/41/cancel')).toHaveLength(0)
  })

  test('an unpaid order is paid again; sold out since is explained', async () => {
    server.queue('order_awaiting', 'order_awaiting')
    const order = page('order')
    await order.instance.onLoad({id: '41'})
    expect(text(order)).toContain('请在')
    await tap(order, '.pay')
    expect(wx.requestPayment).toHaveBeenCalledWith(expect.objectContaining({signType: 'RSA'}))
    server.queue('order_pay_out_of_stock', 'order_awaiting')
    await tap(order, '.pay')
    expect(wx.showModal).toHaveBeenCalledWith(expect.objectContaining({
      title: '无法支付', content: '手慢了，有机纯牛奶 1L 库存不足',
    }))
    expect(wx.requestPayment).toHaveBeenCalledTimes(1)
  })
})
