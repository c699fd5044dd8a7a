// scaled_dot_product_attention's boolean mask: the checker tells the composite a mask from a
// float tensor (the `boolMask` attribute), and a query whose every key is masked gets NaN,
// as in PyTorch (softmax over −∞ only).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { checkProgram } from '../../engine/src/lang/program.js';
import { OPS } from '../../engine/src/ops/registry.js';
import { Rng } from '../../engine/src/random.js';
import { Tensor } from '../../engine/src/tensor/tensor.js';
import { shapeOf } from '../../engine/src/shape/dim.js';
import * as ort from 'onnxruntime-node';
import { OnnxGraphBuilder } from '../../engine/src/onnx/builder.js';
import { LoweringContext, type Val } from '../../engine/src/onnx/context.js';
import { lowerOp } from '../../engine/src/backend-onnx/forward.js';
import { ONNX_PASSES } from '../../engine/src/backend-onnx/backward.js';

const PYTHON = '/usr/bin/python3';
const sdpa = OPS.scaled_dot_product_attention;

const attentionAttrs = (source: string) => {
  const result = checkProgram(source);
  assert.deepEqual(result.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code), []);
  return result.irs.get('M')!.graph.nodes.find((n) => n.op === 'scaled_dot_product_attention')!.attrs;
};

test('a comparison\'s mask is boolean to the composite, a float mask additive', () => {
  const call = (mask: string) => `model M(q: [B, 3, 4], m: [3, 3]) -> [B, 3, 4] {\n  return scaled_dot_product_attention(q, q, q, mask = ${mask})\n}\n`;
  assert.equal(attentionAttrs(call('m > 0')).boolMask, true);
  assert.equal(attentionAttrs(call('m')).boolMask, undefined);
  assert.equal(attentionAttrs(call('where(m > 0, m > 1, m < 2)')).boolMask, true);
  assert.equal(attentionAttrs(call('tril(m > 0)')).boolMask, true);
  assert.equal(attentionAttrs(call('triu(m, diagonal = 1)')).boolMask, undefined);
});

test('an int64 mask is NN2161; a mask (tril of one too) still is NN2140 where floats are needed', () => {
  const codes = (body: string) => checkProgram(`model M(q: [B, 3, 4], ids: int[3, 3]) -> [B, 3, 4] {\n  return ${body}\n}\n`).diagnostics.map((d) => d.code);
  assert.deepEqual(codes('scaled_dot_product_attention(q, q, q, mask = ids)'), ['NN2161']);
  assert.deepEqual(codes('scaled_dot_product_attention(q > 0, q, q)'), ['NN2140']);
  assert.deepEqual(codes('relu(tril(q > 0))'), ['NN2140']);
});

/** The op lowered alone to ONNX and run by onnxruntime (float32). */
async function onnxForward(inputs: Tensor[], attrs: object, outShape: number[]): Promise<Float32Array> {
  const b = new OnnxGraphBuilder('attention');
  const ctx = new LoweringContext(b, { training: false, dropout: false }, new Map(), ONNX_PASSES);
  const vals: Val[] = inputs.map((t, k) => {
    b.addInput(`x${k}`, 'float32', t.shape);
    return { name: `x${k}`, shape: shapeOf(t.shape), dtype: 'float32' };
  });
  const { outputs: [y] } = lowerOp(ctx, 'scaled_dot_product_attention', vals, attrs, [{ shape: shapeOf(outShape), dtype: 'float32' }]);
  b.addOutput('y', y.name, 'float32', outShape);
  const session = await ort.InferenceSession.create(b.toBytes());
  try {
    const feeds = Object.fromEntries(inputs.map((t, k) => [`x${k}`, new ort.Tensor('float32', Float32Array.from(t.values), t.shape)]));
    return (await session.run(feeds)).y.data as Float32Array;
  } finally {
    await session.release();
  }
}

const data = (shape: number[], rng: Rng) => new Tensor(Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape, 'float64');

test('a query with every key masked gets NaN on both back ends, as in PyTorch; the other queries do not', async () => {
  const rng = new Rng(5);
  const [q, k, v] = [data([2, 3, 2], rng), data([2, 4, 2], rng), data([2, 4, 3], rng)];
  // Query 1 attends to no key.
  const keep = [1, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0];
  const mask = new Tensor(Float64Array.from(keep), [3, 4], 'float64');
  const attrs = { causal: false, scale: undefined, boolMask: true };
  const y = sdpa.ts([q, k, v, mask], attrs, { mode: { dropout: false, batchNormTraining: false, rng: new Rng(0) }, concrete: (s) => s.map((d) => d.constant()!), outShape: shapeOf([2, 3, 3]) });
  const rows = Array.from({ length: 6 }, (_, r) => Array.from(y.values.slice(r * 3, r * 3 + 3)));
  rows.forEach((row, r) => assert.equal(row.every(Number.isNaN), r % 3 === 1, `row ${r}: ${row}`));
  const onnx = await onnxForward([q, k, v, mask], attrs, [2, 3, 3]);
  onnx.forEach((value, i) => assert.ok(Number.isNaN(y.values[i]) ? Number.isNaN(value) : Math.abs(value - y.values[i]) < 1e-5, `ONNX at ${i}: ${value}, TS ${y.values[i]}`));
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return;
  const expression = sdpa.pytorch(['q', 'k', 'v', 'm'], attrs, { inModule: true, outShape: shapeOf([2, 3, 3]), inShapes: [], inputDim: () => null });
  const script = `import json, torch\nq, k, v = (torch.tensor(t, dtype=torch.float64) for t in json.loads(input()))\nm = torch.tensor(json.loads(input()), dtype=torch.bool).reshape(3, 4)\nprint(json.dumps([x if x == x else None for x in (${expression}).flatten().tolist()]))`;
  const shaped = (t: Tensor) => t.shape.length === 3 ? Array.from({ length: t.shape[0] }, (_, b) => Array.from({ length: t.shape[1] }, (_, i) => Array.from(t.values.slice((b * t.shape[1] + i) * t.shape[2], (b * t.shape[1] + i + 1) * t.shape[2])))) : [];
  const run = spawnSync(PYTHON, ['-c', script], { input: `${JSON.stringify([q, k, v].map(shaped))}\n${JSON.stringify(keep.map(Boolean))}\n`, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const torchValues: (number | null)[] = JSON.parse(run.stdout);
  torchValues.forEach((value, i) => {
    if (value === null) assert.ok(Number.isNaN(y.values[i]), `torch NaN at ${i}, ours ${y.values[i]}`);
    else assert.ok(Math.abs(value - y.values[i]) < 1e-12, `at ${i}: torch ${value}, ours ${y.values[i]}`);
  });
});
