// `cumsum(x, dim)`: running sums along an axis, as torch.cumsum; the gradient is the running
// sum of g taken from the other end (ONNX's CumSum with `reverse`).

import { record } from '../autograd/tape.js';
import type { Tensor } from '../tensor/tensor.js';
import { splitAtAxis } from '../tensor/shape.js';
import { formatShape } from '../shape/dim.js';
import { elementCount, normalizeAxis, ruleError } from '../shape/rules.js';
import { axis, defineOp, tensor } from './def.js';
import { outputShape, resolveAxis } from './shape-rule.js';
import { emptyFloat, requireFloat } from './operand.js';

/** Running sums of `src` along the axis of the layout, from its start or (`reverse`) its end. */
function runningSums(src: Float32Array | Float64Array, into: Float32Array | Float64Array, shape: readonly number[], at: number, reverse: boolean): void {
  const { outer, length, inner } = splitAtAxis(shape, at);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let total = 0;
      for (let step = 0; step < length; step++) {
        const l = reverse ? length - 1 - step : step;
        const k = (o * length + l) * inner + i;
        total += src[k];
        into[k] = total;
      }
    }
  }
}

export function cumsum(x: Tensor, dim: number): Tensor {
  requireFloat('cumsum', x);
  const out = emptyFloat(outputShape(cumsumOp, [x.shape], { dim }), x.dtype);
  const at = resolveAxis(dim, x.rank);
  runningSums(x.values, out.values, x.shape, at, false);
  return record('cumsum', out, [x], (g) => {
    const grad = emptyFloat(x.shape, g.dtype);
    runningSums(g.values, grad.values, x.shape, at, true);
    return [grad];
  });
}

export const cumsumOp = defineOp({
  name: 'cumsum',
  surface: 'function',
  params: [tensor('x', { aliases: ['input'] }), axis('dim', { aliases: ['axis'], doc: 'the axis summed along' })],
  doc: { summary: 'Running sums along `dim`: entry i is the sum of entries 0 … i (torch.cumsum).', gradient: 'dL/dx = the running sum of g along dim, from the end' },
  shape: ([x], { dim }) => (normalizeAxis(dim, x.length) === null ? ruleError('NN2109', [dim, formatShape(x)]) : { shape: x }),
  flops: ([x]) => elementCount(x),
  ts: ([x], { dim }) => cumsum(x, dim),
  onnx: {
    forward: (ctx, [x], { dim }) => ({ outputs: [ctx.b.op1('CumSum', [x.name, ctx.b.constInt(resolveAxis(dim, x.shape.length))])] }),
    backward: (ctx, { inputs: [x], attrs: { dim } }, g) => [ctx.op('CumSum', [g.name, ctx.b.constInt(resolveAxis(dim, x.shape.length))], { reverse: 1 }, x.shape)],
  },
  pytorch: ([x], { dim }) => `torch.cumsum(${x}, dim=${dim})`,
});
