#!/usr/bin/env node
// The manifest's JSON Schema, generated from the zod schema in packages/contracts (built first) and
// shipped as @gleaner/konnector/manifest.schema.json. `--write` writes it (npm run schema); without
// it (in the build) it only checks that the committed file is what the code says.
import { readFileSync, writeFileSync } from 'node:fs';
import { manifestJsonSchema } from '@gleaner/contracts';

const file = new URL('../packages/konnector/manifest.schema.json', import.meta.url);
const generated = `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`;

if (process.argv.includes('--write')) {
  writeFileSync(file, generated);
  process.stderr.write(`wrote ${file.pathname}\n`);
} else {
  let committed = null;
  try {
    committed = readFileSync(file, 'utf8');
  } catch {
    // missing: reported below like a stale one
  }
  if (committed !== generated) {
    process.stderr.write(
      `${file.pathname} is not what packages/contracts/src/manifest.ts says: run \`npm run schema\` and commit it\n`,
    );
    process.exit(1);
  }
}
