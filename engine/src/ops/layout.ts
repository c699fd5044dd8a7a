// Layout primitives: transpose, reshape (and flatten, a reshape), concat, detach.

import { Tensor } from '../tensor/tensor.js';
import { splitAtAxis, stridesOf } from '../tensor/shape.js';
import { record } from '../autograd/tape.js';
import { constantShape, inferShape, resolveAxis } from './shape-rule.js';
import { emptyFloat, requireFloat } from './operand.js';

/** Copies `src` (of `shape`) with axes a and b swapped into `dst`. */
function swapAxes(src: ArrayLike<number>, dst: Float32Array | Float64Array, shape: readonly number[], a: number, b: number): void {
  const rank = shape.length;
  const inStrides = stridesOf(shape);
  const outShape = [...shape];
  [outShape[a], outShape[b]] = [outShape[b], outShape[a]];
  // For each output index, the input offset moves by the input stride of the swapped axis.
  const step = [...inStrides];
  [step[a], step[b]] = [step[b], step[a]];
  const index = new Array<number>(rank).fill(0);
  let offset = 0;
  for (let o = 0; o < dst.length; o++) {
    dst[o] = src[offset];
    for (let axis = rank - 1; axis >= 0; axis--) {
      index[axis]++;
      offset += step[axis];
      if (index[axis] < outShape[axis]) break;
      offset -= step[axis] * outShape[axis];
      index[axis] = 0;
    }
  }
}

export function transpose(x: Tensor, a: number, b: number): Tensor {
  requireFloat('transpose', x);
  const shape = inferShape('transpose', [x.shape], { dim0: a, dim1: b });
  const axisA = resolveAxis(a, x.rank);
  const axisB = resolveAxis(b, x.rank);
  const out = emptyFloat(shape, x.dtype);
  swapAxes(x.values, out.values, x.shape, axisA, axisB);
  return record('transpose', out, [x], (g) => {
    const grad = emptyFloat(x.shape, g.dtype);
    swapAxes(g.values, grad.values, g.shape, axisA, axisB);
    return [grad];
  });
}

/** A view with new dims (one may be -1); the data is shared, as in PyTorch's view. */
export function reshape(x: Tensor, dims: readonly number[]): Tensor {
  const shape = inferShape('reshape', [x.shape], { shape: constantShape(dims) });
  const out = new Tensor(x.data, shape, x.dtype);
  return record('reshape', out, [x], (g) => [new Tensor(g.data, x.shape, g.dtype)]);
}

/** Flattens the axes from `start` on into one (composition: a reshape). */
export function flatten(x: Tensor, start = 1): Tensor {
  return reshape(x, inferShape('flatten', [x.shape], { start, end: -1 }));
}

export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new RangeError('concat: needs at least one tensor');
  requireFloat('concat', ...xs);
  const shape = inferShape('concat', xs.map((x) => x.shape), { axis });
  const resolved = resolveAxis(axis, shape.length);
  const { outer, inner } = splitAtAxis(shape, resolved);
  const out = emptyFloat(shape, xs.some((x) => x.dtype === 'float64') ? 'float64' : 'float32');
  const dst = out.values;
  const rowLength = shape[resolved] * inner;
  const starts: number[] = [];
  let start = 0;
  for (const x of xs) {
    starts.push(start);
    const chunk = x.shape[resolved] * inner;
    const src = x.values;
    for (let o = 0; o < outer; o++) dst.set(src.subarray(o * chunk, (o + 1) * chunk), o * rowLength + start);
    start += chunk;
  }
  return record('concat', out, xs, (g) =>
    xs.map((x, k) => {
      if (!x.requiresGrad) return null;
      const chunk = x.shape[resolved] * inner;
      const grad = emptyFloat(x.shape, g.dtype);
      for (let o = 0; o < outer; o++) {
        grad.values.set(g.values.subarray(o * rowLength + starts[k], o * rowLength + starts[k] + chunk), o * chunk);
      }
      return grad;
    }),
  );
}

/** The same values, cut from the tape: no gradient flows back through it. */
export function detach(x: Tensor): Tensor {
  return x.detach();
}
