// `narrow(x, dim, start, length)`: the `length` entries of axis `dim` from `start`, as
// torch.narrow; the gradient is g placed back at those entries, zero elsewhere. The
// composite ops (attention's packed projections, the recurrent layers' gates) cut with it.

import { record } from '../autograd/tape.js';
import type { Tensor } from '../tensor/tensor.js';
import { splitAtAxis } from '../tensor/shape.js';
import { Dim, formatShape, type Shape } from '../shape/dim.js';
import { normalizeAxis, ruleError, type RuleResult } from '../shape/rules.js';
import { axis, defineOp, int, tensor } from './def.js';
import { outputShape, resolveAxis } from './shape-rule.js';
import { emptyFloat, requireFloat } from './operand.js';

interface NarrowAttrs {
  dim: number;
  start: number;
  length: number;
}

/** Copies rows between a tensor and its narrowed part: `toPart` picks, else scatters back. */
function copyRows(full: Float32Array | Float64Array, part: Float32Array | Float64Array, shape: readonly number[], at: number, { start, length }: NarrowAttrs, toPart: boolean): void {
  const { outer, inner } = splitAtAxis(shape, at);
  const fullRow = shape[at] * inner;
  const partRow = length * inner;
  for (let o = 0; o < outer; o++) {
    const from = o * fullRow + start * inner;
    if (toPart) part.set(full.subarray(from, from + partRow), o * partRow);
    else full.set(part.subarray(o * partRow, (o + 1) * partRow), from);
  }
}

export function narrow(x: Tensor, attrs: NarrowAttrs): Tensor {
  requireFloat('narrow', x);
  const shape = outputShape(narrowOp, [x.shape], attrs);
  const at = resolveAxis(attrs.dim, x.rank);
  const out = emptyFloat(shape, x.dtype);
  copyRows(x.values, out.values, x.shape, at, attrs, true);
  return record('narrow', out, [x], (g) => {
    const grad = emptyFloat(x.shape, g.dtype);
    copyRows(grad.values, g.values, x.shape, at, attrs, false);
    return [grad];
  });
}

const narrowRule = ([input]: readonly Shape[], { dim, start, length }: NarrowAttrs): RuleResult => {
  const at = normalizeAxis(dim, input.length);
  if (at === null) return ruleError('NN2109', [dim, formatShape(input)]);
  const out = input.map((d, k) => (k === at ? Dim.of(length) : d));
  const size = input[at].constant();
  if (size !== null && start + length > size) return ruleError('NN2007', ['narrow', 'start + length', `at most the size ${size} of axis ${dim}`, start + length], out);
  return { shape: out };
};

export const narrowOp = defineOp({
  name: 'narrow',
  surface: 'function',
  params: [
    tensor('x', { aliases: ['input'] }),
    axis('dim', { doc: 'the axis to cut' }),
    int('start', { min: 0, doc: 'the first entry kept' }),
    int('length', { min: 1, doc: 'how many entries are kept' }),
  ],
  doc: { summary: 'The `length` entries of axis `dim` from `start` (torch.narrow).', gradient: 'dL/dx = g at the kept entries, 0 elsewhere' },
  shape: narrowRule,
  linearity: 'shape-only',
  ts: ([input], attrs) => narrow(input, attrs),
  onnx: {
    forward: (ctx, [input], { dim, start, length }) => {
      const at = resolveAxis(dim, input.shape.length);
      return { outputs: [ctx.b.op1('Slice', [input.name, ctx.b.constInt([start]), ctx.b.constInt([start + length]), ctx.b.constInt([at])])] };
    },
    backward: (ctx, { inputs: [input], attrs: { dim, start, length } }, g) => {
      const rank = input.shape.length;
      const at = resolveAxis(dim, rank);
      const [size] = ctx.constantDims([input.shape[at]], 'the gradient of narrow');
      const pads = new Array<number>(2 * rank).fill(0);
      pads[at] = start;
      pads[rank + at] = size - start - length;
      return [ctx.op('Pad', [g.name, ctx.b.constInt(pads)], {}, input.shape)];
    },
  },
  pytorch: ([input], { dim, start, length }) => `torch.narrow(${input}, ${dim}, ${start}, ${length})`,
});
