// A walk through the demo mall with the mini-program's own API client
// (utils/api.js) in node, against the server `make run` serves: 张伟 logs
// in, binds his phone, browses 普洱, takes his 满100减20 coupon, orders
// 2019 老班章 for pickup at 西湖店 with it and 1,000 points, pays through
// the fake WeChat and shows his pickup code; 西湖店's till hands the order
// over through the POS route, and the mall shows it picked up.
//
// Usage: node miniprogram/tools/walkthrough.js [--base http://127.0.0.1:8000]
//   [--database omni] [--shop 1] [--admin-password admin-omni-2026]
//   [--clerk-password clerk-a-2026]
'use strict'

const options = Object.assign({
  base: 'http://127.0.0.1:8000',
  database: 'omni',
  shop: '1',
  'admin-password': 'admin-omni-2026',
  'clerk-password': 'clerk-a-2026',
}, parseArgs(process.argv.slice(2)))

const MEMBER_PHONE = '13800138000'
const PRODUCT = 'LBZ2019'
const STORE = '西湖店'
const STORE_POSITION = {lat: 30.2592, lon: 120.1487}
const COUPON = '满100减20'
const POINTS = 1000
const CLERK = 'clerk_a'

function parseArgs(args) {
  const parsed = {}
  for (let i = 0; i < args.length; i += 2) {
    parsed[args[i].replace(/^--/, '')] = args[i + 1]
  }
  return parsed
}

// What the mini-program's runtime gives utils/api.js: storage, wx.login
// and wx.request over node's fetch
const storage = new Map()
let logins = 0
global.wx = {
  getStorageSync: key => storage.get(key) || '',
  setStorageSync: (key, value) => storage.set(key, value),
  removeStorageSync: key => storage.delete(key),
  getAccountInfoSync: () => ({miniProgram: {envVersion: 'develop'}}),
  login: ({success}) => success({code: `walk-${process.pid}-${Date.now()}-${++logins}`}),
  request({url, method, data, header, success, fail}) {
    fetch(url, {
      method,
      headers: header,
      body: data === undefined || method === 'GET' ? undefined : JSON.stringify(data),
    }).then(async response => {
      const text = await response.text()
      success({statusCode: response.status, data: text ? JSON.parse(text) : null})
    }, fail)
  },
}

const api = require('../utils/api')

let stepNumber = 0
function step(chinese, english) {
  stepNumber += 1
  console.log(`\n${stepNumber}. ${chinese} / ${english}`)
}

function say(text) {
  console.log(`   ${text}`)
}

function sleep(ms) {
  return new Promise(resolve => setTimeout(resolve, ms))
}

// Tryton's JSON-RPC, as the back office and the till use it
async function rpc(method, params, session) {
  const headers = {'Content-Type': 'application/json'}
  if (session) {
    headers.Authorization = 'Session ' + Buffer.from(
      `${session.login}:${session.user}:${session.key}`).toString('base64')
  }
  const response = await fetch(`${options.base}/${options.database}/rpc/`, {
    method: 'POST', headers, body: JSON.stringify({id: 1, method, params}),
  })
  const answer = await response.json()
  if (answer.error) throw new Error(`${method}: ${JSON.stringify(answer.error)}`)
  return answer.result
}

async function trytonLogin(login, password) {
  const [user, key] = await rpc('common.db.login', [login, {password}, 'zh_CN'])
  return {login, user, key}
}

// The till asks for its key of the pickup application, which a manager
// (here the administrator) validates in the back office
async function tillKey() {
  const response = await fetch(`${options.base}/${options.database}/user/application/`, {
    method: 'POST',
    headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({user: CLERK, application: 'omni_pickup'}),
  })
  const key = await response.json()
  const admin = await trytonLogin('admin', options['admin-password'])
  const ids = await rpc('model.res.user.application.search',
    [[['key', '=', key]], 0, null, null, {}], admin)
  await rpc('model.res.user.application.validate_', [ids, {}], admin)
  return key
}

async function pickupRoute(path, body, key) {
  const response = await fetch(`${options.base}/${options.database}/omni/pos/v1/pickup/${path}`, {
    method: 'POST',
    headers: {'Content-Type': 'application/json', Authorization: `bearer ${key}`},
    body: JSON.stringify(body),
  })
  const answer = await response.json()
  if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(answer)}`)
  return answer
}

function stockLine(product) {
  return product.stores.map(s => `${s.name} ${s.available}`).join('，')
}

async function main() {
  api.configure({baseUrl: options.base, database: options.database, shop: Number(options.shop)})

  step('登录', 'Log in with WeChat')
  const session = await api.login()
  say(`会话已建立，会员：${session.member ? '是' : '否（未绑定手机）'} / session open, member: ${session.member}`)

  step('绑定手机号', `Bind 张伟's phone`)
  const me = await api.bindPhone(`phone-${MEMBER_PHONE}`)
  const tier = await api.tier()
  const points = await api.points()
  say(`${me.member.name}（${me.member.mobile}），会员号 ${me.member.number}，${tier.tier ? tier.tier.name : '无等级'}，积分 ${points.balance}`)
  say(`found the store member ${me.member.name}, tier ${tier.tier ? tier.tier.name : '-'}, ${points.balance} points`)

  step('浏览普洱', 'Browse 普洱 with nearby stock')
  const categories = await api.categories()
  const puer = categories.items.find(c => c.name.startsWith('普洱'))
  const list = await api.products(Object.assign({category: puer.id}, STORE_POSITION))
  for (const item of list.items) {
    say(`${item.name}  ¥${item.price}  会员价 ¥${item.member_price}${item.nearby_stock ? '  附近门店有货' : ''}`)
  }
  const summary = list.items.find(item => item.code === PRODUCT)
  const product = await api.product(summary.id, STORE_POSITION)
  const store = product.stores.find(s => s.name === STORE)
  say(`${product.name}：${stockLine(product)}`)

  step(`领取${COUPON}`, `Claim the ${COUPON} coupon`)
  const campaign = (await api.coupons()).items.find(c => c.name === COUPON)
  let number = null
  try {
    number = (await api.claimCoupon(campaign.id)).number
    say(`领取成功，券号 ${number} / claimed ${number}`)
  } catch (error) {
    if (error.code !== 'coupon_limit_reached') throw error
    say(`${error.message}：用已领的券 / already held`)
  }
  const usable = (await api.myCoupons('usable')).items.filter(c => c.coupon === campaign.id)
  number = usable.length ? usable[0].number : null
  say(number ? `使用券号 ${number} / using ${number}` : '没有可用的券，不用券下单 / no usable coupon left')

  step(`下单：${product.name}，${STORE}自提`, `Order for pickup at ${STORE} with the coupon and ${POINTS} points`)
  const cart = {
    items: [{product: product.id, quantity: 1}],
    fulfilment: 'pickup',
    store: store.id,
    points: POINTS,
  }
  if (number) cart.coupon = number
  const {totals} = await api.preview(cart)
  say(`商品 ¥${totals.goods}，会员折扣 -¥${totals.tier_discount}，自提优惠 -¥${totals.pickup_discount}，` +
    `优惠券 -¥${totals.coupon_discount}，积分 ${totals.points} 抵 -¥${totals.points_value}，应付 ¥${totals.total}`)
  const created = await api.createOrder(cart, api.newIdempotencyKey())
  say(`订单 ${created.order.number}，应付 ¥${created.order.totals.total} / order ${created.order.number}, to pay ¥${created.order.totals.total}`)

  step('微信支付', 'Pay: the fake WeChat notifies the server')
  say(`wx.requestPayment(${created.payment.package})`)
  let order = created.order
  for (let i = 0; i < 60 && order.status !== 'paid'; i++) {
    await sleep(500)
    order = await api.order(order.id)
  }
  if (order.status !== 'paid') throw new Error(`order ${order.number} is ${order.status}`)
  say(`已支付 / paid`)

  step('取货码', 'The pickup code and its QR payload')
  const until = order.pickup.deadline ? `，${order.pickup.deadline} 前` : ''
  say(`取货码 ${order.pickup.code}，二维码 ${order.pickup.qr}${until}，到${STORE}取货`)
  say(`pickup code ${order.pickup.code}, QR payload ${order.pickup.qr}`)

  step(`${STORE}收银台核销`, `${STORE}'s till hands the order over`)
  const clerk = await trytonLogin(CLERK, options['clerk-password'])
  const [point] = await rpc('model.sale.point.search_read',
    [[['name', '=', `${STORE}收银台`]], 0, 1, null, ['name'], {}], clerk)
  const key = await tillKey()
  const verified = await pickupRoute('verify', {point: point.id, code: order.pickup.code}, key)
  say(`${point.name} 扫码：${verified.number}，${verified.member.name}，${verified.lines.map(l => `${l.product} × ${l.quantity}`).join('，')}`)
  const handed = await pickupRoute('handover', {point: point.id, code: order.pickup.code}, key)
  say(`已核销 / handed over: ${handed.pickup_state}`)

  step('商城里的订单和库存', 'The order in the mall and the stock everywhere')
  order = await api.order(order.id)
  say(`订单 ${order.number}：${order.status}`)
  say(`${product.name}：${stockLine(await api.product(product.id, STORE_POSITION))}`)
  if (order.status !== 'picked_up') throw new Error(`order ${order.number} is ${order.status}`)
  console.log('\n完成 / Done')
}

main().catch(error => {
  console.error(`\n失败 / Failed: ${error.message}`)
  process.exit(1)
})
