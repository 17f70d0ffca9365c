const {page, flush, text, tap, fire} = require('./render')

describe('home page', () => {
  test('asks for the location and shows categories, prices and the nearby badge', async () => {
    const home = page('index')
    await home.instance.onLoad({})
    expect(wx.getLocation).toHaveBeenCalled()
    const [request] = server.sent('GET', '/catalog/products')
    expect(request.query).toMatchObject({lat: '31.2304', lon: '121.4737', page: '1', shop: '1'})
    const shown = text(home)
    expect(shown).toContain('生鲜')
    expect(shown).toContain('烘焙')
    expect(shown).not.toContain('乳品')
    expect(shown).toContain('会员价 ¥11.61')
    expect(home.querySelectorAll('.product')).toHaveLength(3)
    expect(shown.match(/附近门店有货/g)).toHaveLength(1)
    expect(shown).not.toContain('未获取到位置')
  })

  test('without the location the catalogue still loads and says why no badge', async () => {
    wx.getLocation.mockImplementationOnce(options => options.fail({errMsg: 'getLocation:fail auth deny'}))
    const home = page('index')
    await home.instance.onLoad({})
    expect(server.sent('GET', '/catalog/products')[0].query.lat).toBeUndefined()
    expect(text(home)).toContain('未获取到位置')
    expect(home.querySelectorAll('.product')).toHaveLength(3)
  })

  test('searches and filters by category', async () => {
    const home = page('index')
    await home.instance.onLoad({})
    server.queue('products_search')
    await fire(home, '.search-input', 'confirm', {value: ' 吐司 '})
    expect(server.sent('GET', '/catalog/products')[1].query.q).toBe('吐司')
    expect(home.querySelectorAll('.product')).toHaveLength(1)
    await tap(home, '#category-3')
    expect(server.sent('GET', '/catalog/products')[2].query).toMatchObject({q: '吐司', category: '3'})
  })

  test('a failure shows its message', async () => {
    server.queue(...Array(3).fill({fail: 'GET /catalog/products'}))
    jest.useFakeTimers()
    const home = page('index')
    const loading = home.instance.onLoad({})
    await jest.runAllTimersAsync()
    await loading
    jest.useRealTimers()
    expect(text(home)).toContain('网络不给力，请检查网络后重试')
  })
})

describe('product page', () => {
  test('shows the stores nearest first with distance and stock, and the pickup discount', async () => {
    const product = page('product')
    await product.instance.onLoad({id: '11'})
    expect(server.sent('GET', '/catalog/products/11')[0].query).toMatchObject({lat: '31.2304', lon: '121.4737'})
    const shown = text(product)
    expect(shown).toContain('每100毫升含3.6克蛋白质')
    expect(shown).toContain('到店自提 ¥10.45（9折）')
    expect(shown).toMatch(/静安寺店附近.*800 m有货 30/)
    expect(shown).toMatch(/徐家汇店附近.*3\.6 km有货 12/)
    expect(shown).toMatch(/世纪大道店上海.*9\.8 km无货/)
  })

  test('adds to the cart with the chosen pickup store', async () => {
    const product = page('product')
    await product.instance.onLoad({id: '11'})
    await tap(product, '.option.pickup')
    await tap(product, '#store-4')
    await tap(product, '.plus')
    await tap(product, '.add')
    expect(wx.getStorageSync('omni_cart')).toEqual({
      items: [{product: 11, name: '有机纯牛奶 1L', price: '12.90', quantity: 2}],
      fulfilment: 'pickup',
      store: 4,
    })
    await tap(product, '.buy')
    expect(wx.switchTab).toHaveBeenCalledWith({url: '/pages/cart/index'})
    expect(wx.getStorageSync('omni_cart').items[0].quantity).toBe(4)
  })

  test('an unknown product says so', async () => {
    server.queue('product_not_found')
    const product = page('product')
    await product.instance.onLoad({id: '99'})
    await flush()
    expect(text(product)).toContain('商品已下架')
  })
})
