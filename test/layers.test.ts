// The engine's folders import only downwards through its layers (as rust-analyzer's "tidy"
// tests keep its crate graph): numeric primitives, then the language and its ops, the core a
// run shares, the two back ends (which never import each other), the run layer, and on top the
// exporters and the command line. ARCHITECTURE.md draws the same stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const src = join(__dirname, '..', 'engine', 'src');

/** Bottom to top; a folder (or a file at engine/src's root, by its name) may import its own layer and those below. */
const LAYERS: readonly (readonly string[])[] = [
  ['shape', 'tensor', 'kernels', 'autograd', 'random.ts', 'gradcheck.ts'],
  ['lang', 'ops', 'onnx', 'data', 'nn', 'optim'],
  ['core'],
  ['backend-ts', 'backend-onnx'],
  ['run'],
  ['export', 'cli', 'cli.ts', 'index.ts'],
];

/** Folders of one layer that must not import each other. */
const INDEPENDENT: readonly (readonly [string, string])[] = [['backend-ts', 'backend-onnx']];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The top-level folder of engine/src a path is in, or the root file's name. */
const unitOf = (path: string) => relative(src, path).split(/[\\/]/)[0];

const layerOf = (unit: string) => LAYERS.findIndex((layer) => layer.includes(unit));

/** Every relative import or re-export of a file, as the unit it reaches. */
function importedUnits(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)]
    .map((m) => resolve(dirname(file), m[1]))
    .filter((target) => !relative(src, target).startsWith('..'))
    .map(unitOf);
}

test('every engine folder is in a layer', () => {
  const units = [...new Set(sourceFiles(src).map(unitOf))];
  assert.deepEqual(units.filter((u) => layerOf(u) < 0), []);
});

test('engine folders import only their own layer and the layers below', () => {
  const upward: string[] = [];
  for (const file of sourceFiles(src)) {
    const from = unitOf(file);
    for (const to of importedUnits(file)) {
      if (to === from) continue;
      if (layerOf(to) > layerOf(from)) upward.push(`${relative(src, file)} imports ${to}/ (layer ${layerOf(to)} above ${layerOf(from)})`);
      if (INDEPENDENT.some(([a, b]) => (a === from && b === to) || (a === to && b === from))) upward.push(`${relative(src, file)} imports its sibling back end ${to}/`);
    }
  }
  assert.deepEqual(upward, []);
});

test('the import scanner sees what a file imports', () => {
  const resolvedRun = importedUnits(join(src, 'run', 'loop.ts'));
  assert.ok(resolvedRun.includes('core') && resolvedRun.includes('backend-onnx'), 'the run layer imports the core and a back end');
  assert.ok(layerOf('run') > layerOf('core') && layerOf('backend-ts') === layerOf('backend-onnx'));
});
