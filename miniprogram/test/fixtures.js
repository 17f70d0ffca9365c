// The API answers recorded on the tea demo (tests/mall_recording.py writes
// them) and a fake server that replays them to wx.request.
const fs = require('fs')
const path = require('path')

const DIR = path.join(__dirname, 'fixtures', 'recorded')
const BASE = 'https://mall.test/omni/omni/mp/v1'
// The recordings' dates are moved to this day when recorded
// (REFERENCE_DAY of tests/mall_recording.py); loading moves them to today.
const REFERENCE_DAY = Date.UTC(2026, 0, 1)
const DAY = 24 * 60 * 60 * 1000
const DATE = /^(\d{4})-(\d{2})-(\d{2})((?:T| )\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/

function today() {
  const now = new Date()
  return Date.UTC(now.getFullYear(), now.getMonth(), now.getDate())
}

function shift(value, days) {
  if (Array.isArray(value)) return value.map(item => shift(item, days))
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shift(v, days)]))
  }
  const match = typeof value === 'string' && DATE.exec(value)
  if (!match) return value
  const day = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) + days * DAY)
  return day.toISOString().slice(0, 10) + (match[4] || '')
}

function load(name) {
  const recording = JSON.parse(fs.readFileSync(path.join(DIR, `${name}.json`), 'utf8'))
  return shift(recording, Math.round((today() - REFERENCE_DAY) / DAY))
}

function all() {
  return fs.readdirSync(DIR).filter(file => file.endsWith('.json'))
    .map(file => Object.assign({name: file.slice(0, -5)}, load(file.slice(0, -5))))
}

// The answer of each operation unless a test queues another.
const DEFAULTS = [
  'login', 'me', 'me_phone', 'member_code', 'categories', 'products', 'product',
  'checkout_preview', 'order_created', 'orders', 'order_pickup_ready', 'order_pay',
  'order_cancel_refunding', 'points', 'tier', 'sign_in', 'coupons', 'coupon_claim',
  'my_coupons',
]

function pattern(operation) {
  const [method, route] = operation.split(' ')
  const regex = route.replace(/\{[^}]+\}/g, '[^/]+')
  return {method, regex: new RegExp(`^${regex}$`)}
}

class FakeServer {
  constructor() {
    this.reset()
  }

  reset() {
    this.requests = []
    this.queued = []
    this.defaults = DEFAULTS.map(name => Object.assign({name}, load(name)))
  }

  // The next request of the fixture's operation gets this fixture (or a
  // network failure for {fail: operation}).
  queue(...names) {
    names.forEach(name => {
      this.queued.push(typeof name === 'string' ? Object.assign({name}, load(name)) : name)
    })
  }

  find(method, route) {
    const matches = fixture => {
      const {method: m, regex} = pattern(fixture.operation || fixture.fail)
      return m === method && regex.test(route)
    }
    const index = this.queued.findIndex(matches)
    if (index >= 0) return this.queued.splice(index, 1)[0]
    return this.defaults.find(matches)
  }

  handle(options) {
    const url = new URL(options.url)
    const route = options.url.slice(BASE.length).split('?')[0]
    const request = {
      method: options.method || 'GET',
      route,
      query: Object.fromEntries(url.searchParams),
      data: options.data,
      header: Object.assign({}, options.header),
    }
    this.requests.push(request)
    const fixture = options.url.startsWith(BASE) && this.find(request.method, route)
    Promise.resolve().then(() => {
      if (!fixture) {
        options.fail({errMsg: `request:fail no fixture for ${request.method} ${route}`})
      } else if (fixture.fail) {
        options.fail({errMsg: 'request:fail timeout'})
      } else {
        options.success({statusCode: fixture.status, data: JSON.parse(JSON.stringify(fixture.body)), header: {}})
      }
    })
  }

  sent(method, route) {
    return this.requests.filter(r => r.method === method && (route === undefined || r.route === route))
  }
}

module.exports = {BASE, load, all, shift, FakeServer}
