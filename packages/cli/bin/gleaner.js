#!/usr/bin/env node
// The `gleaner` bin is this committed file, not the build's main.js: npm links a bin at `npm ci`
// time only if its file exists then, before anything is built.
import { existsSync } from 'node:fs';

const main = new URL('../dist/src/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(`gleaner: ${main.pathname} is missing: build first (npm run build in the checkout)\n`);
  process.exit(1);
}
await import(main.href);
