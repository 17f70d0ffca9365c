// A purchase at a till, opened by the QR code of its printed receipt:
// WeChat opens the page with the scanned link in options.q
// (<receipt link prefix>?n=<number>), or another page with options.number.
const api = require('../../utils/api')
const format = require('../../utils/format')

// The receipt's number of the page's options, or ''
function receiptNumber(options) {
  if (options.number) return String(options.number)
  if (!options.q) return ''
  let link
  try {
    link = decodeURIComponent(options.q)
  } catch (error) {
    return ''
  }
  const match = /[?&]n=([^&#]*)/.exec(link)
  if (!match) return ''
  try {
    return decodeURIComponent(match[1].replace(/\+/g, ' ')).trim()
  } catch (error) {
    return ''
  }
}

Component({
  data: {
    receipt: null,
    lines: [],
    payments: [],
    couponDiscount: '',
    total: '',
    error: '',
    needPhone: false,
  },
  methods: {
    onLoad(options) {
      this.number = receiptNumber(options || {})
      return this.load()
    },
    async load() {
      if (!this.number) {
        this.setData({error: '小票二维码无效'})
        return
      }
      try {
        this.show(await api.receipt(this.number))
      } catch (error) {
        this.setData({
          receipt: null,
          error: error.message,
          needPhone: error.code === 'phone_required',
        })
      }
    },
    show(receipt) {
      this.setData({
        receipt,
        lines: receipt.lines.map(line => Object.assign({}, line, {
          unit_price: format.money(line.unit_price), amount: format.money(line.amount),
        })),
        payments: receipt.payments.map(p => Object.assign({}, p, {amount: format.money(p.amount)})),
        couponDiscount: Number(receipt.coupon_discount) ? format.money(receipt.coupon_discount) : '',
        total: format.money(receipt.total),
        error: '',
        needPhone: false,
      })
    },
    bindPhone() {
      wx.switchTab({url: '/pages/member/index'})
    },
  },
})
