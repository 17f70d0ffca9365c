const api = require('../utils/api')
const config = require('../config')
const {BASE} = require('./fixtures')

async function settle(promise) {
  // Lets the retry delays pass under fake timers.
  const outcome = promise.then(value => ({value}), error => ({error}))
  await jest.runAllTimersAsync()
  return outcome
}

describe('api client', () => {
  afterEach(() => jest.useRealTimers())

  test('guests read the catalogue with the shop id and no token', async () => {
    const body = await api.products({q: '牛奶', page: 1})
    expect(body.items).toHaveLength(3)
    const [request] = server.requests
    expect(wx.request.mock.calls[0][0].url).toBe(`${BASE}/catalog/products?q=%E7%89%9B%E5%A5%B6&page=1&shop=1`)
    expect(request.header.Authorization).toBeUndefined()
    expect(wx.login).not.toHaveBeenCalled()
  })

  test('a member operation logs in once with wx.login, then sends the token', async () => {
    await Promise.all([api.me(), api.tier()])
    expect(wx.login).toHaveBeenCalledTimes(1)
    expect(server.sent('POST', '/login')[0].data).toEqual({shop: 1, code: 'wx-login-code'})
    expect(server.sent('GET', '/me')[0].header.Authorization).toBe('Bearer tok-member-1')
    expect(api.token()).toBe('tok-member-1')
    await api.products()
    expect(server.sent('GET', '/catalog/products')[0].header.Authorization).toBe('Bearer tok-member-1')
  })

  test('an expired session logs in again and repeats the request once', async () => {
    wx.setStorageSync('omni_session', {token: 'old', expires_at: '2099-01-01T00:00:00Z'})
    server.queue('me_unauthorized')
    const body = await api.me()
    expect(body.member.number).toBe('M000123')
    const calls = server.sent('GET', '/me')
    expect(calls.map(call => call.header.Authorization)).toEqual(['Bearer old', 'Bearer tok-member-1'])
  })

  test('reads are retried after a network failure', async () => {
    jest.useFakeTimers()
    server.queue({fail: 'GET /catalog/categories'}, {fail: 'GET /catalog/categories'})
    const {value} = await settle(api.categories())
    expect(value.items[0].name).toBe('生鲜')
    expect(server.sent('GET', '/catalog/categories')).toHaveLength(3)
  })

  test('reads give up after two retries with a Chinese message', async () => {
    jest.useFakeTimers()
    server.queue(...Array(3).fill({fail: 'GET /catalog/categories'}))
    const {error} = await settle(api.categories())
    expect(error).toBeInstanceOf(api.ApiError)
    expect(error.code).toBe('network')
    expect(error.message).toBe('网络不给力，请检查网络后重试')
    expect(server.sent('GET', '/catalog/categories')).toHaveLength(3)
  })

  test('a POST without Idempotency-Key is never sent twice', async () => {
    jest.useFakeTimers()
    wx.setStorageSync('omni_session', {token: 't', expires_at: '2099-01-01T00:00:00Z'})
    server.queue({fail: 'POST /me/sign-in'})
    const {error} = await settle(api.signIn())
    expect(error.code).toBe('network')
    expect(server.sent('POST', '/me/sign-in')).toHaveLength(1)
  })

  test('an order is retried with the same Idempotency-Key', async () => {
    jest.useFakeTimers()
    wx.setStorageSync('omni_session', {token: 't', expires_at: '2099-01-01T00:00:00Z'})
    server.queue('order_wechat_unavailable', {fail: 'POST /orders'}, 'order_created_again')
    const cart = {items: [{product: 11, quantity: 2}], fulfilment: 'pickup', store: 3}
    const key = api.newIdempotencyKey()
    expect(key).toMatch(/^[A-Za-z0-9_-]{8,64}$/)
    const {value} = await settle(api.createOrder(cart, key))
    expect(value.order.number).toBe('MP2024000041')
    const sent = server.sent('POST', '/orders')
    expect(sent).toHaveLength(3)
    expect(new Set(sent.map(r => r.header['Idempotency-Key']))).toEqual(new Set([key]))
  })

  test('error codes become Chinese messages', async () => {
    wx.setStorageSync('omni_session', {token: 't', expires_at: '2099-01-01T00:00:00Z'})
    server.queue('order_out_of_stock', 'coupon_claim_limit', 'member_code_phone_required')
    const cart = {items: [{product: 11, quantity: 2}], fulfilment: 'pickup', store: 3}
    await expect(api.createOrder(cart, 'key-00000001')).rejects.toMatchObject({
      status: 409, code: 'out_of_stock', message: '手慢了，有机纯牛奶 1L 库存不足，徐家汇店 有货',
    })
    await expect(api.claimCoupon(21)).rejects.toMatchObject({status: 409, message: '已达到领取上限'})
    await expect(api.memberCode()).rejects.toMatchObject({status: 403, message: '请先绑定手机号成为会员'})
  })

  test('an unknown code shows the server message', async () => {
    server.queue({operation: 'GET /catalog/categories', status: 400,
      body: {code: 'brand_new', message: '新的错误', message_en: 'New error'}})
    await expect(api.categories()).rejects.toMatchObject({code: 'brand_new', message: '新的错误'})
  })

  test('each version of the mini-program has its own server', () => {
    expect(config.current()).toBe(config.environments.develop)
    const develop = wx.getAccountInfoSync
    wx.getAccountInfoSync = () => ({miniProgram: {envVersion: 'release'}})
    expect(config.current()).toBe(config.environments.release)
    wx.getAccountInfoSync = develop
    expect(api.root()).toBe(BASE)
  })
})
