// Cart and checkout: delivery address or pickup store, coupon, points,
// the totals of the server's quote, then the order and its WeChat payment.
const api = require('../../utils/api')
const cart = require('../../utils/cart')
const format = require('../../utils/format')
const location = require('../../utils/location')
const payment = require('../../utils/payment')
const subscribe = require('../../utils/subscribe')
const wxp = require('../../utils/wxp')

const TOTAL_LABELS = [
  ['goods', '商品金额'], ['tier_discount', '会员折扣'], ['pickup_discount', '自提优惠'],
  ['coupon_discount', '优惠券'], ['points_value', '积分抵扣'],
]

Component({
  data: {
    items: [],
    fulfilment: 'delivery',
    store: 0,
    stores: [],
    address: null,
    coupons: [],
    coupon: '',
    balance: 0,
    maxPoints: 0,
    points: 0,
    goods: '0.00',
    totals: [],
    total: '',
    error: '',
    needPhone: false,
    paying: false,
  },
  methods: {
    onShow() {
      const saved = cart.load()
      this.setData({items: saved.items, fulfilment: saved.fulfilment, store: saved.store || 0, error: ''})
      if (!saved.items.length) return Promise.resolve()
      return Promise.all([this.loadStores(), this.loadWallet()]).then(() => this.preview())
    },
    async loadStores() {
      const position = (await location.locate()) || {}
      const products = await Promise.all(this.data.items.map(item => api.product(item.product, position)))
      const stores = products[0].stores
        .filter(store => products.every((product, i) => {
          const stock = product.stores.find(s => s.id === store.id)
          return stock && stock.available >= this.data.items[i].quantity
        }))
        .map(store => Object.assign({}, store, {distance: format.distance(store.distance_km)}))
      const store = stores.some(s => s.id === this.data.store) ? this.data.store : (stores[0] ? stores[0].id : 0)
      this.setData({stores, store})
    },
    async loadWallet() {
      try {
        const [coupons, points] = await Promise.all([api.myCoupons('usable'), api.points({per_page: 1})])
        this.pointRules = points
        this.setData({coupons: coupons.items, balance: points.balance, needPhone: false})
      } catch (error) {
        if (error.code !== 'phone_required') throw error
        this.setData({needPhone: true})
      }
    },
    request() {
      const {items, fulfilment, store, address, coupon, points} = this.data
      const body = {items: items.map(i => ({product: i.product, quantity: i.quantity})), fulfilment}
      if (fulfilment === 'pickup' && store) body.store = store
      if (fulfilment === 'delivery' && address) body.address = address
      if (coupon) body.coupon = coupon
      if (points) body.points = points
      return body
    },
    // Every change of the cart prices it again and needs a new order key.
    async preview() {
      this.key = null
      try {
        const quote = await api.preview(this.request())
        this.showQuote(quote)
      } catch (error) {
        this.setData({error: error.message, needPhone: error.code === 'phone_required'})
      }
    },
    showQuote(quote) {
      const {totals} = quote
      const rules = this.pointRules
      let maxPoints = 0
      if (rules) {
        const beforePoints = Number(totals.total) + Number(totals.points_value)
        const cap = beforePoints * Number(rules.redeem_cap_percent) / 100
        maxPoints = Math.min(rules.balance, Math.floor(cap / Number(rules.value_per_100) * 100))
      }
      this.setData({
        goods: totals.goods,
        totals: TOTAL_LABELS.filter(([key]) => Number(totals[key]) > 0 || key === 'goods')
          .map(([key, label]) => ({key, label, amount: (key === 'goods' ? '' : '-') + format.money(totals[key])})),
        total: format.money(totals.total),
        maxPoints,
        error: '',
      })
    },
    changeQuantity(event) {
      const {product, step} = event.currentTarget.dataset
      const item = this.data.items.find(i => i.product === product)
      const saved = cart.setQuantity(product, item.quantity + Number(step))
      this.setData({items: saved.items})
      return saved.items.length ? this.preview() : null
    },
    chooseFulfilment(event) {
      const fulfilment = event.currentTarget.dataset.value
      cart.choose(fulfilment, this.data.store)
      this.setData({fulfilment})
      return this.preview()
    },
    chooseStore(event) {
      const store = Number(event.currentTarget.dataset.id)
      cart.choose('pickup', store)
      this.setData({store})
      return this.preview()
    },
    async chooseAddress() {
      try {
        const a = await wxp.call('chooseAddress')
        this.setData({
          address: {
            name: a.userName,
            phone: a.telNumber,
            region: [a.provinceName, a.cityName, a.countyName].join(' '),
            street: a.detailInfo,
            postal_code: a.postalCode,
          },
        })
        return this.preview()
      } catch (error) {
        return null
      }
    },
    chooseCoupon(event) {
      this.setData({coupon: event.detail.number})
      return this.preview()
    },
    choosePoints(event) {
      this.setData({points: event.detail.value})
      return this.preview()
    },
    bindPhone() {
      wx.switchTab({url: '/pages/member/index'})
    },
    async pay() {
      const {fulfilment, store, address, paying} = this.data
      if (paying) return
      if (fulfilment === 'pickup' && !store) return wxp.toast('请选择自提门店')
      if (fulfilment === 'delivery' && !address) return wxp.toast('请选择收货地址')
      // A retry after a lost answer sends the same key: one order at most.
      this.key = this.key || api.newIdempotencyKey()
      this.setData({paying: true})
      try {
        await this.order()
      } finally {
        this.setData({paying: false})
      }
    },
    async order() {
      let answer
      try {
        answer = await api.createOrder(this.request(), this.key)
      } catch (error) {
        if (error.code === 'out_of_stock') {
          await wxp.alert('库存不足', error.message)
          await this.onShow()
        } else {
          wxp.toast(error.message)
        }
        return
      }
      this.key = null
      cart.clear()
      const result = await payment.pay(answer.payment)
      if (!result.paid) {
        await wxp.alert('支付未完成', result.message)
      } else if (answer.order.fulfilment === 'pickup') {
        await subscribe.askPickupNotices()
      }
      wx.navigateTo({url: `/pages/order/index?id=${answer.order.id}`})
    },
  },
})
