// Home and catalogue: categories, search and the products, with the
// "附近门店有货" badge when the customer shares the location.
const api = require('../../utils/api')
const location = require('../../utils/location')

const PER_PAGE = 20

Component({
  data: {
    categories: [],
    category: 0,
    q: '',
    products: [],
    page: 1,
    total: 0,
    located: true,
    error: '',
  },
  methods: {
    async onLoad() {
      this.position = await location.locate()
      this.setData({located: Boolean(this.position)})
      await Promise.all([this.loadCategories(), this.loadProducts(1)])
    },
    onPullDownRefresh() {
      return this.loadProducts(1).then(() => wx.stopPullDownRefresh())
    },
    onReachBottom() {
      if (this.data.products.length < this.data.total) return this.loadProducts(this.data.page + 1)
      return null
    },
    async loadCategories() {
      try {
        const {items} = await api.categories()
        this.setData({categories: items.filter(c => c.parent === null)})
      } catch (error) {
        this.setData({error: error.message})
      }
    },
    async loadProducts(page) {
      const query = {page, per_page: PER_PAGE, q: this.data.q, category: this.data.category || undefined}
      if (this.position) Object.assign(query, this.position)
      try {
        const answer = await api.products(query)
        const products = page === 1 ? answer.items : this.data.products.concat(answer.items)
        this.setData({products, page, total: answer.total, error: ''})
      } catch (error) {
        this.setData({error: error.message})
      }
    },
    chooseCategory(event) {
      this.setData({category: Number(event.currentTarget.dataset.id)})
      return this.loadProducts(1)
    },
    search(event) {
      this.setData({q: event.detail.value.trim()})
      return this.loadProducts(1)
    },
    async retryLocation() {
      this.position = await location.locate()
      this.setData({located: Boolean(this.position)})
      return this.loadProducts(1)
    },
  },
})
