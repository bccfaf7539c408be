import { twofaFlowSuite } from './api-twofa-flow-suite.js';

twofaFlowSuite('SQLite');
