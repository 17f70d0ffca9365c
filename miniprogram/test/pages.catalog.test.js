const {page, flush, text, tap, fire, sources} = require('./render')
const fixtures = require('./fixtures')
const {BASE} = fixtures

const products = fixtures.load('products').body.items
const puer = fixtures.load('product')

describe('home page', () => {
  test('asks for the location and shows categories, prices, thumbnails and the nearby badge', async () => {
    const home = page('index')
    await home.instance.onLoad({})
    expect(wx.getLocation).toHaveBeenCalled()
    const [request] = server.sent('GET', '/catalog/products')
    expect(request.query).toMatchObject({lat: '30.2592', lon: '120.1487', page: '1', shop: '1'})
    const shown = text(home)
    for (const category of ['普洱茶', '绿茶', '乌龙茶', '红茶', '茶具']) expect(shown).toContain(category)
    expect(shown).toContain('2019 老班章')
    expect(shown).toContain('¥3800.00')
    expect(shown).toContain('大益 7542 生茶饼')
    expect(shown).toContain('¥268.00')
    // A guest sees no member price
    expect(shown).not.toContain('会员价')
    const cards = home.querySelectorAll('.product')
    expect(cards).toHaveLength(products.length)
    expect(shown.match(/附近门店有货/g)).toHaveLength(products.filter(p => p.nearby_stock).length)
    expect(sources(cards[1], '.thumbnail')).toEqual([`${BASE}/catalog/products/1/images/1?shop=1&s=250`])
    expect(cards.map(card => sources(card, '.thumbnail')[0]))
      .toEqual(products.map(p => BASE + p.thumbnail))
    expect(shown).not.toContain('未获取到位置')
  })

  test('without the location the catalogue still loads and says why no badge', async () => {
    wx.getLocation.mockImplementationOnce(options => options.fail({errMsg: 'getLocation:fail auth deny'}))
    const home = page('index')
    await home.instance.onLoad({})
    expect(server.sent('GET', '/catalog/products')[0].query.lat).toBeUndefined()
    expect(text(home)).toContain('未获取到位置')
    expect(home.querySelectorAll('.product')).toHaveLength(products.length)
  })

  test('searches and filters by category', async () => {
    const home = page('index')
    await home.instance.onLoad({})
    server.queue('products_search')
    await fire(home, '.search-input', 'confirm', {value: ' 龙井 '})
    expect(server.sent('GET', '/catalog/products')[1].query.q).toBe('龙井')
    expect(home.querySelectorAll('.product')).toHaveLength(2)
    expect(text(home)).toContain('明前西湖龙井 250g')
    expect(text(home)).toContain('雨前龙井 250g')
    const green = fixtures.load('categories').body.items.find(c => c.name === '绿茶')
    await tap(home, `#category-${green.id}`)
    expect(server.sent('GET', '/catalog/products')[2].query).toMatchObject({q: '龙井', category: String(green.id)})
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
  const id = String(puer.body.id)

  test('shows the gallery, the stores nearest first with distance and stock, and the pickup discount', async () => {
    const product = page('product')
    await product.instance.onLoad({id})
    expect(server.sent('GET', `/catalog/products/${id}`)[0].query).toMatchObject({lat: '30.2592', lon: '120.1487'})
    const shown = text(product)
    expect(shown).toContain('大益 7542 生茶饼')
    expect(shown).toContain('编码 PE002')
    expect(shown).toContain('到店自提 ¥254.60（9.5折）')
    expect(shown).toMatch(/西湖店附近.*0 m有货 12/)
    expect(shown).toMatch(/武林店附近.*2\.1 km有货 10/)
    // 中央仓 is beyond the shop's 5 km
    expect(shown).toMatch(/中央仓中国.*6\.5 km有货 40/)
    expect(sources(product, '.gallery .photo')).toEqual([
      `${BASE}/catalog/products/${id}/images/5?shop=1&s=750`,
      `${BASE}/catalog/products/${id}/images/6?shop=1&s=750`,
    ])
    const photos = product.querySelectorAll('.gallery .photo')
    photos[1].dispatchEvent('tap')
    await flush()
    expect(wx.previewImage).toHaveBeenCalledWith(expect.objectContaining({
      current: sources(product, '.gallery .photo')[1], urls: sources(product, '.gallery .photo'),
    }))
  })

  test('a product without pictures has no gallery', async () => {
    const bare = fixtures.load('product')
    bare.body.images = []
    bare.body.thumbnail = null
    server.queue(bare)
    const product = page('product')
    await product.instance.onLoad({id})
    expect(text(product)).toContain('大益 7542 生茶饼')
    expect(product.querySelectorAll('.gallery')).toHaveLength(0)
  })

  test('adds to the cart with the chosen pickup store', async () => {
    const product = page('product')
    await product.instance.onLoad({id})
    const store = puer.body.stores.find(s => s.name === '武林店')
    await tap(product, '.option.pickup')
    await tap(product, `#store-${store.id}`)
    await tap(product, '.plus')
    await tap(product, '.add')
    expect(wx.getStorageSync('omni_cart')).toEqual({
      items: [{product: puer.body.id, name: '大益 7542 生茶饼', price: '268.00', quantity: 2}],
      fulfilment: 'pickup',
      store: store.id,
    })
    await tap(product, '.buy')
    expect(wx.switchTab).toHaveBeenCalledWith({url: '/pages/cart/index'})
    expect(wx.getStorageSync('omni_cart').items[0].quantity).toBe(4)
  })

  test('an unknown product says so', async () => {
    server.queue('product_not_found')
    const product = page('product')
    await product.instance.onLoad({id: '999999'})
    await flush()
    expect(text(product)).toContain('商品已下架')
  })
})
