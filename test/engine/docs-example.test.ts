// The example in docs/engine.md runs as written and its loss goes down.

import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

test('docs/engine.md: the tiny-MLP example trains', () => {
  const root = resolve(__dirname, '../..');
  const doc = readFileSync(join(root, 'docs/engine.md'), 'utf8');
  const section = doc.split('## Example: a tiny MLP trained by hand')[1];
  const code = section.split('```ts')[1].split('```')[0];
  const dir = mkdtempSync(join(tmpdir(), 'nn-docs-example-'));
  try {
    const file = join(dir, 'example.ts');
    writeFileSync(file, code.replace("'./engine/src/index.js'", JSON.stringify(join(root, 'engine/src/index.ts'))));
    const run = spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', cwd: root });
    assert.equal(run.status, 0, run.stderr);
    const losses = run.stdout.trim().split('\n').map((line) => Number(line.split(' ')[1]));
    assert.equal(losses.length, 4, run.stdout);
    assert.ok(losses[3] < losses[0] / 5, `losses ${losses.join(', ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
