// A product in the catalogue list.
const format = require('../../utils/format')

Component({
  properties: {
    product: {type: Object, value: null, observer: 'show'},
  },
  data: {
    price: '',
    memberPrice: '',
    soldOut: false,
  },
  methods: {
    show(product) {
      if (!product) return
      this.setData({
        price: format.money(product.price),
        memberPrice: product.member_price ? format.money(product.member_price) : '',
        soldOut: product.available <= 0,
      })
    },
    open() {
      wx.navigateTo({url: `/pages/product/index?id=${this.data.product.id}`})
    },
  },
})
