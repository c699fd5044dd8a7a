// `import "file.nn"`: the parser's item, the checker's resolution through a SourceFiles reader
// (missing files, cycles, names defined twice, errors inside an imported file), and a model
// using an imported block training on both back ends exactly as with the block in its own file.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { SourceFiles } from '../../engine/src/lang/imports.js';
import { parse } from '../../engine/src/lang/parser.js';
import { checkProgram } from '../../engine/src/lang/program.js';
import { train } from '../../engine/src/run/loop.js';
import { exportPytorch } from '../../engine/src/export/pytorch.js';
import type { RunEvent } from '../../engine/src/core/events.js';

/** Files in memory, paths as written (`/p/a.nn`), imports relative to the importing file's folder. */
function memory(files: Record<string, string>): SourceFiles {
  return {
    resolve: (from, specifier) => `${from.slice(0, from.lastIndexOf('/'))}/${specifier}`,
    read: (path) => (path in files ? { text: files[path] } : { error: 'no such file' }),
  };
}

function check(files: Record<string, string>, path = '/p/main.nn') {
  return checkProgram(files[path], { files: memory(files), path, semantics: true });
}

const codes = (result: ReturnType<typeof check>) => result.diagnostics.map((d) => d.code);

const BLOCKS = `const H = 8

model Mlp[n_in, n_out](x: [B, n_in]) -> [B, n_out] {
  fc1 = Linear(n_in, H)
  fc2 = Linear(H, n_out)
  return x |> fc1 |> relu |> fc2
}

fn double(x: [*S]) -> [*S] {
  return x * 2
}
`;

const NET = `model Net(x: [B, 2]) -> [B, 3] {
  body = Mlp(2, 3)
  return double(body(x))
}

train Net {
  data = spirals(classes = 3, points = 40)
  optimizer = SGD(lr = 0.1)
  epochs = 2
  batch = 16
  seed = 5
}
`;

test('parser: an import item, and a broken one recovers at the next item', () => {
  const ok = parse('import "blocks.nn"\nconst N = 2\n');
  assert.deepEqual(ok.errors, []);
  assert.equal(ok.tree.items[0].kind, 'import');
  const item = ok.tree.items[0] as { path: { value: string; range: { start: number; end: number } } };
  assert.equal(item.path.value, 'blocks.nn');
  assert.deepEqual(item.path.range, { start: 7, end: 18 });
  const broken = parse('import blocks\nconst N = 2\n');
  assert.deepEqual(broken.errors.map((e) => e.code), ['NN1001']);
  assert.deepEqual(broken.tree.items.map((i) => i.kind), ['error', 'const']);
});

test('imported models, fns and constants check as if written in the file', () => {
  const result = check({ '/p/main.nn': `import "blocks.nn"\n\n${NET}`, '/p/blocks.nn': BLOCKS });
  assert.deepEqual(result.diagnostics, []);
  assert.deepEqual(result.models.map((m) => m.name), ['Net']);
  assert.deepEqual(result.importedModels?.map((m) => m.name), ['Mlp']);
  assert.ok(result.irs.has('Net'));
  assert.equal(result.trains.length, 1);
  const body = result.layers.find((l) => l.name === 'body');
  assert.equal(body?.outShape, '[B, 3]');
  // The editor's model: `Mlp` resolves to its definition in blocks.nn, past this file's end.
  const text = `import "blocks.nn"\n\n${NET}`;
  const use = result.semantics!.occurrenceAt(text.indexOf('Mlp(2') + 1);
  assert.ok(use && use.role === 'reference');
  const file = result.imports!.find((f) => f.path === '/p/blocks.nn')!;
  assert.equal(file.text.slice(use.definition.start - file.base, use.definition.end - file.base), 'Mlp');
});

test('a train block of an imported file is not the importing file\'s', () => {
  const result = check({ '/p/main.nn': `import "net.nn"\n`, '/p/net.nn': `import "blocks.nn"\n${NET}`, '/p/blocks.nn': BLOCKS });
  assert.deepEqual(result.diagnostics, []);
  assert.equal(result.trains.length, 0);
});

test('a missing file, and a check that reads no files, are NN2180 at the path', () => {
  const text = 'import "nowhere.nn"\n';
  const result = check({ '/p/main.nn': text });
  assert.deepEqual(codes(result), ['NN2180']);
  assert.deepEqual(result.diagnostics[0].range, { start: 7, end: 19 });
  assert.match(result.diagnostics[0].message, /nowhere\.nn.*no such file/);
  assert.deepEqual(codes(checkProgram(text)), ['NN2180']);
});

test('an import cycle is NN2181 with the path of files', () => {
  const files = { '/p/main.nn': 'import "b.nn"\nconst A = 1\n', '/p/b.nn': 'import "c.nn"\nconst B = 1\n', '/p/c.nn': 'import "main.nn"\nconst C = 1\n' };
  const result = check(files);
  assert.deepEqual(codes(result), ['NN2181']);
  assert.match(result.diagnostics[0].message, /main\.nn → b\.nn → c\.nn → main\.nn/);
  // Each file of the cycle reports it at its own import.
  assert.deepEqual(codes(check(files, '/p/b.nn')), ['NN2181']);
  assert.deepEqual(codes(checkProgram('import "main.nn"\n', { files: memory({ ...files, '/p/self.nn': '' }), path: '/p/main.nn' })), ['NN2181']);
});

test('a file that imports itself is a cycle, not a hang', () => {
  const result = check({ '/p/main.nn': 'import "main.nn"\n' });
  assert.deepEqual(codes(result), ['NN2181']);
  assert.match(result.diagnostics[0].message, /main\.nn → main\.nn/);
});

test('a name defined in two files is NN2182 at the import', () => {
  const result = check({ '/p/main.nn': `import "blocks.nn"\nconst H = 4\n`, '/p/blocks.nn': BLOCKS });
  assert.deepEqual(codes(result), ['NN2182']);
  assert.match(result.diagnostics[0].message, /`H` from "blocks\.nn" is already defined in this file/);
  const two = check({ '/p/main.nn': `import "a.nn"\nimport "b.nn"\n`, '/p/a.nn': 'const K = 1\n', '/p/b.nn': 'const K = 2\n' });
  assert.deepEqual(codes(two), ['NN2182']);
  assert.equal(two.diagnostics[0].range.start, 'import "a.nn"\nimport '.length);
});

test('errors inside an imported file are one NN2183 at the import, and its own at its check', () => {
  const broken = 'model Bad(x: [B, 4]) -> [B, 2] {\n  return Linear(3, 2)(x)\n}\nconst Z = nope\n';
  const result = check({ '/p/main.nn': 'import "bad.nn"\nconst A = 1\n', '/p/bad.nn': broken });
  assert.deepEqual(codes(result), ['NN2183']);
  assert.match(result.diagnostics[0].message, /"bad\.nn" has 2 error\(s\); the first, at line 2: /);
  const own = checkProgram(broken);
  assert.equal(own.diagnostics.filter((d) => d.severity === 'error').length, 2);
});

test('bad input never crashes the import resolution', () => {
  const inputs = ['import', 'import ""', 'import "a.nn" "b.nn"', 'import "dir/"\nmodel', 'import "x.nn"\nimport "x.nn"\n', 'import "\n'];
  for (const text of inputs) {
    const result = check({ '/p/main.nn': text, '/p/x.nn': 'const Q = 1\n' });
    for (const d of result.diagnostics) assert.notEqual(d.code, 'NN9001', `${JSON.stringify(text)}: ${d.message}`);
  }
});

test('a model using an imported block exports to PyTorch as with the block in its own file', () => {
  const imported = check({ '/p/main.nn': `import "blocks.nn"\n${NET}`, '/p/blocks.nn': BLOCKS });
  const inline = checkProgram(`${BLOCKS}\n${NET}`);
  const net = imported.irs.get('Net');
  assert.ok(net);
  const script = exportPytorch(net, imported.fnIrs, 'main.nn', imported.trains[0]);
  assert.equal(script, exportPytorch(inline.irs.get('Net')!, inline.fnIrs, 'main.nn', inline.trains[0]));
  assert.match(script, /class Net\(nn\.Module\)/);
});

async function losses(dir: string, text: string, backend: 'ts' | 'onnx'): Promise<number[]> {
  const file = join(dir, 'main.nn');
  writeFileSync(file, text);
  const steps: number[] = [];
  const outcome = await train(text, { baseDir: dir, file, saveDir: mkdtempSync(join(dir, 'run-')), backend }, (event: RunEvent) => {
    if (event.type === 'step') steps.push(event.loss);
  });
  assert.ok('end' in outcome, JSON.stringify(outcome));
  return steps;
}

test('a model using an imported block trains on both back ends as with the block in its own file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nn-imports-'));
  writeFileSync(join(dir, 'blocks.nn'), BLOCKS);
  const imported = `import "blocks.nn"\n${NET}`;
  const inline = `${BLOCKS}\n${NET}`;
  for (const backend of ['ts', 'onnx'] as const) {
    const a = await losses(dir, imported, backend);
    const b = await losses(dir, inline, backend);
    assert.ok(a.length >= 4, `${backend}: only ${a.length} steps`);
    assert.deepEqual(a, b, backend);
  }
  const ts = await losses(dir, imported, 'ts');
  const onnx = await losses(dir, imported, 'onnx');
  ts.forEach((loss, i) => assert.ok(Math.abs(loss - onnx[i]) <= 1e-4 * Math.max(1, Math.abs(loss)), `step ${i + 1}: TS ${loss}, ONNX ${onnx[i]}`));
});

test('a chain of shared imports is checked once per file, not once per path through it', () => {
  // Each file imports the two of the next level: 2^20 paths, 40 files.
  const files: Record<string, string> = { '/p/main.nn': 'import "a0.nn"\nimport "b0.nn"\n' };
  for (let level = 0; level < 20; level++) {
    const next = level + 1 < 20 ? `import "a${level + 1}.nn"\nimport "b${level + 1}.nn"\n` : '';
    files[`/p/a${level}.nn`] = `${next}const a${level} = 1\n`;
    files[`/p/b${level}.nn`] = `${next}const b${level} = 1\n`;
  }
  let reads = 0;
  const counting = memory(files);
  const result = checkProgram(files['/p/main.nn'], { files: { resolve: counting.resolve, read: (path) => (reads++, counting.read(path)) }, path: '/p/main.nn' });
  assert.deepEqual(codes(result), []);
  assert.ok(reads < 2000, `${reads} reads`);
});
