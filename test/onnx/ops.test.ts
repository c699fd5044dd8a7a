// Every op's ONNX forward and backward against the TS engine (whose rules are gradchecked):
// a tiny model per op, trained 5 Adam steps on both back ends from the same weights.

import { test } from 'node:test';
import type { FnIR, ModelIR, ValueId } from '../../engine/src/lang/api.js';
import { IrBuilder } from './irBuilder.js';
import { Dim, shapeOf } from '../../engine/src/shape/dim.js';

/** A pooling window's attributes (k, stride, no padding). */
const pair = (n: number) => [Dim.of(n), Dim.of(n)] as const;
const pool = (k: number, stride: number) => ({ k: pair(k), stride: pair(stride), padding: pair(0) });
import { assertParity, randomBatches, runOnnx, runTs } from './parityHarness.js';

const adam = { kind: 'Adam' as const, lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };

/** x [B, 12] → linear 12→12 → `body` → output; trained with mse. */
function opModel(body: (ir: IrBuilder, h: ValueId) => ValueId): ModelIR {
  const ir = new IrBuilder();
  const x = ir.input('x', ['B', 12]);
  return ir.model('OpCase', body(ir, ir.linear('fc', x, 12, 12)));
}

async function agree(model: ModelIR, fns: ReadonlyMap<string, FnIR> = new Map(), loss: 'mse' | 'cross_entropy' = 'mse'): Promise<void> {
  const batches = randomBatches(model, loss, [8, 8, 8, 8, 5], 3, 20);
  const ts = runTs(model, fns, loss, adam, batches, 0);
  const onnx = await runOnnx(model, fns, loss, adam, batches, 0);
  assertParity(ts, onnx, adam, 1e-4);
}

const unary = ['relu', 'sigmoid', 'tanh', 'gelu', 'silu', 'softplus', 'abs', 'neg', 'exp'] as const;
for (const op of unary) {
  test(`${op}`, () => agree(opModel((ir, h) => ir.op(op, [h], ['B', 12], {}))));
}

const cases: Record<string, (ir: IrBuilder, h: ValueId) => ValueId> = {
  leaky_relu: (ir, h) => ir.op('leaky_relu', [h], ['B', 12], { slope: 0.1 }),
  'log of sigmoid': (ir, h) => ir.op('log', [ir.op('sigmoid', [h], ['B', 12], {})], ['B', 12], {}),
  'sqrt of sigmoid': (ir, h) => ir.op('sqrt', [ir.op('sigmoid', [h], ['B', 12], {})], ['B', 12], {}),
  softmax: (ir, h) => ir.op('softmax', [h], ['B', 12], { axis: -1 }),
  log_softmax: (ir, h) => ir.op('log_softmax', [h], ['B', 12], { axis: 1 }),
  'sum keepdims': (ir, h) => ir.op('sum', [h], ['B', 1], { axis: 1, keepdims: true }),
  'mean over the batch': (ir, h) => ir.op('mean', [h], [12], { axis: 0, keepdims: false }),
  'max over an axis': (ir, h) => ir.op('max', [h], ['B'], { axis: 1, keepdims: false }),
  'sum of all': (ir, h) => ir.op('sum', [h], [], { axis: undefined, keepdims: false }),
  'pow and scalars': (ir, h) => {
    const cube = ir.op('pow', [ir.op('tanh', [h], ['B', 12], {})], ['B', 12], { exponent: 3 });
    const scaled = ir.op('mul', [cube], ['B', 12], { scalar: 2 });
    return ir.op('sub', [scaled], ['B', 12], { scalar: 1, scalarFirst: true });
  },
  'div of tensors': (ir, h) => ir.op('div', [h, ir.op('add', [ir.op('abs', [h], ['B', 12], {})], ['B', 12], { scalar: 1 })], ['B', 12], {}),
  'broadcast add of a param': (ir, h) => ir.op('add', [h, ir.param('shift', [12], 'shift', { kind: 'normal', std: 1 })], ['B', 12], {}),
  'reshape, transpose, batched matmul': (ir, h) => {
    const r = ir.op('reshape', [h], ['B', 3, 4], { shape: shapeOf(['B', 3, 4]) });
    const t = ir.op('transpose', [r], ['B', 4, 3], { a: 1, b: 2 });
    const w = ir.param('W', [3, 5], 'W', { kind: 'xavier_uniform', fanIn: 3, fanOut: 5 });
    return ir.op('flatten', [ir.op('matmul', [t, w], ['B', 4, 5], {})], ['B', 20], { start: 1, end: -1 });
  },
  concat: (ir, h) => ir.op('concat', [h, ir.op('tanh', [h], ['B', 12], {})], ['B', 24], { axis: 1 }),
  'layer_norm': (ir, h) => {
    const g = ir.param('ln.weight', [12], 'ln', { kind: 'normal', std: 1 });
    const b = ir.param('ln.bias', [12], 'ln', { kind: 'normal', std: 1 });
    return ir.op('layer_norm', [h, g, b], ['B', 12], { eps: 1e-5 }, 'ln');
  },
  'batch_norm1d': (ir, h) => {
    const g = ir.param('bn.weight', [12], 'bn', { kind: 'normal', std: 1 });
    const b = ir.param('bn.bias', [12], 'bn', { kind: 'normal', std: 1 });
    const m = ir.buffer('bn.running_mean', [12], 'bn', 'zeros');
    const v = ir.buffer('bn.running_var', [12], 'bn', 'ones');
    return ir.op('batch_norm1d', [h, g, b, m, v], ['B', 12], { eps: 1e-5, momentum: 0.1 }, 'bn');
  },
  'detach and dropout off': (ir, h) => ir.op('add', [ir.op('dropout', [h], ['B', 12], { p: 0.5 }), ir.op('detach', [ir.op('exp', [h], ['B', 12], {})], ['B', 12], {})], ['B', 12], {}),
  'conv stride 2 padding 1, avg_pool2d': (ir, h) => {
    const img = ir.op('reshape', [h], ['B', 3, 2, 2], { shape: shapeOf(['B', 3, 2, 2]) });
    const big = ir.op('concat', [img, img, img], ['B', 3, 6, 2], { axis: 2 });
    const wide = ir.op('concat', [big, big, big], ['B', 3, 6, 6], { axis: 3 });
    const c = ir.conv('conv', wide, 3, 4, 3, 3, { stride: 2, padding: 1 });
    return ir.op('flatten', [ir.op('avg_pool2d', [c], ['B', 4, 1, 1], pool(2, 2))], ['B', 4], { start: 1, end: -1 });
  },
  'max_pool2d ties: the first maximum of each window gets the gradient': (ir, h) => {
    // Each 2×2 window holds one value four times, only its top-left copy not detached: a
    // gradient routed to any other copy would stop there, and fc would train differently.
    const v = ir.op('reshape', [h], ['B', 12, 1, 1], { shape: shapeOf(['B', 12, 1, 1]) });
    const row = ir.op('concat', [v, ir.op('detach', [v], ['B', 12, 1, 1], {})], ['B', 12, 1, 2], { axis: 3 });
    const windows = ir.op('concat', [row, ir.op('detach', [row], ['B', 12, 1, 2], {})], ['B', 12, 2, 2], { axis: 2 });
    return ir.op('flatten', [ir.op('max_pool2d', [windows], ['B', 12, 1, 1], pool(2, 2))], ['B', 12], { start: 1, end: -1 });
  },
  'max_pool2d over odd sizes': (ir, h) => {
    // 3×4 input, 2×2 windows: the last row gets no gradient.
    const img = ir.op('reshape', [h], ['B', 1, 3, 4], { shape: shapeOf(['B', 1, 3, 4]) });
    return ir.op('flatten', [ir.op('max_pool2d', [img], ['B', 1, 1, 2], pool(2, 2))], ['B', 2], { start: 1, end: -1 });
  },
  'relu read by max_pool2d and by another op': (ir, h) => {
    // The relu's gradient comes from both readers, so its mask cannot move to the pool's
    // gradient (as it does when the pool is the only reader).
    const r = ir.op('relu', [ir.op('reshape', [h], ['B', 3, 2, 2], { shape: shapeOf(['B', 3, 2, 2]) })], ['B', 3, 2, 2], {});
    const pooled = ir.op('flatten', [ir.op('max_pool2d', [r], ['B', 3, 1, 1], pool(2, 2))], ['B', 3], { start: 1, end: -1 });
    const mean = ir.op('mean', [ir.op('mean', [r], ['B', 3, 2], { axis: 3, keepdims: false })], ['B', 3], { axis: 2, keepdims: false });
    return ir.op('add', [pooled, mean], ['B', 3], {});
  },
  'max_pool2d with stride 1': (ir, h) => {
    const img = ir.op('reshape', [h], ['B', 3, 2, 2], { shape: shapeOf(['B', 3, 2, 2]) });
    return ir.op('flatten', [ir.op('max_pool2d', [img], ['B', 3, 1, 1], pool(2, 1))], ['B', 3], { start: 1, end: -1 });
  },
};
for (const [name, body] of Object.entries(cases)) {
  test(name, () => agree(opModel(body)));
}

test('embedding and cross_entropy', async () => {
  const ir = new IrBuilder();
  const tokens = ir.input('tokens', ['B', 5], 'int64');
  const w = ir.param('emb.weight', [20, 6], 'emb', { kind: 'normal', std: 1 });
  const e = ir.op('embedding', [tokens, w], ['B', 5, 6], { padding_idx: undefined }, 'emb');
  const h = ir.op('mean', [e], ['B', 6], { axis: 1, keepdims: false });
  await agree(ir.model('Bag', ir.linear('fc', h, 6, 3)), new Map(), 'cross_entropy');
});

/** softsign(x) = x / (1 + |x|) with a hand-written grad block g / (1 + |x|)^2, and a fn without one. */
function softsignFns(): Map<string, FnIR> {
  const fwd = new IrBuilder();
  const x = fwd.input('x', ['N', 12]);
  const denom = fwd.op('add', [fwd.op('abs', [x], ['N', 12], {})], ['N', 12], { scalar: 1, scalarFirst: true });
  const forward = fwd.model('softsign', fwd.op('div', [x, denom], ['N', 12], {})).graph;
  const bwd = new IrBuilder();
  const bx = bwd.input('x', ['N', 12]);
  const g = bwd.input('g', ['N', 12]);
  const d = bwd.op('add', [bwd.op('abs', [bx], ['N', 12], {})], ['N', 12], { scalar: 1, scalarFirst: true });
  const dx = bwd.op('div', [g, bwd.op('pow', [d], ['N', 12], { exponent: 2 })], ['N', 12], {});
  const graph = bwd.model('softsign_grad', dx).graph;
  const sw = new IrBuilder();
  const sx = sw.input('x', ['N', 12]);
  const swish = sw.model('swish', sw.op('mul', [sx, sw.op('sigmoid', [sx], ['N', 12], {})], ['N', 12], {})).graph;
  return new Map<string, FnIR>([
    ['softsign', { name: 'softsign', forward, backward: { graph, gradOutputs: [dx] } }],
    ['swish', { name: 'swish', forward: swish, backward: null }],
  ]);
}

test('fn calls: a grad block and an inlined fn', async () => {
  const fns = softsignFns();
  const model = opModel((ir, h) => {
    const s = ir.call('softsign', [h], ['B', 12]);
    return ir.call('swish', [s], ['B', 12]);
  });
  await agree(model, fns);
});
