export { startDemo, type DemoOptions } from './demo.js';
