const {page, text, tap, fire, flush} = require('./render')
const fixtures = require('./fixtures')
const openapi = require('./openapi').load()

describe('member centre', () => {
  test('a member sees his tier, spend, points and the member code', async () => {
    const member = page('member')
    await member.instance.onShow()
    await flush()
    expect(wx.login).toHaveBeenCalled()
    const shown = text(member)
    expect(shown).toContain('刘洋')
    expect(shown).toContain('会员号 M00000004 · +86137****2233')
    // His pickup order counts once picked up: no tier yet
    expect(shown).toContain('普通会员')
    expect(shown).toContain('近12个月消费 ¥0.00')
    expect(shown).toMatch(/积分0 ›/)
    expect(shown).toContain('8800 0000 0000 0000 17')
  })

  test('a guest binds the phone with getPhoneNumber', async () => {
    server.queue('me_guest')
    const member = page('member')
    await member.instance.onShow()
    expect(text(member)).toContain('手机号快捷登录')
    const {body} = fixtures.load('me_phone').request
    await fire(member, '.bind', 'getphonenumber', {code: body.code})
    await flush()
    expect(server.sent('POST', '/me/phone')[0].data).toEqual(body)
    expect(text(member)).toContain('会员号 M00000004')
  })

  test('a refused phone number binds nothing', async () => {
    server.queue('me_guest')
    const member = page('member')
    await member.instance.onShow()
    await fire(member, '.bind', 'getphonenumber', {errMsg: 'getPhoneNumber:fail user deny'})
    expect(server.sent('POST', '/me/phone')).toHaveLength(0)
    expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({title: '需要授权手机号才能成为会员'}))
  })

  test('daily sign-in awards points once', async () => {
    const member = page('member')
    await member.instance.onShow()
    await tap(member, '.sign-in')
    expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({title: '签到成功，获得 5 积分'}))
    expect(text(member)).toMatch(/积分5 ›/)
    expect(text(member)).toContain('今日已签到')
    server.queue('sign_in_again')
    await member.instance.signIn()
    expect(wx.showToast).toHaveBeenLastCalledWith(expect.objectContaining({title: '今天已经签到过了'}))
  })

  test('asks consent for the pickup notices', async () => {
    const member = page('member')
    await member.instance.onShow()
    await tap(member, '.subscribe')
    expect(wx.requestSubscribeMessage).toHaveBeenCalled()
    expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({title: '已开启取货提醒'}))
  })
})

describe('points and coupons', () => {
  test('the points history tells where points came from', async () => {
    const points = page('points')
    await points.instance.onLoad({})
    const shown = text(points)
    expect(shown).toContain('每100积分抵 ¥1.00，最多抵扣订单的 50%')
    expect(shown).toContain('每日签到')
    expect(shown).toContain('+5')
    // Spent on his pickup order at 西湖店
    expect(shown).toMatch(/商城抵扣西湖店 · .*-5/)
  })

  test('the wallet shows usable and used coupons', async () => {
    const coupons = page('coupons')
    await coupons.instance.onLoad({})
    expect(text(coupons)).toContain('满¥100.00减¥20.00 · 全渠道可用')
    expect(text(coupons)).not.toContain('可到店自提')
    server.queue('my_coupons_used')
    await tap(coupons, '#tab-used')
    expect(server.sent('GET', '/me/coupons')[1].query.status).toBe('used')
    expect(text(coupons)).toMatch(/于西湖店使用/)
  })

  test("a targeted campaign's coupon names the nearby store that has the goods", async () => {
    // The recorded coupon as a targeted campaign gives it: with the store
    const targeted = fixtures.load('my_coupons')
    const {id, name} = fixtures.load('order_pickup_ready').body.store
    targeted.body.items[0].store = {id, name}
    expect(openapi.checkResponse(targeted.operation, targeted.status, targeted.body)).toBeNull()
    server.queue(targeted)
    const coupons = page('coupons')
    await coupons.instance.onLoad({})
    expect(text(coupons)).toContain('西湖店有货，可到店自提')
  })

  test('the coupon centre claims, and explains a refusal', async () => {
    const coupons = page('coupons')
    await coupons.instance.onLoad({tab: 'centre'})
    const {id} = fixtures.load('coupons').body.items[0]
    expect(text(coupons)).toContain('满100减20')
    await tap(coupons, `#claim-${id}`)
    expect(server.sent('POST', `/coupons/${id}/claim`)).toHaveLength(1)
    const {number} = fixtures.load('coupon_claim').body
    expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({title: `领取成功，券号 ${number}`}))
    server.queue('coupon_claim_limit')
    await tap(coupons, `#claim-${id}`)
    expect(wx.showToast).toHaveBeenLastCalledWith(expect.objectContaining({title: '已达到领取上限'}))
  })
})
