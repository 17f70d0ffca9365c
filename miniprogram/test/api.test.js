const api = require('../utils/api')
const config = require('../config')
const fixtures = require('./fixtures')
const {BASE} = fixtures

const cart = fixtures.load('order_created').request.body

async function settle(promise) {
  // Lets the retry delays pass under fake timers.
  const outcome = promise.then(value => ({value}), error => ({error}))
  await jest.runAllTimersAsync()
  return outcome
}

describe('api client', () => {
  afterEach(() => jest.useRealTimers())

  test('guests read the catalogue with the shop id and no token', async () => {
    server.queue('products_search')
    const body = await api.products({q: '龙井', page: 1})
    expect(body.items.map(item => item.name)).toEqual(['明前西湖龙井 250g', '雨前龙井 250g'])
    const [request] = server.requests
    expect(wx.request.mock.calls[0][0].url).toBe(`${BASE}/catalog/products?q=%E9%BE%99%E4%BA%95&page=1&shop=1`)
    expect(request.header.Authorization).toBeUndefined()
    expect(wx.login).not.toHaveBeenCalled()
  })

  test('a member operation logs in once with wx.login, then sends the token', async () => {
    await Promise.all([api.me(), api.tier()])
    expect(wx.login).toHaveBeenCalledTimes(1)
    expect(server.sent('POST', '/login')[0].data).toEqual({shop: 1, code: 'wx-login-code'})
    expect(server.sent('GET', '/me')[0].header.Authorization).toBe('Bearer recorded-session-token')
    // The recorded session's expiry, moved to today, is still ahead
    expect(api.token()).toBe('recorded-session-token')
    await api.products()
    expect(server.sent('GET', '/catalog/products')[0].header.Authorization).toBe('Bearer recorded-session-token')
  })

  test('an expired session logs in again and repeats the request once', async () => {
    wx.setStorageSync('omni_session', {token: 'old', expires_at: '2099-01-01T00:00:00Z'})
    server.queue('me_unauthorized')
    const body = await api.me()
    expect(body.member.number).toBe('M00000004')
    const calls = server.sent('GET', '/me')
    expect(calls.map(call => call.header.Authorization)).toEqual(['Bearer old', 'Bearer recorded-session-token'])
  })

  test('reads are retried after a network failure', async () => {
    jest.useFakeTimers()
    server.queue({fail: 'GET /catalog/categories'}, {fail: 'GET /catalog/categories'})
    const {value} = await settle(api.categories())
    expect(value.items.map(c => c.name)).toContain('普洱茶')
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
    // WeChat Pay did not answer the server (502), then the answer was lost,
    // then the server answers the order it made at the first try
    const unavailable = {operation: 'POST /orders', status: 502, body: {
      code: 'wechat_unavailable', message: '微信服务暂时不可用', message_en: 'WeChat is unavailable'}}
    server.queue(unavailable, {fail: 'POST /orders'}, 'order_created_again')
    const key = api.newIdempotencyKey()
    expect(key).toMatch(/^[A-Za-z0-9_-]{8,64}$/)
    const {value} = await settle(api.createOrder(cart, key))
    expect(value.order.number).toBe(fixtures.load('order_created').body.order.number)
    const sent = server.sent('POST', '/orders')
    expect(sent).toHaveLength(3)
    expect(new Set(sent.map(r => r.header['Idempotency-Key']))).toEqual(new Set([key]))
  })

  test('error codes become Chinese messages', async () => {
    wx.setStorageSync('omni_session', {token: 't', expires_at: '2099-01-01T00:00:00Z'})
    server.queue('order_out_of_stock', 'coupon_claim_limit', 'member_code_phone_required', 'login_invalid_code')
    await expect(api.createOrder(cart, 'key-00000001')).rejects.toMatchObject({
      status: 409, code: 'out_of_stock',
      message: '手慢了，大益 7542 生茶饼 库存不足，中央仓、武林店、滨江店、西湖店 有货',
    })
    await expect(api.claimCoupon(1)).rejects.toMatchObject({status: 409, message: '已达到领取上限'})
    await expect(api.memberCode()).rejects.toMatchObject({status: 403, message: '请先绑定手机号成为会员'})
    api.logout()
    await expect(api.me()).rejects.toMatchObject({status: 401, code: 'invalid_wechat_code', message: '微信登录失败，请重试'})
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
