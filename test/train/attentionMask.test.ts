// A boolean attention mask (a comparison's result, true where a query attends to a key)
// trains the same on both back ends, and the same as the additive mask that drops the
// same scores: the checker passes the mask's element type to the composite.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { train } from '../../engine/src/run/loop.js';
import type { RunEvent } from '../../engine/src/core/events.js';

const dir = mkdtempSync(join(tmpdir(), 'nn-mask-'));
writeFileSync(join(dir, 'corpus.txt'), 'abcd dcba abba cddc '.repeat(8));

/** The model with `mask` for the mask argument; `keep`'s diagonal (h·h > 0) leaves every query a key. */
const model = (mask: string) => `
model Net(x: int[B, T]) -> [B, T, 5] {
  emb = Embedding(5, 8)
  h = emb(x)
  keep = h @ transpose(h, 1, 2) > 0
  a = scaled_dot_product_attention(h, h, h, mask = ${mask})
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

async function losses(source: string, backend: 'ts' | 'onnx'): Promise<number[]> {
  const steps: number[] = [];
  const outcome = await train(source, { baseDir: dir, saveDir: mkdtempSync(join(dir, 'run-')), backend }, (event: RunEvent) => {
    if (event.type === 'step') steps.push(event.loss);
    if (event.type === 'start') assert.equal(event.backend, backend, event.note);
  });
  assert.ok('end' in outcome, JSON.stringify(outcome));
  return steps;
}

const same = (a: number[], b: number[], what: string) => {
  assert.ok(a.length >= 3 && a.length === b.length, `${what}: ${a.length} and ${b.length} steps`);
  a.forEach((loss, i) => assert.ok(Math.abs(loss - b[i]) <= 1e-4 * Math.max(1, Math.abs(loss)), `${what}, step ${i + 1}: ${loss} vs ${b[i]}`));
};

test('a boolean mask trains the same on both back ends and as the additive mask dropping the same scores', async () => {
  const boolTs = await losses(model('keep'), 'ts');
  same(boolTs, await losses(model('keep'), 'onnx'), 'boolean mask, TS vs ONNX');
  same(boolTs, await losses(model('(keep * 1.0 - 1.0) * 1e9'), 'ts'), 'boolean vs additive mask');
  const unmasked = await losses(model('keep * 0.0'), 'ts');
  assert.ok(unmasked.some((loss, i) => Math.abs(loss - boolTs[i]) > 1e-3), 'the mask changes the losses');
});
