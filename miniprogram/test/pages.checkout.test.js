const {page, text, tap, fire} = require('./render')
const openapi = require('./openapi').load()
const fixtures = require('./fixtures')

function fillCart(fulfilment = 'pickup', store = 3) {
  wx.setStorageSync('omni_cart', {
    items: [{product: 11, name: '有机纯牛奶 1L', price: '12.90', quantity: 2}], fulfilment, store,
  })
}

async function openCart() {
  const cart = page('cart')
  await cart.instance.onShow()
  return cart
}

describe('checkout', () => {
  test('shows the quote: tier discount, pickup discount and total', async () => {
    fillCart()
    const cart = await openCart()
    const [preview] = server.sent('POST', '/checkout/preview')
    expect(preview.data).toEqual({items: [{product: 11, quantity: 2}], fulfilment: 'pickup', store: 3})
    expect(openapi.checkRequest('POST /checkout/preview', preview.data)).toBeNull()
    const shown = text(cart)
    expect(shown).toContain('商品金额¥25.80')
    expect(shown).toContain('会员折扣-¥2.58')
    expect(shown).toContain('自提优惠-¥2.32')
    expect(shown).toContain('合计¥20.90')
    expect(shown).toContain('静安寺店')
    expect(shown).toContain('徐家汇店')
    expect(shown).not.toContain('世纪大道店')
  })

  test('the coupon and the points slider are priced by the server', async () => {
    fillCart()
    const cart = await openCart()
    expect(text(cart)).toContain('可用 1280 积分，本单最多 1045')
    const picker = cart.querySelector('#coupon-picker')
    await tap(picker, '.row')
    await tap(picker, '.coupon')
    server.queue('checkout_preview_discounts')
    await fire(cart, '.points', 'change', {value: 300})
    const last = server.sent('POST', '/checkout/preview').pop()
    expect(last.data).toMatchObject({coupon: 'CPN-21-0007', points: 300})
    expect(text(cart)).toContain('优惠券-¥5.00')
    expect(text(cart)).toContain('积分抵扣-¥3.00')
    expect(text(cart)).toContain('合计¥12.90')
  })

  test('orders with an Idempotency-Key, pays with the API parameters and asks for pickup notices', async () => {
    fillCart()
    const cart = await openCart()
    await tap(cart, '.pay')
    const [order] = server.sent('POST', '/orders')
    expect(order.header['Idempotency-Key']).toMatch(/^[A-Za-z0-9_-]{8,64}$/)
    expect(order.header.Authorization).toBe('Bearer tok-member-1')
    expect(order.data).toEqual({items: [{product: 11, quantity: 2}], fulfilment: 'pickup', store: 3})
    expect(openapi.checkRequest('POST /orders', order.data)).toBeNull()
    expect(wx.requestPayment).toHaveBeenCalledWith(expect.objectContaining({
      timeStamp: '1716171300', nonceStr: 'n0nce5tr1ng', signType: 'RSA', paySign: 'c2lnbmF0dXJl',
      package: 'prepay_id=wx2017033010242291fcfe0db70013231072',
    }))
    expect(wx.requestSubscribeMessage).toHaveBeenCalledWith(expect.objectContaining({
      tmplIds: ['PICKUP_READY_TEMPLATE_ID', 'PICKUP_EXPIRY_TEMPLATE_ID'],
    }))
    expect(wx.getStorageSync('omni_cart')).toBe('')
    expect(wx.navigateTo).toHaveBeenCalledWith({url: '/pages/order/index?id=41'})
  })

  test('delivery needs an address, sent as the API wants it', async () => {
    fillCart('delivery', null)
    server.queue('checkout_preview_delivery')
    const cart = await openCart()
    await tap(cart, '.pay')
    expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({title: '请选择收货地址'}))
    expect(server.sent('POST', '/orders')).toHaveLength(0)
    await tap(cart, '.address')
    const created = fixtures.load('order_created')
    created.body.order.fulfilment = 'delivery'
    server.queue(created)
    await tap(cart, '.pay')
    const [order] = server.sent('POST', '/orders')
    expect(order.data.address).toEqual({
      name: '韩梅梅', phone: '13900000000', region: '上海市 上海市 徐汇区', street: '漕溪北路88号', postal_code: '200030',
    })
    expect(openapi.checkRequest('POST /orders', order.data)).toBeNull()
    expect(wx.requestSubscribeMessage).not.toHaveBeenCalled()
  })

  test('sold out while paying: says which product and where it is, keeps the cart', async () => {
    fillCart()
    const cart = await openCart()
    server.queue('order_out_of_stock')
    await tap(cart, '.pay')
    expect(wx.showModal).toHaveBeenCalledWith(expect.objectContaining({
      title: '库存不足', content: '手慢了，有机纯牛奶 1L 库存不足，徐家汇店 有货',
    }))
    expect(wx.requestPayment).not.toHaveBeenCalled()
    expect(wx.getStorageSync('omni_cart').items).toHaveLength(1)
    await tap(cart, '.pay')
    const keys = server.sent('POST', '/orders').map(r => r.header['Idempotency-Key'])
    expect(keys).toHaveLength(2)
    expect(keys[0]).not.toBe(keys[1])
  })

  test('a lost answer is retried with the same key', async () => {
    fillCart()
    const cart = await openCart()
    server.queue(...Array(3).fill({fail: 'POST /orders'}))
    jest.useFakeTimers()
    const first = cart.instance.pay()
    await jest.runAllTimersAsync()
    await first
    jest.useRealTimers()
    expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({title: '网络不给力，请检查网络后重试'}))
    server.queue('order_created_again')
    await tap(cart, '.pay')
    const keys = new Set(server.sent('POST', '/orders').map(r => r.header['Idempotency-Key']))
    expect(server.sent('POST', '/orders')).toHaveLength(4)
    expect(keys.size).toBe(1)
  })

  test('a failed or cancelled payment says so and opens the order to pay later', async () => {
    fillCart()
    const cart = await openCart()
    wx.requestPayment.mockImplementationOnce(options => options.fail({errMsg: 'requestPayment:fail cancel'}))
    await tap(cart, '.pay')
    expect(wx.showModal).toHaveBeenCalledWith(expect.objectContaining({
      title: '支付未完成', content: '您已取消支付，可在订单详情中继续支付',
    }))
    expect(wx.requestSubscribeMessage).not.toHaveBeenCalled()
    expect(wx.navigateTo).toHaveBeenCalledWith({url: '/pages/order/index?id=41'})
  })

  test('a customer without a bound phone is sent to bind it', async () => {
    fillCart()
    server.queue({operation: 'GET /me/coupons', status: 403,
      body: {code: 'phone_required', message: '请先绑定手机号', message_en: 'Bind a phone number first'}})
    const cart = await openCart()
    expect(text(cart)).toContain('绑定手机号成为会员后下单')
    await tap(cart, '.phone')
    expect(wx.switchTab).toHaveBeenCalledWith({url: '/pages/member/index'})
  })
})
