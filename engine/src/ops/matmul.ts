// Matrix products: the `@` operator (`matmul`: 2-D, or batched with broadcast batch dims)
// and the `Linear` layer with its fused op `linear` (x · Wᵀ + b). NOTE: linear is fused
// rather than composed from transpose + matmul + add so neither pass materializes Wᵀ; the
// GEMM reads W transposed.

import type { Tensor } from '../tensor/tensor.js';
import { shapeSize } from '../tensor/shape.js';
import { record } from '../autograd/tape.js';
import { gemm } from '../kernels/gemm.js';
import { Dim, formatShape, type Shape } from '../shape/dim.js';
import { broadcast, elementCount, ruleError, type RuleResult } from '../shape/rules.js';
import type { LoweringContext, Val } from '../onnx/context.js';
import { bool, defineLayer, defineOpWith, size } from './def.js';
import { knownSize, uniformInit } from './initSpecs.js';
import { outputShape } from './shape-rule.js';
import { reshape } from './layout.js';
import { emptyFloat, requireFloat, resultDType } from './operand.js';

/** Offsets (in matrices) of each output batch entry into an operand with broadcast batch dims. */
function batchOffsets(batchShape: readonly number[], outBatch: readonly number[]): number[] {
  const total = shapeSize(outBatch);
  const offsets = new Array<number>(total);
  const rank = outBatch.length;
  for (let flat = 0; flat < total; flat++) {
    let rest = flat;
    let offset = 0;
    let stride = 1;
    for (let axis = rank - 1; axis >= 0; axis--) {
      const index = rest % outBatch[axis];
      rest = Math.floor(rest / outBatch[axis]);
      const own = axis - (rank - batchShape.length);
      if (own >= 0) {
        if (batchShape[own] !== 1) offset += index * stride;
        stride *= batchShape[own];
      }
    }
    offsets[flat] = offset;
  }
  return offsets;
}

export function matmul(a: Tensor, b: Tensor): Tensor {
  requireFloat('matmul', a, b);
  const shape = outputShape(matmulOp, [a.shape, b.shape], {});
  // A vector operand is a one-row (or one-column) matrix whose unit axis is dropped after.
  if (a.rank === 1) return reshape(matmul(reshape(a, [1, a.shape[0]]), b), shape);
  if (b.rank === 1) return reshape(matmul(a, reshape(b, [b.shape[0], 1])), shape);
  const [m, k] = a.shape.slice(-2);
  const n = b.shape[b.rank - 1];
  const outBatch = shape.slice(0, -2);
  const aOffsets = batchOffsets(a.shape.slice(0, -2), outBatch);
  const bOffsets = batchOffsets(b.shape.slice(0, -2), outBatch);
  const out = emptyFloat(shape, resultDType(a, b));
  for (let t = 0; t < aOffsets.length; t++) {
    gemm(m, n, k, { data: a.values, offset: aOffsets[t] * m * k, transposed: false },
      { data: b.values, offset: bOffsets[t] * k * n, transposed: false }, out.values, t * m * n, false);
  }
  // dA = G · Bᵀ and dB = Aᵀ · G per batch entry, accumulated where a batch dim was broadcast.
  return record('matmul', out, [a, b], (g) => {
    const gradA = a.requiresGrad ? emptyFloat(a.shape, g.dtype) : null;
    const gradB = b.requiresGrad ? emptyFloat(b.shape, g.dtype) : null;
    for (let t = 0; t < aOffsets.length; t++) {
      const upstream = { data: g.values, offset: t * m * n, transposed: false };
      if (gradA) gemm(m, k, n, upstream, { data: b.values, offset: bOffsets[t] * k * n, transposed: true }, gradA.values, aOffsets[t] * m * k, true);
      if (gradB) gemm(k, n, m, { data: a.values, offset: aOffsets[t] * m * k, transposed: true }, upstream, gradB.values, bOffsets[t] * k * n, true);
    }
    return [gradA, gradB];
  });
}

/** y = x · Wᵀ + b for x [..., in], W [out, in], b [out] (PyTorch's F.linear). */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  requireFloat('linear', x, weight, ...(bias ? [bias] : []));
  const shape = outputShape(linearOp, bias ? [x.shape, weight.shape, bias.shape] : [x.shape, weight.shape], {});
  const [outFeatures, inFeatures] = weight.shape;
  const rows = x.size / Math.max(inFeatures, 1);
  const out = emptyFloat(shape, resultDType(x, weight));
  const y = out.values;
  gemm(rows, outFeatures, inFeatures, { data: x.values, offset: 0, transposed: false },
    { data: weight.values, offset: 0, transposed: true }, y, 0, false);
  if (bias) {
    const bv = bias.values;
    for (let r = 0; r < rows; r++) {
      const row = r * outFeatures;
      for (let j = 0; j < outFeatures; j++) y[row + j] += bv[j];
    }
  }
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record('linear', out, inputs, (g) => {
    const up = { data: g.values, offset: 0, transposed: false };
    let gradX = null;
    let gradW = null;
    let gradB = null;
    if (x.requiresGrad) {
      gradX = emptyFloat(x.shape, g.dtype);
      gemm(rows, inFeatures, outFeatures, up, { data: weight.values, offset: 0, transposed: false }, gradX.values, 0, false);
    }
    if (weight.requiresGrad) {
      gradW = emptyFloat(weight.shape, g.dtype);
      gemm(outFeatures, inFeatures, rows, { data: g.values, offset: 0, transposed: true },
        { data: x.values, offset: 0, transposed: false }, gradW.values, 0, false);
    }
    if (bias?.requiresGrad) {
      gradB = emptyFloat(bias.shape, g.dtype);
      const gb = gradB.values;
      const gv = g.values;
      for (let r = 0; r < rows; r++) for (let j = 0; j < outFeatures; j++) gb[j] += gv[r * outFeatures + j];
    }
    return [gradX, gradW, gradB];
  });
}

// -- definitions ---------------------------------------------------------------------------

const matmulRule = ([a, b]: readonly Shape[]): RuleResult => {
  if (a.length === 0 || b.length === 0) return ruleError('NN2108', ['`@`', 'tensors of rank 1 or more', { input: a.length === 0 ? 0 : 1 }, formatShape(a.length === 0 ? a : b)]);
  const left = a.length === 1 ? [Dim.of(1), a[0]] : a;
  const right = b.length === 1 ? [b[0], Dim.of(1)] : b;
  const inner = left[left.length - 1];
  const innerRight = right[right.length - 2];
  const batch = broadcast(left.slice(0, -2), right.slice(0, -2));
  const rows = a.length === 1 ? [] : [left[left.length - 2]];
  const cols = b.length === 1 ? [] : [right[right.length - 1]];
  // Inner sizes that differ do not change the result's shape; batch dims that do not broadcast leave it unknown.
  const out = 'error' in batch ? undefined : [...batch.shape, ...rows, ...cols];
  if (!inner.equals(innerRight)) return ruleError('NN2102', [formatShape(a), formatShape(b), inner.toString(), innerRight.toString()], out);
  return out === undefined ? batch : { shape: out };
};

/** Swaps the last two axes (the transpose of a batched matrix). */
function matrixTranspose(ctx: LoweringContext, x: Val): Val {
  const rank = x.shape.length;
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return ctx.op('Transpose', [x.name], { perm }, perm.map((p) => x.shape[p]));
}

export const matmulOp = defineOpWith<Record<string, never>>()({
  name: 'matmul',
  surface: 'operator',
  notation: { kind: 'infix', symbol: '@', operands: 'matrices' },
  params: [],
  doc: { torchClass: 'MatMul', summary: 'Matrix product `a @ b`: 2-D, or batched over broadcast leading dims.', gradient: 'dL/da = g @ bᵀ, dL/db = aᵀ @ g, summed over broadcast batch dims' },
  shape: matmulRule,
  flops: ([a], output) => (a.length > 0 ? elementCount(output).mul(a[a.length - 1]).scale(2) : Dim.of(0)),
  ts: ([a, b]) => matmul(a, b),
  onnx: {
    forward: (ctx, [a, b]) => {
      if (a.shape.length < 2 || b.shape.length < 2) throw ctx.unsupported('`@` on a 1-D operand');
      return { outputs: [ctx.b.op1('MatMul', [a.name, b.name])] };
    },
    backward: (ctx, { inputs: [a, b] }, g, needs) => {
      const ga = needs[0] ? ctx.op('MatMul', [g.name, matrixTranspose(ctx, b).name], {}, [...g.shape.slice(0, -1), a.shape[a.shape.length - 1]]) : null;
      const gb = needs[1] ? ctx.op('MatMul', [matrixTranspose(ctx, a).name, g.name], {}, [...g.shape.slice(0, -2), b.shape[b.shape.length - 2], g.shape[g.shape.length - 1]]) : null;
      return [ga && ctx.reduceToShape(ga, a.shape), gb && ctx.reduceToShape(gb, b.shape)];
    },
  },
  pytorch: ([a, b]) => `${a} @ ${b}`,
});

const linearRule = ([x, weight]: readonly Shape[]): RuleResult => {
  const [outFeatures, inFeatures] = weight;
  // A single number where the input meant may have had batch axes: the result is unknown.
  if (x.length === 0) return ruleError('NN2108', ['Linear', 'an input of rank 1 or more', { input: 0 }, formatShape(x)]);
  const out = x.slice();
  out[out.length - 1] = outFeatures;
  if (!x[x.length - 1].equals(inFeatures)) return ruleError('NN2103', [inFeatures.toString(), { input: 0 }, formatShape(x), { origin: 0 }], out);
  return { shape: out };
};

/** The op of `Linear`: inputs x [..., in], weight [out, in] and, with a bias, bias [out]. */
export const linearOp = defineOpWith<Record<string, never>>()({
  name: 'linear',
  surface: 'layer',
  params: [],
  doc: { summary: 'Affine map `y = x · Wᵀ + b` over the last axis.', gradient: 'dL/dx = g · W, dL/dW = gᵀ · x (summed over the batch), dL/db = Σ g over the batch' },
  shape: linearRule,
  flops: (inputs, output) => elementCount(output).mul(inputs[1][1]).scale(2),
  linearity: 'linear-map',
  ts: ([x, weight, bias]) => linear(x, weight, bias ?? null),
  onnx: {
    forward: (ctx, [x, w, bias]) => {
      if (x.shape.length === 2) return { outputs: [ctx.b.op1('Gemm', bias ? [x.name, w.name, bias.name] : [x.name, w.name], { transB: 1 })] };
      const y = ctx.b.op1('MatMul', [x.name, ctx.b.op1('Transpose', [w.name], { perm: [1, 0] })]);
      return { outputs: [bias ? ctx.b.op1('Add', [y, bias.name]) : y] };
    },
    backward: (ctx, { inputs: [x, w, bias] }, g, needs) => {
      const [outF, inF] = w.shape;
      const rows = Dim.named('N');
      const g2 = x.shape.length === 2 ? g : ctx.reshape(g, [rows, outF], [g]);
      const x2 = x.shape.length === 2 ? x : ctx.reshape(x, [rows, inF], [x]);
      const dx = needs[0] ? ctx.op(x.shape.length === 2 ? 'Gemm' : 'MatMul', [g.name, w.name], {}, x.shape) : null;
      const dw = needs[1] ? ctx.op('Gemm', [g2.name, x2.name], { transA: 1 }, w.shape) : null;
      const db = bias && needs[2] ? ctx.sum(g2, [0], false) : null;
      return [dx, dw, db];
    },
  },
  pytorch: ([x, w, b]) => `F.linear(${x}, ${w}${b ? `, ${b}` : ''})`,
});

export const LinearLayer = defineLayer({
  name: 'Linear',
  op: linearOp,
  params: [
    size('in', { aliases: ['in_features'], min: 1, doc: "input features (the input's last dim)" }),
    size('out', { aliases: ['out_features'], min: 1, doc: 'output features' }),
    bool('bias', { default: true, doc: 'learn an additive bias' }),
  ],
  doc: { summary: 'Affine map `y = x · Wᵀ + b` over the last axis; `weight: [out, in]`, `bias: [out]`.' },
  weights: (args) => {
    const fanIn = knownSize(args.in);
    const params = [{ suffix: 'weight', shape: [args.out, args.in], init: uniformInit('kaiming_uniform', fanIn) }];
    if (args.bias) params.push({ suffix: 'bias', shape: [args.out], init: uniformInit('bias_uniform', fanIn) });
    return { params, buffers: [] };
  },
  attrs: () => ({}),
  inputSize: { arg: 'in', pytorchName: 'in_features', axis: -1 },
  pytorch: (args) => `nn.Linear(${args.in}, ${args.out}${args.bias ? '' : ', bias=False'})`,
});
