// The coupon wallet (usable, used, expired) and the coupon centre.
const api = require('../../utils/api')
const format = require('../../utils/format')
const wxp = require('../../utils/wxp')

const CHANNELS = {pos: '门店', mall: '商城', back_office: '后台'}

function terms(coupon) {
  const where = coupon.channels.length ? coupon.channels.map(c => CHANNELS[c]).join('、') + '可用' : '全渠道可用'
  const until = coupon.end_date ? `有效期至 ${coupon.end_date}` : '长期有效'
  return `满${format.money(coupon.minimum)}减${format.money(coupon.discount)} · ${where} · ${until}`
}

Component({
  data: {
    tab: 'usable',
    tabs: [
      {key: 'usable', label: '可使用'}, {key: 'used', label: '已使用'},
      {key: 'expired', label: '已过期'}, {key: 'centre', label: '领券中心'},
    ],
    items: [],
    error: '',
  },
  methods: {
    onLoad(query) {
      this.setData({tab: query.tab || 'usable'})
      return this.load()
    },
    async load() {
      const {tab} = this.data
      try {
        const items = tab === 'centre' ? (await api.coupons()).items : (await api.myCoupons(tab)).items
        this.setData({
          items: items.map(c => Object.assign({}, c, {
            key: c.number || String(c.id),
            terms: terms(c),
            used: c.redemption ? `${format.dateTime(c.redemption.date)} 于${c.redemption.store || CHANNELS[c.redemption.channel]}使用` : '',
          })),
          error: '',
        })
      } catch (error) {
        this.setData({items: [], error: error.message})
      }
    },
    chooseTab(event) {
      this.setData({tab: event.currentTarget.dataset.tab})
      return this.load()
    },
    async claim(event) {
      try {
        const claimed = await api.claimCoupon(event.currentTarget.dataset.id)
        wxp.toast(`领取成功，券号 ${claimed.number}`, 'none')
      } catch (error) {
        wxp.toast(error.message)
      }
      return this.load()
    },
  },
})
