// The cart, kept in the phone's storage until the order is placed.
const KEY = 'omni_cart'

function load() {
  return Object.assign({items: [], fulfilment: 'delivery', store: null}, wx.getStorageSync(KEY) || {})
}

function save(cart) {
  wx.setStorageSync(KEY, cart)
  return cart
}

// product: a ProductSummary of the API
function add(product, quantity) {
  const cart = load()
  const line = cart.items.find(item => item.product === product.id)
  if (line) {
    line.quantity = Math.min(999, line.quantity + quantity)
  } else {
    cart.items.push({product: product.id, name: product.name, price: product.price, quantity})
  }
  return save(cart)
}

function setQuantity(productId, quantity) {
  const cart = load()
  cart.items = cart.items
    .map(item => (item.product === productId ? Object.assign(item, {quantity}) : item))
    .filter(item => item.quantity > 0)
  return save(cart)
}

function choose(fulfilment, store) {
  return save(Object.assign(load(), {fulfilment, store: store || null}))
}

function clear() {
  wx.removeStorageSync(KEY)
}

function count() {
  return load().items.reduce((sum, item) => sum + item.quantity, 0)
}

module.exports = {load, add, setQuantity, choose, clear, count}
