// The rotating member code as QR code, barcode and digits. It asks for a
// new code when the server says (refresh_in), before the old one expires,
// and only while the page is shown.
const api = require('../../utils/api')

const RETRY_AFTER = 5000

Component({
  data: {
    code: '',
    digits: '',
    error: '',
  },
  lifetimes: {
    attached() {
      this.refresh()
    },
    detached() {
      this.stop()
    },
  },
  pageLifetimes: {
    show() {
      this.refresh()
    },
    hide() {
      this.stop()
    },
  },
  methods: {
    stop() {
      clearTimeout(this.timer)
      this.timer = null
    },
    schedule(ms) {
      this.stop()
      this.timer = setTimeout(() => this.refresh(), ms)
    },
    async refresh() {
      this.stop()
      try {
        const answer = await api.memberCode()
        this.setData({
          code: answer.code,
          digits: answer.code.replace(/(\d{4})(?=\d)/g, '$1 '),
          error: '',
        })
        this.schedule(answer.refresh_in * 1000)
      } catch (error) {
        this.setData({code: '', digits: '', error: error.message})
        if (error.code !== 'phone_required') this.schedule(RETRY_AFTER)
      }
    },
  },
})
