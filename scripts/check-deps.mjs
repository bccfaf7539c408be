#!/usr/bin/env node
// Dependency direction, as DESIGN.md draws it: the SDK imports nothing of the stack; konnectors
// import only the SDK; Home talks to the stack over HTTP only; contracts import no other part.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const rules = [
  { dir: 'packages/contracts/src', allow: [] },
  { dir: 'packages/konnector/src', allow: ['@gleaner/contracts'] },
  { dir: 'packages/sites/src', allow: [] },
  { dir: 'packages/home/src', allow: ['@gleaner/contracts'] },
  { dir: 'packages/stack/src', allow: ['@gleaner/contracts', '@gleaner/konnector'] },
  { dir: 'konnectors/github/src', allow: ['@gleaner/konnector'] },
  { dir: 'konnectors/amazon/src', allow: ['@gleaner/konnector'] },
];
const importRe = /(?:^|[^\w.])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
// Konnectors run untrusted in a sandboxed child: besides the SDK only Node's built-ins.
const konnectorExtra = (spec) => spec.startsWith('node:');

function files(dir, out = []) {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files(path, out);
    else if (/\.(ts|tsx|mts|js|mjs)$/.test(name)) out.push(path);
  }
  return out;
}

const problems = [];
for (const rule of rules) {
  for (const file of files(join(root, rule.dir))) {
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(importRe)) {
      const spec = match[1] ?? match[2];
      if (!spec || spec.startsWith('.')) continue;
      const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
      if (pkg.startsWith('@gleaner/') && !rule.allow.includes(pkg)) {
        problems.push(`${relative(root, file)} imports ${spec}: ${rule.dir} may import only ${rule.allow.join(', ') || 'no other part'}`);
      }
      if (rule.dir.startsWith('konnectors/') && !pkg.startsWith('@gleaner/') && !konnectorExtra(spec)) {
        problems.push(`${relative(root, file)} imports ${spec}: a konnector imports only the SDK and node: built-ins`);
      }
    }
  }
}
if (problems.length) {
  process.stderr.write(`dependency direction broken:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
  process.exit(1);
}
process.stderr.write('dependency direction: ok\n');
