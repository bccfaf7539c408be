// Stub of geco (combination generator used by linkBankOperations). The bench never links bank
// operations; gen() yields nothing so a stray call is harmless rather than a crash.
module.exports = { gen: function* gen() {} }
