// Member centre: login and phone binding, tier and progress, points,
// the member code, coupons, daily sign-in and the pickup notices.
const api = require('../../utils/api')
const format = require('../../utils/format')
const subscribe = require('../../utils/subscribe')
const wxp = require('../../utils/wxp')

Component({
  data: {
    member: null,
    tier: null,
    progress: 0,
    balance: 0,
    signedIn: false,
    error: '',
  },
  methods: {
    async onShow() {
      try {
        const me = await api.me()
        this.setData({member: me.member, error: ''})
        if (me.member) await this.loadMember()
      } catch (error) {
        this.setData({error: error.message})
      }
    },
    async loadMember() {
      const [tier, points] = await Promise.all([api.tier(), api.points({per_page: 1})])
      const threshold = tier.next ? Number(tier.next.threshold) : 0
      this.setData({
        tier: {
          name: tier.tier ? tier.tier.name : '普通会员',
          discount: tier.tier ? tier.tier.discount_percent : '0.00',
          spend: format.money(tier.spend_12m),
          next: tier.next ? `再消费 ${format.money(tier.next.missing)} 升级为${tier.next.name}` : '已是最高等级',
        },
        progress: threshold ? Math.min(100, Math.round(Number(tier.spend_12m) / threshold * 100)) : 100,
        balance: points.balance,
      })
    },
    async bindPhone(event) {
      if (!event.detail.code) {
        wxp.toast('需要授权手机号才能成为会员')
        return
      }
      try {
        const me = await api.bindPhone(event.detail.code)
        this.setData({member: me.member})
        await this.loadMember()
        wxp.toast('已成为会员', 'success')
      } catch (error) {
        wxp.toast(error.message)
      }
    },
    async signIn() {
      try {
        const answer = await api.signIn()
        this.setData({balance: answer.balance, signedIn: true})
        wxp.toast(answer.awarded ? `签到成功，获得 ${answer.awarded} 积分` : '今天已经签到过了')
      } catch (error) {
        wxp.toast(error.message)
      }
    },
    async subscribe() {
      const accepted = await subscribe.askPickupNotices()
      wxp.toast(accepted ? '已开启取货提醒' : '未开启取货提醒')
    },
    go(event) {
      wx.navigateTo({url: event.currentTarget.dataset.url})
    },
  },
})
