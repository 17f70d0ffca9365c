const {page, text, tap, fire, flush} = require('./render')

describe('member centre', () => {
  test('a member sees tier progress, points and the member code', async () => {
    const member = page('member')
    await member.instance.onShow()
    await flush()
    expect(wx.login).toHaveBeenCalled()
    const shown = text(member)
    expect(shown).toContain('李雷')
    expect(shown).toContain('银卡')
    expect(shown).toContain('再消费 ¥1800.00 升级为金卡')
    expect(shown).toContain('1280')
    expect(shown).toContain('8800 0000 0000 0000 17')
    expect(member.instance.data.progress).toBe(64)
  })

  test('a guest binds the phone with getPhoneNumber', async () => {
    server.queue('me_guest')
    const member = page('member')
    await member.instance.onShow()
    expect(text(member)).toContain('手机号快捷登录')
    await fire(member, '.bind', 'getphonenumber', {code: 'phone-code-1'})
    await flush()
    expect(server.sent('POST', '/me/phone')[0].data).toEqual({code: 'phone-code-1'})
    expect(text(member)).toContain('会员号 M000123')
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
    expect(text(member)).toContain('1285')
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
    expect(shown).toContain('-300')
    expect(shown).toContain('静安寺店')
  })

  test('the wallet shows usable and used coupons', async () => {
    const coupons = page('coupons')
    await coupons.instance.onLoad({})
    expect(text(coupons)).toContain('满¥20.00减¥5.00 · 商城可用')
    expect(text(coupons)).toContain('满¥100.00减¥15.00 · 全渠道可用')
    // A targeted campaign's coupon names the nearby store that has the goods
    expect(text(coupons)).toContain('静安寺店有货，可到店自提')
    server.queue('my_coupons_used')
    await tap(coupons, '#tab-used')
    expect(server.sent('GET', '/me/coupons')[1].query.status).toBe('used')
    expect(text(coupons)).toMatch(/于静安寺店使用/)
  })

  test('the coupon centre claims, and explains a refusal', async () => {
    const coupons = page('coupons')
    await coupons.instance.onLoad({tab: 'centre'})
    expect(text(coupons)).toContain('已领取')
    await tap(coupons, '#claim-21')
    expect(server.sent('POST', '/coupons/21/claim')).toHaveLength(1)
    expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({title: '领取成功，券号 CPN-21-0007'}))
    server.queue('coupon_claim_limit')
    await tap(coupons, '#claim-21')
    expect(wx.showToast).toHaveBeenLastCalledWith(expect.objectContaining({title: '已达到领取上限'}))
  })
})
