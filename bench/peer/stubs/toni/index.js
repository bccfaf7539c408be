// Stub of toni (categorization). Not exercised by the bench.
module.exports = {}
