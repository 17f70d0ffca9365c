// Pays an order with the parameters of the API; tells how it went.
const wxp = require('./wxp')

async function pay(payment) {
  if (!payment) return {paid: true}
  try {
    await wxp.call('requestPayment', {
      timeStamp: payment.timeStamp,
      nonceStr: payment.nonceStr,
      package: payment.package,
      signType: payment.signType,
      paySign: payment.paySign,
    })
    return {paid: true}
  } catch (error) {
    const cancelled = /cancel/.test((error && error.errMsg) || '')
    return {
      paid: false,
      message: cancelled ? '您已取消支付，可在订单详情中继续支付' : '支付失败，请稍后在订单详情中重试',
    }
  }
}

module.exports = {pay}
