const api = require('./utils/api')

App({
  onLaunch() {
    // A silent login makes the member's prices show from the first page.
    api.login().catch(() => {})
  },
})
