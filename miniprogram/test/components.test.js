const {component, flush, text, tap, sources} = require('./render')
const fixtures = require('./fixtures')
const {BASE} = fixtures

// The member code a minute later: the recorded one with other digits
function nextCode() {
  const next = fixtures.load('member_code')
  next.body.code = '880000000000000025'
  return next
}

describe('member-code', () => {
  afterEach(() => jest.useRealTimers())

  test('shows the code and fetches a new one before it expires', async () => {
    jest.useFakeTimers()
    server.queue('member_code', nextCode())
    const comp = component('member-code')
    await flush()
    expect(text(comp)).toContain('8800 0000 0000 0000 17')
    expect(server.sent('GET', '/me/code')).toHaveLength(1)

    const refresh = fixtures.load('member_code').body.refresh_in
    await jest.advanceTimersByTimeAsync((refresh - 1) * 1000)
    expect(server.sent('GET', '/me/code')).toHaveLength(1)
    await jest.advanceTimersByTimeAsync(1000)
    await flush()
    expect(server.sent('GET', '/me/code')).toHaveLength(2)
    expect(text(comp)).toContain('8800 0000 0000 0000 25')

    comp.detach()
    await jest.advanceTimersByTimeAsync(120 * 1000)
    expect(server.sent('GET', '/me/code')).toHaveLength(2)
  })

  test('asks a customer without a phone to bind it and does not poll', async () => {
    jest.useFakeTimers()
    server.queue('member_code_phone_required')
    const comp = component('member-code')
    await flush()
    expect(text(comp)).toContain('请先绑定手机号成为会员')
    await jest.advanceTimersByTimeAsync(60 * 1000)
    expect(server.sent('GET', '/me/code')).toHaveLength(1)
  })

  test('retries after a network failure', async () => {
    jest.useFakeTimers()
    server.queue(...Array(3).fill({fail: 'GET /me/code'}))
    const comp = component('member-code')
    await jest.advanceTimersByTimeAsync(2000)
    expect(text(comp)).toContain('网络不给力')
    await jest.advanceTimersByTimeAsync(5000)
    await flush()
    expect(text(comp)).toContain('8800 0000 0000 0000 17')
  })
})

describe('product-card', () => {
  // As 刘洋 sees it once a member: his tier's price
  const puer = fixtures.load('product_member').body

  test('shows the thumbnail, the price, the member price and the nearby badge', async () => {
    const comp = component('product-card', {product: puer})
    expect(text(comp)).toContain('大益 7542 生茶饼')
    expect(text(comp)).toContain('¥268.00')
    expect(text(comp)).toContain(`会员价 ¥${puer.member_price}`)
    expect(text(comp)).toContain('附近门店有货')
    expect(sources(comp, '.thumbnail')).toEqual([`${BASE}/catalog/products/${puer.id}/images/5?shop=1&s=250`])
    await tap(comp, '.card')
    expect(wx.navigateTo).toHaveBeenCalledWith({url: `/pages/product/index?id=${puer.id}`})
  })

  test('a product out of stock everywhere and without a picture', () => {
    const comp = component('product-card', {product: Object.assign({}, puer, {
      available: 0, nearby_stock: false, member_price: null, thumbnail: null})})
    expect(text(comp)).toContain('已售罄')
    expect(text(comp)).toContain('暂无图片')
    expect(comp.querySelectorAll('image')).toHaveLength(0)
    expect(text(comp)).not.toContain('附近门店有货')
    expect(text(comp)).not.toContain('会员价')
  })
})

describe('coupon-picker', () => {
  const coupons = fixtures.load('my_coupons').body.items

  const [claimed] = coupons
  // A coupon of the stores only, next to the recorded one
  const storeOnly = Object.assign({}, claimed, {number: 'STORE-ONLY', name: '门店专享', channels: ['pos']})

  test('offers only the coupons usable in the mall for these goods', async () => {
    const comp = component('coupon-picker', {coupons: [claimed, storeOnly], goods: '1072.00', selected: ''})
    expect(text(comp)).toContain('1 张可用')
    await tap(comp, '.row')
    expect(text(comp)).toContain('满¥100.00减¥20.00')
    expect(text(comp)).not.toContain('门店专享')
    const changes = []
    comp.addEventListener('change', event => changes.push(event.detail.number))
    await tap(comp, '.coupon')
    await tap(comp, '.row')
    await tap(comp, '.none')
    expect(changes).toEqual([claimed.number, ''])
  })

  test('names the chosen coupon, and none below its minimum', () => {
    expect(text(component('coupon-picker', {coupons, goods: '120.00', selected: claimed.number})))
      .toContain('满100减20')
    expect(text(component('coupon-picker', {coupons, goods: '99.00', selected: ''}))).toContain('无可用优惠券')
  })
})
