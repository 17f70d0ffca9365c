// A product in the catalogue list, with its thumbnail.
const api = require('../../utils/api')
const format = require('../../utils/format')

Component({
  properties: {
    product: {type: Object, value: null, observer: 'show'},
  },
  data: {
    price: '',
    memberPrice: '',
    soldOut: false,
    thumbnail: '',
  },
  methods: {
    show(product) {
      if (!product) return
      this.setData({
        price: format.money(product.price),
        memberPrice: product.member_price ? format.money(product.member_price) : '',
        soldOut: product.available <= 0,
        thumbnail: api.imageUrl(product.thumbnail),
      })
    },
    open() {
      wx.navigateTo({url: `/pages/product/index?id=${this.data.product.id}`})
    },
  },
})
