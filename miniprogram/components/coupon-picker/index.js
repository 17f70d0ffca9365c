// Picks one of the member's coupons that this order can use: accepted in
// the mall and whose minimum the goods reach.
const format = require('../../utils/format')

Component({
  properties: {
    coupons: {type: Array, value: []},
    goods: {type: String, value: '0.00'},
    selected: {type: String, value: ''},
  },
  data: {
    usable: [],
    open: false,
    label: '',
  },
  observers: {
    'coupons, goods, selected'(coupons, goods, selected) {
      const usable = coupons
        .filter(c => (c.channels.length === 0 || c.channels.includes('mall')) &&
          Number(c.minimum) <= Number(goods))
        .map(c => Object.assign({}, c, {
          text: `满${format.money(c.minimum)}减${format.money(c.discount)}`,
          until: c.end_date ? `有效期至 ${c.end_date}` : '长期有效',
        }))
      const chosen = usable.find(c => c.number === selected)
      this.setData({
        usable,
        label: chosen ? chosen.name : (usable.length ? `${usable.length} 张可用` : '无可用优惠券'),
      })
    },
  },
  methods: {
    toggle() {
      this.setData({open: !this.data.open})
    },
    pick(event) {
      this.setData({open: false})
      this.triggerEvent('change', {number: event.currentTarget.dataset.number || ''})
    },
  },
})
