// A product: its pictures, description, stock in each store with its
// distance, delivery or pickup with its discount.
const api = require('../../utils/api')
const cart = require('../../utils/cart')
const format = require('../../utils/format')
const location = require('../../utils/location')

Component({
  data: {
    product: null,
    images: [],
    stores: [],
    fulfilment: 'delivery',
    store: 0,
    quantity: 1,
    prices: {},
    error: '',
  },
  methods: {
    async onLoad(query) {
      const position = await location.locate()
      try {
        const product = await api.product(query.id, position || {})
        const stores = product.stores.map(s => Object.assign({}, s, {
          distance: format.distance(s.distance_km),
          nearby: s.distance_km !== null && s.distance_km <= product.nearby_radius_km,
        }))
        const first = stores.find(s => s.available > 0)
        this.setData({
          product,
          images: product.images.map(image => ({
            id: image.id, src: api.imageUrl(image.url), description: image.description,
          })),
          stores,
          store: first ? first.id : 0,
          prices: {
            price: format.money(product.price),
            member: product.member_price ? format.money(product.member_price) : '',
            pickup: format.money(product.pickup_price),
            discount: format.discountLabel(product.pickup_discount),
          },
        })
      } catch (error) {
        this.setData({error: error.message})
      }
    },
    // Full screen, swiping through all of them
    previewImage(event) {
      const urls = this.data.images.map(image => image.src)
      wx.previewImage({current: urls[Number(event.currentTarget.dataset.index)], urls})
    },
    chooseFulfilment(event) {
      this.setData({fulfilment: event.currentTarget.dataset.value})
    },
    chooseStore(event) {
      this.setData({store: Number(event.currentTarget.dataset.id)})
    },
    changeQuantity(event) {
      const quantity = this.data.quantity + Number(event.currentTarget.dataset.step)
      this.setData({quantity: Math.max(1, Math.min(999, quantity))})
    },
    addToCart() {
      const {product, quantity, fulfilment, store} = this.data
      cart.add(product, quantity)
      cart.choose(fulfilment, fulfilment === 'pickup' ? store : null)
      wx.showToast({title: '已加入购物车', icon: 'success'})
    },
    buyNow() {
      this.addToCart()
      wx.switchTab({url: '/pages/cart/index'})
    },
  },
})
