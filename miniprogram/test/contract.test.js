// The answers the client tests replay were recorded from the server on the
// tea demo (tests/mall_recording.py); each is a valid answer of the
// backend's OpenAPI document, and each request a valid request, so that
// client and server cannot drift apart.
const fixtures = require('./fixtures')
const openapi = require('./openapi').load()
const api = require('../utils/api')

const recorded = fixtures.all()

describe('recorded answers follow openapi.yaml', () => {
  test.each(recorded.map(f => [f.name, f]))('%s', (name, fixture) => {
    expect(fixture.operation).toMatch(/^(GET|POST|PUT|DELETE) \//)
    expect(fixture.request.method).toBe(fixture.operation.split(' ')[0])
    expect(openapi.checkResponse(fixture.operation, fixture.status, fixture.body)).toBeNull()
    expect(openapi.checkRequest(fixture.operation, fixture.request.body)).toBeNull()
  })

  test('every operation of the client has a recorded answer', () => {
    const operations = new Set(recorded.map(f => f.operation))
    const used = [
      'POST /login', 'GET /catalog/categories', 'GET /catalog/products', 'GET /catalog/products/{product}',
      'GET /me', 'POST /me/phone', 'GET /me/code', 'GET /me/points', 'GET /me/tier', 'POST /me/sign-in',
      'GET /coupons', 'POST /coupons/{coupon}/claim', 'GET /me/coupons', 'POST /checkout/preview',
      'POST /orders', 'GET /orders', 'GET /orders/{order}', 'POST /orders/{order}/pay',
      'POST /orders/{order}/cancel',
    ]
    expect(Object.keys(api).filter(key => typeof api[key] === 'function')).toEqual(expect.arrayContaining([
      'login', 'categories', 'products', 'product', 'me', 'bindPhone', 'memberCode', 'points', 'tier',
      'signIn', 'coupons', 'claimCoupon', 'myCoupons', 'preview', 'createOrder', 'orders', 'order',
      'payOrder', 'cancelOrder',
    ]))
    expect(used.filter(operation => !operations.has(operation))).toEqual([])
  })

  test('an answer that breaks the schema is caught', () => {
    const body = fixtures.load('order_created').body
    delete body.order.totals.total
    expect(openapi.checkResponse('POST /orders', 201, body)).toMatch(/total/)
    const product = fixtures.load('product').body
    product.images[0].url = 'https://elsewhere.example/tea.jpg'
    expect(openapi.checkResponse('GET /catalog/products/{product}', 200, product)).toMatch(/pattern/)
    expect(openapi.checkResponse('GET /nowhere', 200, {})).toMatch(/not in/)
    expect(openapi.checkResponse('GET /me', 418, {})).toMatch(/does not answer 418/)
  })
})

describe('recorded dates', () => {
  test('move from the recording day to today', () => {
    expect(fixtures.shift({at: '2026-01-01T09:01:29Z', on: '2026-01-31', code: '2026'}, 31)).toEqual(
      {at: '2026-02-01T09:01:29Z', on: '2026-03-03', code: '2026'})
    // The session recorded for 3 days is still open today
    const {expires_at: expires} = fixtures.load('login').body
    expect(Date.parse(expires)).toBeGreaterThan(Date.now())
    expect(Date.parse(expires)).toBeLessThan(Date.now() + 5 * 24 * 60 * 60 * 1000)
  })
})
