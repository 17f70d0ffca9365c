// One order: status, lines, totals; for pickup the code as QR and digits
// with the store and a map; pay, cancel or refund.
const api = require('../../utils/api')
const format = require('../../utils/format')
const payment = require('../../utils/payment')
const wxp = require('../../utils/wxp')

Component({
  data: {
    order: null,
    status: '',
    lines: [],
    totals: {},
    pickupDigits: '',
    pickupDeadline: '',
    payDeadline: '',
    error: '',
  },
  methods: {
    onLoad(query) {
      this.id = query.id
      return this.load()
    },
    onShow() {
      return this.id && this.data.order ? this.load() : null
    },
    async load() {
      try {
        this.show(await api.order(this.id))
      } catch (error) {
        this.setData({error: error.message})
      }
    },
    show(order) {
      const totals = {}
      Object.keys(order.totals).forEach(key => {
        totals[key] = key === 'points' ? order.totals[key] : format.money(order.totals[key])
      })
      this.setData({
        order,
        status: format.ORDER_STATUS[order.status],
        fulfilment: format.FULFILMENT[order.fulfilment],
        lines: order.lines.map(l => Object.assign({}, l, {amount: format.money(l.amount)})),
        totals,
        pickupDigits: order.pickup ? order.pickup.code.replace(/(\d{4})(?=\d)/g, '$1 ') : '',
        pickupDeadline: order.pickup ? format.dateTime(order.pickup.deadline) : '',
        payDeadline: format.dateTime(order.pay_deadline),
        error: '',
      })
    },
    openMap() {
      const {store} = this.data.order
      wx.openLocation({latitude: store.latitude, longitude: store.longitude, name: store.name, address: store.address})
    },
    async pay() {
      let answer
      try {
        answer = await api.payOrder(this.id)
      } catch (error) {
        await wxp.alert('无法支付', error.message)
        return this.load()
      }
      const result = await payment.pay(answer.payment)
      if (!result.paid) await wxp.alert('支付未完成', result.message)
      return this.load()
    },
    async cancel() {
      const paid = this.data.order.status !== 'awaiting_payment'
      const confirmed = await wxp.confirm(paid ? '申请退款' : '取消订单',
        paid ? '退款将原路退回，积分和优惠券将返还。确定吗？' : '确定取消这个订单吗？')
      if (!confirmed) return null
      try {
        this.show(await api.cancelOrder(this.id))
        wxp.toast(paid ? '已提交退款' : '订单已取消')
      } catch (error) {
        wxp.toast(error.message)
      }
      return null
    },
  },
})
