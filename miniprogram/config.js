// The server each build talks to, chosen by the mini-program's version:
// develop (WeChat DevTools and preview), trial and release.
// Set baseUrl to the HTTPS origin that serves Tryton (it must be one of the
// app's request domains), database to the Tryton database and shop to the
// id of the web shop of type "mini-program".
const environments = {
  develop: {
    baseUrl: 'http://127.0.0.1:8000',
    database: 'omni',
    shop: 1,
  },
  trial: {
    baseUrl: 'https://mall-test.example.com',
    database: 'omni',
    shop: 1,
  },
  release: {
    baseUrl: 'https://mall.example.com',
    database: 'omni',
    shop: 1,
  },
}

// The subscribe-message templates chosen in the mini-program's admin.
const subscribeTemplates = {
  pickupReady: 'PICKUP_READY_TEMPLATE_ID',
  pickupExpiry: 'PICKUP_EXPIRY_TEMPLATE_ID',
}

function envVersion() {
  try {
    return wx.getAccountInfoSync().miniProgram.envVersion || 'release'
  } catch (error) {
    return 'release'
  }
}

function current() {
  return environments[envVersion()] || environments.release
}

module.exports = {environments, subscribeTemplates, current}
