// A value passed to a composite op more than once (`scaled_dot_product_attention(h, h, h)`)
// gets its gradient once on the ONNX path, summed over its uses inside: both back ends
// train the same.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { train } from '../../engine/src/run/loop.js';
import type { RunEvent } from '../../engine/src/core/events.js';

const dir = mkdtempSync(join(tmpdir(), 'nn-shared-'));
writeFileSync(join(dir, 'corpus.txt'), 'abcd dcba abba cddc '.repeat(8));

const MODEL = `
model Net(x: int[B, T]) -> [B, T, 5] {
  emb = Embedding(5, 8)
  h = emb(x)
  a = scaled_dot_product_attention(h, h, h, causal = true)
  return Linear(8, 5)(a + h)
}
train Net {
  data = text("corpus.txt", block = 4, stride = 1, test = 0)
  optimizer = SGD(lr = 0.5)
  epochs = 1
  batch = 4
  seed = 3
}
`;

async function losses(backend: 'ts' | 'onnx'): Promise<number[]> {
  const steps: number[] = [];
  const outcome = await train(MODEL, { baseDir: dir, saveDir: mkdtempSync(join(dir, 'run-')), backend }, (event: RunEvent) => {
    if (event.type === 'step') steps.push(event.loss);
    if (event.type === 'start') assert.equal(event.backend, backend, event.note);
  });
  assert.ok('end' in outcome, JSON.stringify(outcome));
  return steps;
}

test('attention over one value three times trains the same on both back ends', async () => {
  const ts = await losses('ts');
  const onnx = await losses('onnx');
  assert.ok(ts.length >= 3, `only ${ts.length} steps`);
  ts.forEach((loss, i) => assert.ok(Math.abs(loss - onnx[i]) <= 1e-4 * Math.max(1, Math.abs(loss)), `step ${i + 1}: TS ${loss}, ONNX ${onnx[i]}`));
});
