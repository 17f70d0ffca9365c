const {component, flush, text, tap} = require('./render')
const fixtures = require('./fixtures')

describe('member-code', () => {
  afterEach(() => jest.useRealTimers())

  test('shows the code and fetches a new one before it expires', async () => {
    jest.useFakeTimers()
    server.queue('member_code', 'member_code_next')
    const comp = component('member-code')
    await flush()
    expect(text(comp)).toContain('8800 0000 0000 0000 17')
    expect(server.sent('GET', '/me/code')).toHaveLength(1)

    await jest.advanceTimersByTimeAsync(49 * 1000)
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
  const [milk, , grape] = fixtures.load('products').body.items

  test('shows the price, the tier price and the nearby badge', async () => {
    const comp = component('product-card', {product: milk})
    expect(text(comp)).toContain('有机纯牛奶 1L')
    expect(text(comp)).toContain('¥12.90')
    expect(text(comp)).toContain('会员价 ¥11.61')
    expect(text(comp)).toContain('附近门店有货')
    await tap(comp, '.card')
    expect(wx.navigateTo).toHaveBeenCalledWith({url: '/pages/product/index?id=11'})
  })

  test('a product out of stock everywhere is marked sold out', () => {
    const comp = component('product-card', {product: Object.assign({}, grape, {member_price: null})})
    expect(text(comp)).toContain('已售罄')
    expect(text(comp)).not.toContain('附近门店有货')
    expect(text(comp)).not.toContain('会员价')
  })
})

describe('coupon-picker', () => {
  const coupons = fixtures.load('my_coupons').body.items

  test('offers only the coupons usable in the mall for these goods', async () => {
    const comp = component('coupon-picker', {coupons, goods: '25.80', selected: ''})
    expect(text(comp)).toContain('1 张可用')
    await tap(comp, '.row')
    expect(text(comp)).toContain('满20减5')
    expect(text(comp)).not.toContain('满100减15')
    expect(text(comp)).not.toContain('门店专享')
    const changes = []
    comp.addEventListener('change', event => changes.push(event.detail.number))
    await tap(comp, '.coupon')
    await tap(comp, '.row')
    await tap(comp, '.none')
    expect(changes).toEqual(['CPN-21-0007', ''])
  })

  test('names the chosen coupon', () => {
    const comp = component('coupon-picker', {coupons, goods: '120.00', selected: 'CPN-30-0002'})
    expect(text(comp)).toContain('满100减15')
  })
})
