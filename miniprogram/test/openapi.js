// The backend's OpenAPI document as JSON-schema validators.
const fs = require('fs')
const path = require('path')
const yaml = require('js-yaml')
const Ajv2020 = require('ajv/dist/2020')
const addFormats = require('ajv-formats')

// OPENAPI_DOCUMENT checks the fixtures against another copy of the contract,
// e.g. the /openapi.json a running server answers.
const DOCUMENT = process.env.OPENAPI_DOCUMENT ||
  path.join(__dirname, '..', '..', 'addons', 'omni_miniprogram', 'openapi.yaml')

function load() {
  const text = fs.readFileSync(DOCUMENT, 'utf8')
  // Point the schemas' $refs at the components schema added below.
  const document = yaml.load(text.replace(/#\/components\/schemas\//g, 'components#/$defs/'))
  const ajv = new Ajv2020({allErrors: true, allowUnionTypes: true})
  addFormats(ajv)
  ajv.addSchema({$id: 'components', $defs: document.components.schemas})

  function operation(name) {
    const [method, route] = name.split(' ')
    const item = document.paths[route]
    return item && item[method.toLowerCase()]
  }

  function resolve(object) {
    if (!object || !object.$ref) return object
    const [kind, key] = object.$ref.replace('#/components/', '').split('/')
    return document.components[kind][key]
  }

  function validator(schema) {
    const validate = ajv.compile(schema)
    return value => (validate(value) ? null : ajv.errorsText(validate.errors))
  }

  // Returns null when body is a valid answer of operation with status,
  // else why not.
  function checkResponse(name, status, body) {
    const op = operation(name)
    if (!op) return `${name} is not in ${DOCUMENT}`
    const response = resolve(op.responses[String(status)])
    if (!response) return `${name} does not answer ${status}`
    const content = response.content && response.content['application/json']
    if (!content) return body === undefined || body === null ? null : `${name} ${status} has no body`
    return validator(content.schema)(body)
  }

  function checkRequest(name, body) {
    const op = operation(name)
    if (!op) return `${name} is not in ${DOCUMENT}`
    const content = op.requestBody && op.requestBody.content['application/json']
    if (!content) return body === undefined || body === null ? null : `${name} takes no body`
    return validator(content.schema)(body)
  }

  return {document, DOCUMENT, operation, checkResponse, checkRequest}
}

module.exports = {load}
