const {page, text, tap, fire} = require('./render')
const openapi = require('./openapi').load()
const fixtures = require('./fixtures')

// 刘洋's cart when the answers were recorded: 4 大益 7542 for pickup at 西湖店
const preview = fixtures.load('checkout_preview')
const [{product: PRODUCT, quantity: QUANTITY}] = preview.request.body.items
const STORE = preview.request.body.store
const created = fixtures.load('order_created').body

function fillCart(fulfilment = 'pickup', store = STORE) {
  wx.setStorageSync('omni_cart', {
    items: [{product: PRODUCT, name: '大益 7542 生茶饼', price: '268.00', quantity: QUANTITY}], fulfilment, store,
  })
}

async function openCart() {
  const cart = page('cart')
  // His points once he signed in, before he spent them
  server.queue('points_signed_in')
  await cart.instance.onShow()
  return cart
}

describe('checkout', () => {
  test('shows the quote: pickup discount and total, the stores with enough stock', async () => {
    fillCart()
    const cart = await openCart()
    const [sent] = server.sent('POST', '/checkout/preview')
    expect(sent.data).toEqual(preview.request.body)
    expect(openapi.checkRequest('POST /checkout/preview', sent.data)).toBeNull()
    const shown = text(cart)
    expect(shown).toContain('商品金额¥1072.00')
    expect(shown).toContain('自提优惠-¥53.60')
    // 刘洋 has no tier yet: no member discount line
    expect(shown).not.toContain('会员折扣')
    expect(shown).toContain('合计¥1018.40')
    for (const store of ['西湖店', '武林店', '中央仓', '滨江店']) expect(shown).toContain(store)
    expect(cart.querySelector(`#store-${STORE}`).dom.className).toContain('chosen')
  })

  test('the coupon and the points slider are priced by the server', async () => {
    fillCart()
    const cart = await openCart()
    expect(text(cart)).toContain('可用 5 积分，本单最多 5')
    const picker = cart.querySelector('#coupon-picker')
    expect(text(picker)).toContain('1 张可用')
    await tap(picker, '.row')
    await tap(picker, '.coupon')
    const discounts = fixtures.load('checkout_preview_discounts')
    server.queue(discounts)
    await fire(cart, '.points', 'change', {value: 5})
    const last = server.sent('POST', '/checkout/preview').pop()
    expect(last.data).toEqual(discounts.request.body)
    expect(text(cart)).toContain('优惠券-¥22.60')
    expect(text(cart)).toContain('积分抵扣-¥0.05')
    expect(text(cart)).toContain('合计¥995.74')
  })

  test('orders with an Idempotency-Key, pays with the API parameters and asks for pickup notices', async () => {
    fillCart()
    const cart = await openCart()
    await tap(cart, '.pay')
    const [order] = server.sent('POST', '/orders')
    expect(order.header['Idempotency-Key']).toMatch(/^[A-Za-z0-9_-]{8,64}$/)
    expect(order.header.Authorization).toBe('Bearer recorded-session-token')
    expect(order.data).toEqual(preview.request.body)
    expect(openapi.checkRequest('POST /orders', order.data)).toBeNull()
    expect(wx.requestPayment).toHaveBeenCalledWith(expect.objectContaining(created.payment))
    expect(wx.requestSubscribeMessage).toHaveBeenCalledWith(expect.objectContaining({
      tmplIds: ['PICKUP_READY_TEMPLATE_ID', 'PICKUP_EXPIRY_TEMPLATE_ID'],
    }))
    expect(wx.getStorageSync('omni_cart')).toBe('')
    expect(wx.navigateTo).toHaveBeenCalledWith({url: `/pages/order/index?id=${created.order.id}`})
  })

  test('delivery needs an address, sent as the API wants it', async () => {
    fillCart('delivery', null)
    server.queue('checkout_preview_delivery', 'checkout_preview_delivery')
    const cart = await openCart()
    await tap(cart, '.pay')
    expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({title: '请选择收货地址'}))
    expect(server.sent('POST', '/orders')).toHaveLength(0)
    await tap(cart, '.address')
    const delivery = fixtures.load('checkout_preview_delivery')
    expect(server.sent('POST', '/checkout/preview').pop().data).toEqual(delivery.request.body)
    expect(text(cart)).toContain('合计¥1072.00')
    const order = fixtures.load('order_created')
    order.body.order.fulfilment = 'delivery'
    server.queue(order)
    await tap(cart, '.pay')
    const [sent] = server.sent('POST', '/orders')
    expect(sent.data.address).toEqual(delivery.request.body.address)
    expect(openapi.checkRequest('POST /orders', sent.data)).toBeNull()
    expect(wx.requestSubscribeMessage).not.toHaveBeenCalled()
  })

  test('sold out while paying: says which product and where it is, keeps the cart', async () => {
    fillCart()
    const cart = await openCart()
    server.queue('order_out_of_stock')
    await tap(cart, '.pay')
    expect(wx.showModal).toHaveBeenCalledWith(expect.objectContaining({
      title: '库存不足', content: '手慢了，大益 7542 生茶饼 库存不足，中央仓、武林店、滨江店、西湖店 有货',
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
    expect(wx.navigateTo).toHaveBeenCalledWith({url: `/pages/order/index?id=${created.order.id}`})
  })

  test('a customer without a bound phone is sent to bind it', async () => {
    fillCart()
    // The server's answer to a member operation before the phone is bound
    server.queue(Object.assign(fixtures.load('member_code_phone_required'), {operation: 'GET /me/coupons'}))
    const cart = await openCart()
    expect(text(cart)).toContain('绑定手机号成为会员后下单')
    await tap(cart, '.phone')
    expect(wx.switchTab).toHaveBeenCalledWith({url: '/pages/member/index'})
  })
})
