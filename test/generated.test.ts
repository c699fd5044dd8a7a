// The files generated from the engine's catalogue of built-ins (the grammar's built-in lists,
// the docs/language.md tables) are up to date: `node scripts/generate.mjs` would change nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_LAYERS, ALL_OPS } from '../engine/src/ops/registry.js';
import { DATA_SETS } from '../engine/src/lang/trainCatalogue.js';
import { GENERATED, GRAMMAR_FILE, LANGUAGE_DOC } from '../scripts/generated.js';

const root = join(__dirname, '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

for (const { path, generate } of GENERATED) {
  test(`${path} is as generated from the catalogue (else run \`npm run generate\`)`, () => {
    const current = read(path);
    assert.equal(generate(current), current);
  });
}

test('the grammar lists every built-in function, loss, layer and data set of the engine', () => {
  const grammar = read(GRAMMAR_FILE);
  for (const op of ALL_OPS.filter((o) => o.surface === 'function' || o.surface === 'loss')) assert.match(grammar, new RegExp(`[|:]${op.name}[|)]`), op.name);
  for (const layer of ALL_LAYERS) assert.match(grammar, new RegExp(`[|:]${layer.name}[|)]`), layer.name);
  for (const set of Object.keys(DATA_SETS)) assert.match(grammar, new RegExp(`[|:]${set}[|)]`), set);
});

test('the docs tables show the checker\'s defaults', () => {
  const doc = read(LANGUAGE_DOC);
  assert.ok(doc.includes('`fashion_mnist(train = 6000, test = 1000)`'));
  assert.ok(doc.includes('`moons(points = 200)`'));
  assert.ok(doc.includes('`dropout(x, p = 0.5)`'));
  assert.ok(doc.includes('`flatten(x, start = 1, end = -1)`'));
  assert.ok(doc.includes('`max_pool2d(x, k, stride = k, padding = 0)`'));
  assert.ok(doc.includes('`Conv2d(in, out, kernel, stride = 1, padding = 0, dilation = 1, groups = 1, bias = true)`'));
});

test('a stale generated table is detected', () => {
  const doc = read(LANGUAGE_DOC);
  const stale = doc.replace('`moons(points = 200)`', '`moons(points = 100)`');
  const generate = GENERATED.find((g) => g.path === LANGUAGE_DOC)!.generate;
  assert.notEqual(generate(stale), stale);
  assert.equal(generate(stale), doc);
});
