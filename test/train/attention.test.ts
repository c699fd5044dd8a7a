// Attention trains the same on both back ends: a value passed to the composite op more than
// once (`scaled_dot_product_attention(h, h, h)`) gets its gradient once on the ONNX path,
// summed over its uses inside; a boolean mask (a comparison's result, true where a query
// attends to a key) trains as the additive mask that drops the same scores, the checker
// passing the mask's element type to the composite.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { train } from '../../engine/src/run/loop.js';
import type { RunEvent } from '../../engine/src/core/events.js';

const dir = mkdtempSync(join(tmpdir(), 'nn-attention-'));
writeFileSync(join(dir, 'corpus.txt'), 'abcd dcba abba cddc '.repeat(8));

/** The model with `args` after the attention's q, k, v. */
const model = (args: string) => `
model Net(x: int[B, T]) -> [B, T, 5] {
  emb = Embedding(5, 8)
  h = emb(x)
  a = scaled_dot_product_attention(h, h, h, ${args})
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

/** True where a query attends to a key; its diagonal (h·h > 0) leaves every query a key. */
const KEEP = '(h @ transpose(h, 1, 2) > 0)';

const same = (a: number[], b: number[], what: string) => {
  assert.ok(a.length >= 3 && a.length === b.length, `${what}: ${a.length} and ${b.length} steps`);
  a.forEach((loss, i) => assert.ok(Math.abs(loss - b[i]) <= 1e-4 * Math.max(1, Math.abs(loss)), `${what}, step ${i + 1}: ${loss} vs ${b[i]}`));
};

test('attention over one value three times trains the same on both back ends', async () => {
  const causal = model('causal = true');
  same(await losses(causal, 'ts'), await losses(causal, 'onnx'), 'causal attention, TS vs ONNX');
});

test('a boolean mask trains the same on both back ends and as the additive mask dropping the same scores', async () => {
  const boolTs = await losses(model(`mask = ${KEEP}`), 'ts');
  same(boolTs, await losses(model(`mask = ${KEEP}`), 'onnx'), 'boolean mask, TS vs ONNX');
  same(boolTs, await losses(model(`mask = (${KEEP} * 1.0 - 1.0) * 1e9`), 'ts'), 'boolean vs additive mask');
  const unmasked = await losses(model(`mask = ${KEEP} * 0.0`), 'ts');
  assert.ok(unmasked.some((loss, i) => Math.abs(loss - boolTs[i]) > 1e-3), 'the mask changes the losses');
});
