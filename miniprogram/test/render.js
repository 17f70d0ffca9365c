// Renders a component or a page (pages are built with Component()).
const path = require('path')
const simulate = require('miniprogram-simulate')

const ROOT = path.join(__dirname, '..')

// A file's code runs once per test file, so it is registered once.
const loaded = {}

function render(file, props) {
  if (!loaded[file]) loaded[file] = simulate.load(path.join(ROOT, file), {rootPath: ROOT, compiler: 'simulate'})
  const id = loaded[file]
  const comp = simulate.render(id, props)
  comp.attach(document.createElement('parent-wrapper'))
  return comp
}

const component = (name, props) => render(`components/${name}/index`, props)
const page = name => render(`pages/${name}/index`)

// Lets the fake server's answers and the awaiting handlers run.
async function flush() {
  for (let i = 0; i < 20; i++) await Promise.resolve()
}

function text(comp) {
  return comp.dom.textContent.replace(/\s+/g, ' ')
}

// Fires an event (tap, change, input, getphonenumber…) and lets it settle.
async function fire(comp, selector, name, detail) {
  const target = comp.querySelector(selector)
  if (!target) throw new Error(`nothing matches ${selector}`)
  target.dispatchEvent(name, {detail})
  await flush()
}

const tap = (comp, selector) => fire(comp, selector, 'tap')

// The src of each <image> that matches the selector
function sources(comp, selector) {
  return comp.querySelectorAll(selector).map(image => image.instance.data.src)
}

module.exports = {component, page, flush, text, tap, fire, sources, ROOT}
