// How amounts, dates and states read in the mall.
const ORDER_STATUS = {
  awaiting_payment: '待付款',
  paid: '已付款',
  ready: '待取货',
  shipped: '已发货',
  picked_up: '已取货',
  done: '已完成',
  cancelled: '已取消',
  expired: '已过期',
  refunding: '退款中',
  refunded: '已退款',
}

const FULFILMENT = {delivery: '快递配送', pickup: '到店自提'}

function money(amount) {
  return `¥${Number(amount).toFixed(2)}`
}

function pad(n) {
  return String(n).padStart(2, '0')
}

// Local date and time of an ISO timestamp, e.g. 2024-05-20 10:15.
function dateTime(iso) {
  if (!iso) return ''
  const d = new Date(iso)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`
}

function distance(km) {
  if (km === null || km === undefined) return ''
  return km < 1 ? `${Math.round(km * 1000)} m` : `${km.toFixed(1)} km`
}

// "0.1" off → "9折", "0.15" → "8.5折"
function discountLabel(share) {
  return `${Math.round((1 - Number(share)) * 100) / 10}折`
}

module.exports = {ORDER_STATUS, FULFILMENT, money, dateTime, distance, discountLabel}
