// Matrix product primitives: `matmul` (2-D, or batched with broadcast batch dims) and the
// fused `linear` layer op (x · Wᵀ + b). NOTE: linear is fused rather than composed from
// transpose + matmul + add so neither pass materializes Wᵀ; the GEMM reads W transposed.

import type { Tensor } from '../tensor/tensor.js';
import { shapeSize } from '../tensor/shape.js';
import { record } from '../autograd/tape.js';
import { gemm } from '../kernels/gemm.js';
import { inferShape } from './shape-rule.js';
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
  const shape = inferShape('matmul', [a.shape, b.shape], {});
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
  const shape = inferShape('linear', bias ? [x.shape, weight.shape, bias.shape] : [x.shape, weight.shape], {});
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
