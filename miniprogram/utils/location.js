// The customer's position for "附近门店有货" and store distances. Asked once
// and kept for ten minutes; a refusal leaves the mall usable without it.
const KEY = 'omni_location'
const MAX_AGE = 10 * 60 * 1000

function cached() {
  const saved = wx.getStorageSync(KEY)
  return saved && Date.now() - saved.at < MAX_AGE ? saved : null
}

function locate() {
  const saved = cached()
  if (saved) return Promise.resolve({lat: saved.lat, lon: saved.lon})
  return new Promise(resolve => {
    wx.getLocation({
      type: 'gcj02',
      success: ({latitude, longitude}) => {
        wx.setStorageSync(KEY, {lat: latitude, lon: longitude, at: Date.now()})
        resolve({lat: latitude, lon: longitude})
      },
      fail: () => resolve(null),
    })
  })
}

module.exports = {locate}
