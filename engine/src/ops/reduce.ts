// Reductions over one axis (or all elements): sum, mean and max, with keepdims.
// max sends its gradient to the first position of each maximum, like PyTorch's max(dim).

import { Tensor } from '../tensor/tensor.js';
import { splitAtAxis } from '../tensor/shape.js';
import { record } from '../autograd/tape.js';
import { inferShape, resolveAxis } from './shape-rule.js';
import { emptyFloat, requireFloat } from './operand.js';

export interface ReduceOptions {
  /** The axis to reduce; all axes when omitted. */
  axis?: number;
  keepdims?: boolean;
}

/** (outer, length, inner) of the reduced layout: all elements form one axis when no axis is given. */
function layoutOf(x: Tensor, axis: number | undefined): { outer: number; length: number; inner: number } {
  if (axis === undefined) return { outer: 1, length: x.size, inner: 1 };
  return splitAtAxis(x.shape, resolveAxis(axis, x.rank));
}

function attrsOf(options: ReduceOptions): { axis?: number; keepdims: boolean } {
  return options.axis === undefined ? { keepdims: options.keepdims ?? false } : { axis: options.axis, keepdims: options.keepdims ?? false };
}

/** Sum over the axis, scaled by `scale` (1 for sum, 1/n for mean). */
function scaledSum(op: 'sum' | 'mean', x: Tensor, options: ReduceOptions, scaleOf: (length: number) => number): Tensor {
  requireFloat(op, x);
  const out = emptyFloat(inferShape(op, [x.shape], attrsOf(options)), x.dtype);
  const { outer, length, inner } = layoutOf(x, options.axis);
  const scale = scaleOf(length);
  const src = x.values;
  const dst = out.values;
  for (let o = 0; o < outer; o++) {
    const base = o * length * inner;
    for (let l = 0; l < length; l++) {
      const row = base + l * inner;
      for (let i = 0; i < inner; i++) dst[o * inner + i] += src[row + i];
    }
  }
  if (scale !== 1) for (let i = 0; i < dst.length; i++) dst[i] *= scale;
  return record(op, out, [x], (g) => {
    const grad = emptyFloat(x.shape, g.dtype);
    const up = g.values;
    const gd = grad.values;
    for (let o = 0; o < outer; o++) {
      for (let l = 0; l < length; l++) {
        const row = (o * length + l) * inner;
        for (let i = 0; i < inner; i++) gd[row + i] = up[o * inner + i] * scale;
      }
    }
    return [grad];
  });
}

export function sum(x: Tensor, options: ReduceOptions = {}): Tensor {
  return scaledSum('sum', x, options, () => 1);
}

export function mean(x: Tensor, options: ReduceOptions = {}): Tensor {
  return scaledSum('mean', x, options, (length) => 1 / length);
}

export function max(x: Tensor, options: ReduceOptions = {}): Tensor {
  requireFloat('max', x);
  const out = emptyFloat(inferShape('max', [x.shape], attrsOf(options)), x.dtype);
  const { outer, length, inner } = layoutOf(x, options.axis);
  if (length === 0) throw new RangeError('max: cannot reduce an empty axis');
  const argmax = new Int32Array(out.size);
  const src = x.values;
  const dst = out.values;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let best = -Infinity;
      let at = 0;
      for (let l = 0; l < length; l++) {
        const v = src[(o * length + l) * inner + i];
        if (v > best || Number.isNaN(v)) {
          best = v;
          at = l;
          if (Number.isNaN(v)) break;
        }
      }
      dst[o * inner + i] = best;
      argmax[o * inner + i] = (o * length + at) * inner + i;
    }
  }
  return record('max', out, [x], (g) => {
    const grad = emptyFloat(x.shape, g.dtype);
    const up = g.values;
    for (let j = 0; j < argmax.length; j++) grad.values[argmax[j]] = up[j];
    return [grad];
  }, [new Tensor(argmax, [argmax.length], 'int64')]);
}
