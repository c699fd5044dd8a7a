// Elementwise kernels over flat typed arrays: in-place accumulation, relu and its gradient
// (split over the kernel threads when large), NumPy broadcasting of two operands, and
// summing a broadcast gradient back to an operand's shape.

import type { FloatArray } from '../tensor/tensor.js';
import { shapeSize } from '../tensor/shape.js';
import { parallelFor } from './pool.js';

/** Elements per thread below which an elementwise pass stays on the calling thread. */
const ELEMENTWISE_WORK = 4;

export function addInto(target: FloatArray, source: FloatArray): void {
  parallelFor('add_into', target.length, target.length * ELEMENTWISE_WORK, [target, source], [0], []);
}

export function addIntoPart(arrays: readonly FloatArray[], _scalars: readonly number[], first: number, end: number): void {
  const [target, source] = arrays;
  for (let i = first; i < end; i++) target[i] += source[i];
}

/** dst = max(src, 0). */
export function reluForward(src: FloatArray, dst: FloatArray): void {
  parallelFor('relu', src.length, src.length * ELEMENTWISE_WORK, [src, dst], [1], []);
}

export function reluPart(arrays: readonly FloatArray[], _scalars: readonly number[], first: number, end: number): void {
  const [src, dst] = arrays;
  // Branch-free forms: on random signs a branch mispredicts half the time (8× slower here).
  // (v + |v|)/2 is exactly max(v, 0), never −0, and keeps NaN.
  for (let i = first; i < end; i++) {
    const v = src[i];
    dst[i] = (v + Math.abs(v)) * 0.5;
  }
}

/** grad = upstream where the relu output y is positive, else 0. */
export function reluBackward(upstream: FloatArray, y: FloatArray, grad: FloatArray): void {
  parallelFor('relu_grad', grad.length, grad.length * ELEMENTWISE_WORK, [upstream, y, grad], [2], []);
}

/** The bits of float32 +Inf: the bits of a positive float32 are 1 through this (a NaN's lie above). */
const FLOAT32_INF_BITS = 0x7f800000;

export function reluGradPart(arrays: readonly FloatArray[], _scalars: readonly number[], first: number, end: number): void {
  const [up, y, gd] = arrays;
  // Selected, not multiplied by a 0/1 mask (as PyTorch's threshold_backward): an Inf stays out of an off unit.
  if (!(up instanceof Float32Array && y instanceof Float32Array && gd instanceof Float32Array)) {
    for (let i = first; i < end; i++) gd[i] = y[i] > 0 ? up[i] : 0;
    return;
  }
  // Float32 selects on the bits, branch-free: on random signs the branch mispredicts half the
  // time. y > 0 exactly when y's bits are in [1, +Inf's bits], when both -bits and
  // bits - (+Inf's bits + 1) are negative: then their AND shifted right is all ones.
  const upBits = new Int32Array(up.buffer, up.byteOffset, up.length);
  const yBits = new Int32Array(y.buffer, y.byteOffset, y.length);
  const gdBits = new Int32Array(gd.buffer, gd.byteOffset, gd.length);
  for (let i = first; i < end; i++) {
    const bits = yBits[i];
    gdBits[i] = upBits[i] & ((-bits & (bits - (FLOAT32_INF_BITS + 1))) >> 31);
  }
}

/** Strides of `shape` aligned right to a rank-`rank` output, 0 on broadcast axes. */
function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const rank = outShape.length;
  const strides = new Array<number>(rank).fill(0);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const axis = rank - shape.length + i;
    strides[axis] = shape[i] === 1 && outShape[axis] !== 1 ? 0 : stride;
    stride *= shape[i];
  }
  return strides;
}

/**
 * Calls `visit(aOffset, bOffset, outOffset, count, aStep, bStep)` for each run along the
 * last axis of `outShape`, with operand offsets following broadcasting.
 */
function forEachRun(
  aShape: readonly number[],
  bShape: readonly number[],
  outShape: readonly number[],
  visit: (aOffset: number, bOffset: number, outOffset: number, count: number, aStep: number, bStep: number) => void,
): void {
  const rank = outShape.length;
  if (rank === 0) {
    visit(0, 0, 0, 1, 0, 0);
    return;
  }
  const aStrides = broadcastStrides(aShape, outShape);
  const bStrides = broadcastStrides(bShape, outShape);
  const inner = outShape[rank - 1];
  const runs = shapeSize(outShape) / Math.max(inner, 1);
  if (inner === 0) return;
  const index = new Array<number>(rank - 1).fill(0);
  let aOffset = 0;
  let bOffset = 0;
  for (let run = 0; run < runs; run++) {
    visit(aOffset, bOffset, run * inner, inner, aStrides[rank - 1], bStrides[rank - 1]);
    for (let axis = rank - 2; axis >= 0; axis--) {
      index[axis]++;
      aOffset += aStrides[axis];
      bOffset += bStrides[axis];
      if (index[axis] < outShape[axis]) break;
      aOffset -= aStrides[axis] * outShape[axis];
      bOffset -= bStrides[axis] * outShape[axis];
      index[axis] = 0;
    }
  }
}

export type BinaryCode = 'add' | 'sub' | 'mul' | 'div' | ComparisonCode;

/** The comparisons, each giving 1 where it holds and 0 elsewhere (a mask). */
export type ComparisonCode = 'lt' | 'gt' | 'le' | 'ge' | 'eq' | 'ne';

/** out = a (op) b with broadcasting; one loop per op so the inner loops stay monomorphic. */
export function broadcastBinary(
  code: BinaryCode,
  a: FloatArray,
  aShape: readonly number[],
  b: FloatArray,
  bShape: readonly number[],
  out: FloatArray,
  outShape: readonly number[],
): void {
  forEachRun(aShape, bShape, outShape, (ao, bo, oo, n, as, bs) => {
    switch (code) {
      case 'add':
        for (let i = 0; i < n; i++) out[oo + i] = a[ao + i * as] + b[bo + i * bs];
        break;
      case 'sub':
        for (let i = 0; i < n; i++) out[oo + i] = a[ao + i * as] - b[bo + i * bs];
        break;
      case 'mul':
        for (let i = 0; i < n; i++) out[oo + i] = a[ao + i * as] * b[bo + i * bs];
        break;
      case 'div':
        for (let i = 0; i < n; i++) out[oo + i] = a[ao + i * as] / b[bo + i * bs];
        break;
      case 'lt':
        for (let i = 0; i < n; i++) out[oo + i] = a[ao + i * as] < b[bo + i * bs] ? 1 : 0;
        break;
      case 'gt':
        for (let i = 0; i < n; i++) out[oo + i] = a[ao + i * as] > b[bo + i * bs] ? 1 : 0;
        break;
      case 'le':
        for (let i = 0; i < n; i++) out[oo + i] = a[ao + i * as] <= b[bo + i * bs] ? 1 : 0;
        break;
      case 'ge':
        for (let i = 0; i < n; i++) out[oo + i] = a[ao + i * as] >= b[bo + i * bs] ? 1 : 0;
        break;
      case 'eq':
        for (let i = 0; i < n; i++) out[oo + i] = a[ao + i * as] === b[bo + i * bs] ? 1 : 0;
        break;
      case 'ne':
        for (let i = 0; i < n; i++) out[oo + i] = a[ao + i * as] !== b[bo + i * bs] ? 1 : 0;
        break;
    }
  });
}

/** Sums `grad` (of `gradShape`) over the axes along which `targetShape` was broadcast. */
export function sumToShape(
  grad: FloatArray,
  gradShape: readonly number[],
  target: FloatArray,
  targetShape: readonly number[],
): void {
  target.fill(0);
  forEachRun(targetShape, targetShape, gradShape, (to, _unused, go, n, ts) => {
    if (ts === 0) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += grad[go + i];
      target[to] += sum;
    } else {
      for (let i = 0; i < n; i++) target[to + i * ts] += grad[go + i];
    }
  });
}
