// The member's orders, newest first, filtered by status.
const api = require('../../utils/api')
const format = require('../../utils/format')

const TABS = [
  {status: '', label: '全部'},
  {status: 'awaiting_payment', label: '待付款'},
  {status: 'ready', label: '待取货'},
  {status: 'shipped', label: '已发货'},
  {status: 'refunding', label: '退款中'},
]

Component({
  data: {
    tabs: TABS,
    status: '',
    orders: [],
    error: '',
  },
  methods: {
    onShow() {
      return this.load()
    },
    async load() {
      try {
        const {items} = await api.orders({status: this.data.status || undefined})
        this.setData({
          orders: items.map(o => ({
            id: o.id,
            number: o.number,
            status: format.ORDER_STATUS[o.status],
            fulfilment: format.FULFILMENT[o.fulfilment],
            created: format.dateTime(o.created_at),
            summary: o.lines.map(l => `${l.name} ×${l.quantity}`).join('，'),
            total: format.money(o.totals.total),
          })),
          error: '',
        })
      } catch (error) {
        this.setData({error: error.message})
      }
    },
    chooseTab(event) {
      this.setData({status: event.currentTarget.dataset.status})
      return this.load()
    },
    open(event) {
      wx.navigateTo({url: `/pages/order/index?id=${event.currentTarget.dataset.id}`})
    },
  },
})
