// Variance and standard deviation over one axis (or all elements), as torch.var and
// torch.std: Σ(x − mean)² / (n − correction), Bessel's correction (1) by default.

import { record } from '../autograd/tape.js';
import type { Tensor } from '../tensor/tensor.js';
import { splitAtAxis } from '../tensor/shape.js';
import { elementCount } from '../shape/rules.js';
import type { LoweringContext, Val } from '../onnx/context.js';
import { axis, bool, defineOp, int, tensor } from './def.js';
import { axesOf, reduceRule, type ReduceAttrs } from './reduce.js';
import { outputShape, resolveAxis } from './shape-rule.js';
import { emptyFloat, requireFloat } from './operand.js';

interface MomentAttrs extends ReduceAttrs {
  correction: number;
}

/** var or std of `x`: the rows' deviations from their mean are kept for the gradient. */
function moment(op: 'var' | 'std', x: Tensor, attrs: MomentAttrs): Tensor {
  requireFloat(op, x);
  const out = emptyFloat(outputShape(MOMENTS[op], [x.shape], attrs), x.dtype);
  const { outer, length, inner } = attrs.axis === undefined ? { outer: 1, length: x.size, inner: 1 } : splitAtAxis(x.shape, resolveAxis(attrs.axis, x.rank));
  const divisor = length - attrs.correction;
  const src = x.values;
  const centered = emptyFloat(x.shape, x.dtype).values;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let sum = 0;
      for (let l = 0; l < length; l++) sum += src[(o * length + l) * inner + i];
      const mean = sum / length;
      let squares = 0;
      for (let l = 0; l < length; l++) {
        const at = (o * length + l) * inner + i;
        centered[at] = src[at] - mean;
        squares += centered[at] * centered[at];
      }
      out.values[o * inner + i] = op === 'var' ? squares / divisor : Math.sqrt(squares / divisor);
    }
  }
  return record(op, out, [x], (g) => {
    const grad = emptyFloat(x.shape, g.dtype);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const row = o * inner + i;
        // d var / dx = 2 (x − mean) / (n − c); d std / dx = (x − mean) / ((n − c) · std).
        const factor = op === 'var' ? (2 * g.values[row]) / divisor : g.values[row] / (divisor * out.values[row]);
        for (let l = 0; l < length; l++) {
          const at = (o * length + l) * inner + i;
          grad.values[at] = factor * centered[at];
        }
      }
    }
    return [grad];
  });
}

/** n − correction as a float32 scalar (n batch-dependent where its axes are). */
function divisorOf(ctx: LoweringContext, x: Val, axes: number[], correction: number): string {
  return ctx.b.op1('Sub', [ctx.count(x, axes), ctx.scalar(correction)]);
}

function momentDef<const N extends 'var' | 'std'>(name: N, summary: string, gradient: string) {
  return defineOp({
    name,
    surface: 'function',
    params: [
      tensor('x', { aliases: ['input'] }),
      axis('axis', { default: null, aliases: ['dim'], doc: 'the axis to reduce; every axis when absent' }),
      bool('keepdims', { default: false, aliases: ['keepdim'], doc: 'keep the reduced axis with size 1' }),
      int('correction', { default: 1, min: 0, doc: 'subtracted from the count: 1 is Bessel\'s (unbiased), 0 the population variance' }),
    ],
    doc: { summary, gradient },
    shape: reduceRule,
    flops: ([x]) => elementCount(x).scale(4),
    ts: ([x], attrs) => moment(name, x, attrs),
    onnx: {
      forward: (ctx, [x], attrs) => {
        const axes = axesOf(attrs, x.shape.length);
        const centered = ctx.binary('Sub', x, ctx.reduce('ReduceMean', x, axes, true), x);
        const variance = ctx.binary('Div', ctx.sum(ctx.binary('Mul', centered, centered, x), axes, attrs.keepdims), divisorOf(ctx, x, axes, attrs.correction), x);
        return { outputs: [name === 'var' ? variance.name : ctx.b.op1('Sqrt', [variance.name])], saved: { centered } };
      },
      backward: (ctx, { inputs: [x], outputs: [y], attrs, saved: { centered } }, g) => {
        const axes = axesOf(attrs, x.shape.length);
        const divisor = divisorOf(ctx, x, axes, attrs.correction);
        const scale = name === 'var' ? ctx.binary('Div', ctx.binary('Mul', g, ctx.scalar(2), g), divisor, g) : ctx.binary('Div', g, ctx.binary('Mul', y, divisor, y), g);
        return [ctx.binary('Mul', ctx.expandBack(scale, x, axes, attrs.keepdims), centered, x)];
      },
    },
    pytorch: ([x], attrs) => `torch.${name}(${x}, dim=${attrs.axis ?? 'None'}, correction=${attrs.correction}, keepdim=${attrs.keepdims ? 'True' : 'False'})`,
  });
}

export const varOp = momentDef(
  'var',
  'Variance over `axis` (every axis when absent): Σ(x − mean)² / (n − correction), with Bessel\'s correction by default (torch.var).',
  'dL/dx = g · 2(x − mean) / (n − correction), broadcast back over the reduced axis',
);

export const stdOp = momentDef(
  'std',
  'Standard deviation over `axis` (every axis when absent): √(Σ(x − mean)² / (n − correction)), with Bessel\'s correction by default (torch.std).',
  'dL/dx = g · (x − mean) / ((n − correction) · std), broadcast back over the reduced axis',
);

const MOMENTS = { var: varOp, std: stdOp } as const;
