// The one client of the mall API: wraps wx.request, keeps the session token,
// retries what is safe to retry and turns error codes into Chinese messages.
const config = require('../config')

const TOKEN_KEY = 'omni_session'
const RETRY_DELAYS = [300, 1000]
const RETRY_STATUSES = [502, 503, 504]

const MESSAGES = {
  network: '网络不给力，请检查网络后重试',
  unknown: '服务繁忙，请稍后再试',
  unauthorized: '登录已过期，请重新登录',
  invalid_wechat_code: '微信登录失败，请重试',
  wechat_unavailable: '微信服务暂时不可用，请稍后再试',
  wechat_bound_elsewhere: '该微信已绑定其他会员',
  invalid_mobile: '手机号无效',
  phone_required: '请先绑定手机号成为会员',
  shop_not_found: '商城暂未开放',
  product_not_found: '商品已下架',
  not_found: '内容不存在或已删除',
  invalid_request: '请求有误，请检查后重试',
  invalid_json: '请求有误，请检查后重试',
  payload_too_large: '内容太多，请减少后重试',
  busy: '当前人数较多，请稍后再试',
  internal_error: '服务繁忙，请稍后再试',
  out_of_stock: '手慢了，商品已售罄',
  coupon_not_found: '优惠券不存在',
  coupon_ended: '优惠券活动已结束',
  coupon_limit_reached: '已达到领取上限',
  rate_limited: '操作太频繁，请稍后再试',
  too_many_unpaid_orders: '您有待支付的订单，请先支付或取消',
  quantity_limit: '超出每单限购数量',
  purchase_limit: '已达到该商品的限购数量',
  receipt_not_found: '找不到这张小票，请确认是您本人的消费',
}

class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message)
    this.status = status
    this.code = code
    this.details = details || null
  }
}

let overrides = {}

// Tests and the debug panel point the client at another server.
function configure(settings) {
  overrides = Object.assign({}, settings)
}

function settings() {
  return Object.assign({}, config.current(), overrides)
}

function root() {
  const {baseUrl, database} = settings()
  return `${baseUrl.replace(/\/+$/, '')}/${database}/omni/mp/v1`
}

// The catalog's image URLs are paths below the API's root; they name the
// shop, so <image> loads them without the session header.
function imageUrl(path) {
  return path ? root() + path : ''
}

function token() {
  const session = wx.getStorageSync(TOKEN_KEY)
  if (!session || Date.parse(session.expires_at) <= Date.now()) return null
  return session.token
}

function queryString(query) {
  const pairs = Object.keys(query || {})
    .filter(key => query[key] !== undefined && query[key] !== null && query[key] !== '')
    .map(key => `${encodeURIComponent(key)}=${encodeURIComponent(query[key])}`)
  return pairs.length ? `?${pairs.join('&')}` : ''
}

function messageOf(code, body) {
  if (code === 'out_of_stock' && body.details) return outOfStockMessage(body.details)
  return MESSAGES[code] || body.message || MESSAGES.unknown
}

// details: {product: {id, name}, stores: [{id, name, available}]}
function outOfStockMessage(details) {
  const product = details.product && details.product.name
  const stores = (details.stores || []).map(store => store.name)
  let message = product ? `手慢了，${product} 库存不足` : MESSAGES.out_of_stock
  if (stores.length) message += `，${stores.join('、')} 有货`
  return message
}

function send(options) {
  return new Promise(resolve => {
    wx.request({
      url: options.url,
      method: options.method,
      data: options.data,
      header: options.header,
      timeout: 15000,
      success: response => resolve({status: response.statusCode, body: response.data}),
      fail: error => resolve({status: 0, body: null, error}),
    })
  })
}

function sleep(ms) {
  return new Promise(resolve => setTimeout(resolve, ms))
}

// Only reads and requests carrying an Idempotency-Key may be sent twice.
function retryable(method, header) {
  return method === 'GET' || Boolean(header['Idempotency-Key'])
}

async function exchange(method, path, {query, data, header}) {
  const url = root() + path + queryString(query)
  let attempt = 0
  for (;;) {
    const response = await send({url, method, data, header})
    const failed = response.status === 0 || RETRY_STATUSES.includes(response.status)
    if (!failed || !retryable(method, header) || attempt >= RETRY_DELAYS.length) {
      return response
    }
    await sleep(RETRY_DELAYS[attempt])
    attempt += 1
  }
}

function toResult(response) {
  const {status, body} = response
  if (status === 0) throw new ApiError(0, 'network', MESSAGES.network)
  if (status >= 200 && status < 300) return body
  const code = (body && body.code) || 'unknown'
  throw new ApiError(status, code, messageOf(code, body || {}), body && body.details)
}

function wxLogin() {
  return new Promise((resolve, reject) => {
    wx.login({
      success: result => resolve(result.code),
      fail: () => reject(new ApiError(0, 'invalid_wechat_code', MESSAGES.invalid_wechat_code)),
    })
  })
}

let pendingLogin = null

// Opens a session with the code of wx.login; the answer tells whether the
// phone is already bound (member). Concurrent callers share one login.
function login() {
  if (!pendingLogin) {
    pendingLogin = openSession().finally(() => {
      pendingLogin = null
    })
  }
  return pendingLogin
}

async function openSession() {
  const code = await wxLogin()
  const body = toResult(await exchange('POST', '/login', {
    data: {shop: settings().shop, code},
    header: {'Content-Type': 'application/json'},
  }))
  wx.setStorageSync(TOKEN_KEY, {token: body.token, expires_at: body.expires_at})
  return body
}

function logout() {
  wx.removeStorageSync(TOKEN_KEY)
}

// auth: 'required' logs in first and once more after a 401; 'optional'
// sends the token when there is one (the catalogue works for guests).
async function request(method, path, options = {}) {
  const auth = options.auth || 'required'
  const header = Object.assign({'Content-Type': 'application/json'}, options.header)
  const query = Object.assign({}, options.query)
  if (auth === 'required' && !token()) await login()
  if (token()) header.Authorization = `Bearer ${token()}`
  else query.shop = settings().shop
  let response = await exchange(method, path, {query, data: options.data, header})
  if (response.status === 401 && auth === 'required') {
    logout()
    await login()
    header.Authorization = `Bearer ${token()}`
    response = await exchange(method, path, {query, data: options.data, header})
  }
  return toResult(response)
}

function newIdempotencyKey() {
  const random = Math.random().toString(36).slice(2, 12)
  return `mp-${Date.now().toString(36)}-${random}`
}

const get = (path, query, auth) => request('GET', path, {query, auth})
const post = (path, data, header) => request('POST', path, {data, header})

module.exports = {
  ApiError,
  MESSAGES,
  configure,
  root,
  imageUrl,
  token,
  login,
  logout,
  request,
  newIdempotencyKey,
  categories: () => get('/catalog/categories', {}, 'optional'),
  products: query => get('/catalog/products', query, 'optional'),
  product: (id, query) => get(`/catalog/products/${id}`, query, 'optional'),
  me: () => get('/me'),
  bindPhone: code => post('/me/phone', {code}),
  memberCode: () => get('/me/code'),
  points: query => get('/me/points', query),
  tier: () => get('/me/tier'),
  signIn: () => post('/me/sign-in'),
  coupons: () => get('/coupons'),
  claimCoupon: id => post(`/coupons/${id}/claim`),
  myCoupons: status => get('/me/coupons', {status}),
  preview: cart => post('/checkout/preview', cart),
  createOrder: (cart, key) => post('/orders', cart, {'Idempotency-Key': key}),
  orders: query => get('/orders', query),
  order: id => get(`/orders/${id}`),
  payOrder: id => post(`/orders/${id}/pay`),
  cancelOrder: id => post(`/orders/${id}/cancel`),
  receipt: number => get(`/me/receipts/${encodeURIComponent(number)}`),
}
