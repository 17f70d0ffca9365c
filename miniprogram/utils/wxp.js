// wx's callback APIs as promises.
function call(name, options) {
  return new Promise((resolve, reject) => {
    wx[name](Object.assign({}, options, {success: resolve, fail: reject}))
  })
}

function toast(title, icon = 'none') {
  wx.showToast({title, icon, duration: 2500})
}

// Resolves to whether the user confirmed.
function confirm(title, content, options = {}) {
  return call('showModal', Object.assign({title, content}, options))
    .then(result => Boolean(result.confirm))
}

function alert(title, content) {
  return call('showModal', {title, content, showCancel: false})
}

module.exports = {call, toast, confirm, alert}
