// The points balance and history.
const api = require('../../utils/api')
const format = require('../../utils/format')

const TYPES = {earn: '获得', redeem: '抵扣', expire: '过期', reverse: '退回', adjust: '调整'}
const BONUS = {sign_in: '每日签到', share: '分享'}
const CHANNELS = {pos: '门店', mall: '商城', back_office: '后台'}

Component({
  data: {
    balance: 0,
    rule: '',
    entries: [],
    error: '',
  },
  methods: {
    async onLoad() {
      try {
        const answer = await api.points({per_page: 50})
        this.setData({
          balance: answer.balance,
          rule: `每100积分抵 ${format.money(answer.value_per_100)}，最多抵扣订单的 ${Number(answer.redeem_cap_percent)}%`,
          entries: answer.entries.map(e => ({
            id: e.id,
            title: e.description || BONUS[e.bonus] || `${CHANNELS[e.channel]}${TYPES[e.type]}`,
            where: [e.store, format.dateTime(e.date)].filter(Boolean).join(' · '),
            points: e.points > 0 ? `+${e.points}` : String(e.points),
            expires: e.expires_on ? `${e.expires_on} 过期` : '',
          })),
        })
      } catch (error) {
        this.setData({error: error.message})
      }
    },
  },
})
