// wx.* for jest: requests answer from the recorded fixtures, the rest are
// jest.fn()s that succeed unless a test says otherwise.
const {FakeServer} = require('./fixtures')

const server = new FakeServer()
const storage = new Map()

function succeed(result) {
  return jest.fn(options => {
    const value = typeof result === 'function' ? result(options) : result
    Promise.resolve().then(() => {
      if (options.success) options.success(value)
      if (options.complete) options.complete(value)
    })
  })
}

function canvasContext() {
  const context = {
    calls: [],
    fillStyle: '#000000',
    setFillStyle: jest.fn(color => context.calls.push(['fillStyle', color])),
    fillRect: jest.fn((...args) => context.calls.push(['fillRect', context.fillStyle, ...args])),
    clearRect: jest.fn(),
    draw: jest.fn(),
  }
  return context
}

function mockWx() {
  global.wx = {
    request: jest.fn(options => server.handle(options)),
    login: succeed({code: 'wx-login-code', errMsg: 'login:ok'}),
    requestPayment: succeed({errMsg: 'requestPayment:ok'}),
    // Where the answers were recorded: near 西湖店, Hangzhou
    getLocation: succeed({latitude: 30.2592, longitude: 120.1487, errMsg: 'getLocation:ok'}),
    requestSubscribeMessage: succeed(options => Object.fromEntries(
      options.tmplIds.map(id => [id, 'accept']).concat([['errMsg', 'requestSubscribeMessage:ok']]))),
    chooseAddress: succeed({
      userName: '刘洋', telNumber: '13777152233', provinceName: '浙江省', cityName: '杭州市',
      countyName: '上城区', detailInfo: '解放路 18 号', postalCode: '310000', errMsg: 'chooseAddress:ok',
    }),
    openLocation: succeed({errMsg: 'openLocation:ok'}),
    previewImage: succeed({errMsg: 'previewImage:ok'}),
    showModal: succeed({confirm: true, cancel: false}),
    showToast: jest.fn(),
    showLoading: jest.fn(),
    hideLoading: jest.fn(),
    navigateTo: jest.fn(),
    redirectTo: jest.fn(),
    switchTab: jest.fn(),
    navigateBack: jest.fn(),
    stopPullDownRefresh: jest.fn(),
    setNavigationBarTitle: jest.fn(),
    setClipboardData: succeed({}),
    setScreenBrightness: jest.fn(),
    createCanvasContext: jest.fn(() => canvasContext()),
    getAccountInfoSync: () => ({miniProgram: {envVersion: 'develop', appId: 'wx0000000000000000'}}),
    getStorageSync: key => (storage.has(key) ? storage.get(key) : ''),
    setStorageSync: (key, value) => storage.set(key, JSON.parse(JSON.stringify(value))),
    removeStorageSync: key => storage.delete(key),
  }
}

mockWx()
// Adds the built-in components and the rest of wx; ours above win.
const simulate = require('miniprogram-simulate')
// <image> keeps its src and mode, for the tests to read
simulate.load({
  id: 'image', tagName: 'wx-image', template: '<slot/>',
  properties: {src: {type: String, value: ''}, mode: {type: String, value: ''}},
})
const api = require('../utils/api')

api.configure({baseUrl: 'https://mall.test', database: 'omni', shop: 1})
global.server = server

beforeEach(() => {
  server.reset()
  storage.clear()
  Object.keys(global.wx).forEach(key => {
    if (jest.isMockFunction(global.wx[key])) global.wx[key].mockClear()
  })
})
