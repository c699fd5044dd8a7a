// Dropout draws the same masks on both back ends: a run with dropout takes the same steps on
// the TS engine and on the ONNX path, and two runs of one file are the same run.

import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { train } from '../../engine/src/run/loop.js';
import type { RunEvent } from '../../engine/src/core/events.js';

const MODEL = `
model Drop(x: [B, 2]) -> [B, 3] {
  fc1 = Linear(2, 32)
  fc2 = Linear(32, 32)
  fc3 = Linear(32, 3)
  h = dropout(relu(fc1(x)), 0.3)
  h = dropout(relu(fc2(h)), p = 0.5)
  return fc3(h)
}

train Drop {
  data      = spirals(classes = 3, points = 40)
  optimizer = Adam(lr = 0.01)
  epochs    = 3
  batch     = 16
  seed      = SEED
}
`;

async function losses(backend: 'ts' | 'onnx', seed: number): Promise<number[]> {
  const steps: number[] = [];
  const outcome = await train(MODEL.replace('SEED', String(seed)), { baseDir: mkdtempSync(join(tmpdir(), 'nn-dropout-')), backend }, (event: RunEvent) => {
    if (event.type === 'step') steps.push(event.loss);
    if (event.type === 'start') assert.equal(event.backend, backend, event.note);
  });
  assert.ok('end' in outcome, JSON.stringify(outcome));
  return steps;
}

test('a run with dropout takes the same steps on the TS engine and on ONNX, and again on ONNX', async () => {
  const ts = await losses('ts', 4);
  const onnx = await losses('onnx', 4);
  const again = await losses('onnx', 4);
  assert.equal(onnx.length, ts.length);
  onnx.forEach((loss, i) => assert.ok(Math.abs(loss - ts[i]) <= 1e-4 * Math.max(1, Math.abs(ts[i])), `step ${i + 1}: ONNX ${loss}, TS ${ts[i]}`));
  assert.deepEqual(again, onnx);
});

test('the dropout masks follow the seed', async () => {
  const other = await losses('onnx', 5);
  const onnx = await losses('onnx', 4);
  assert.notDeepEqual(other.slice(1), onnx.slice(1));
});
