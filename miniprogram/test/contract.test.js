// Every recorded answer the client tests use is a valid answer of the
// backend's OpenAPI document, so that client and server cannot drift apart.
const fixtures = require('./fixtures')
const openapi = require('./openapi').load()

describe('recorded responses follow openapi.yaml', () => {
  test.each(fixtures.all().map(f => [f.name, f]))('%s', (name, fixture) => {
    expect(fixture.operation).toMatch(/^(GET|POST|PUT|DELETE) \//)
    expect(openapi.checkResponse(fixture.operation, fixture.status, fixture.body)).toBeNull()
  })

  test('an answer that breaks the schema is caught', () => {
    const body = fixtures.load('order_created').body
    delete body.order.totals.total
    expect(openapi.checkResponse('POST /orders', 201, body)).toMatch(/total/)
    expect(openapi.checkResponse('GET /nowhere', 200, {})).toMatch(/not in/)
    expect(openapi.checkResponse('GET /me', 418, {})).toMatch(/does not answer 418/)
  })
})
