// Figure 1 (peer): the cost of reaching the first line of fetch() with cozy-konnector-libs.
// Run with NODE_ENV=standalone in a cwd holding konnector-dev-config.json.
const { BaseKonnector } = require('cozy-konnector-libs');

module.exports = new BaseKonnector(async function fetch() {
  process.exit(0);
});
