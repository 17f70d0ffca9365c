// Consent for the pickup notices (ready for pickup, about to expire). The
// answer never blocks the flow that asks.
const config = require('../config')

function askPickupNotices() {
  const {pickupReady, pickupExpiry} = config.subscribeTemplates
  return new Promise(resolve => {
    wx.requestSubscribeMessage({
      tmplIds: [pickupReady, pickupExpiry],
      success: result => resolve(result[pickupReady] === 'accept' || result[pickupExpiry] === 'accept'),
      fail: () => resolve(false),
    })
  })
}

module.exports = {askPickupNotices}
