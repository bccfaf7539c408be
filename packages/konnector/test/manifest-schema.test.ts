import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { manifestJsonSchema, parseManifest } from '@gleaner/contracts';
import { repoRoot } from './support/guide.js';

type JsonProperty = { default?: unknown; additionalProperties?: unknown };
type Schema = { properties: Record<string, { description?: string; additionalProperties?: Schema }> };

const shipped = createRequire(import.meta.url).resolve('@gleaner/konnector/manifest.schema.json');

test('the committed manifest.schema.json is the one generated from the zod schema (npm run schema rewrites it)', () => {
  assert.equal(
    readFileSync(shipped, 'utf8'),
    `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`,
    'packages/konnector/manifest.schema.json is stale: run `npm run schema` and commit it',
  );
});

test('the manifest schema describes every property and every field property, and keeps the bounds zod checks in code', () => {
  const schema = manifestJsonSchema() as unknown as Schema;
  for (const [name, property] of Object.entries(schema.properties)) {
    assert.ok(property.description, `manifest property ${name} has a description`);
  }
  const fields = schema.properties.fields as unknown as {
    minProperties: number;
    maxProperties: number;
    additionalProperties: Schema;
  };
  assert.equal(fields.minProperties, 1);
  assert.equal(fields.maxProperties, 64);
  for (const [name, property] of Object.entries(fields.additionalProperties.properties)) {
    assert.ok(property.description, `field property ${name} has a description`);
  }
});

test('docs/manifest.md: its example is a valid manifest, and its tables list every property with the default the schema has', () => {
  const doc = readFileSync(join(repoRoot, 'docs', 'manifest.md'), 'utf8');
  const example = /```json\n([\s\S]*?)```/.exec(doc)![1]!;
  const parsed = parseManifest(JSON.parse(example));
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.problems));

  const [manifestTable, fieldTable] = doc.split('### A field') as [string, string];
  const rows = (table: string) =>
    new Map([...table.matchAll(/^\| `(\w+)` \| ([^|]+) \| ([^|]+) \|/gm)].map((m) => [m[1]!, m[3]!.trim()]));
  type Level = { properties: Record<string, JsonProperty>; required: string[] };
  const schema = manifestJsonSchema() as unknown as Level;
  const field = schema.properties.fields!.additionalProperties as Level;
  for (const [table, level] of [
    [rows(manifestTable), schema],
    [rows(fieldTable), field],
  ] as const) {
    for (const [name, property] of Object.entries(level.properties)) {
      const documented = table.get(name);
      assert.ok(documented, `docs/manifest.md has a row for ${name}`);
      if (property.default !== undefined) {
        assert.equal(documented.replaceAll(' ', ''), `\`${JSON.stringify(property.default)}\``, `${name}'s default`);
      } else if (level.required.includes(name)) {
        assert.equal(documented, 'required', `${name} is required`);
      } else {
        assert.notEqual(documented, 'required', `${name} is optional`);
      }
    }
  }
});
