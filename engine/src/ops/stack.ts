// `stack(a, b, dim = 0)` or `stack([a, b])`: tensors of one shape joined along a new axis
// (torch.stack), a concat of their unsqueezes; the gradient of each is its slice of g.

import { Dim, formatShape, shapesEqual, type Shape } from '../shape/dim.js';
import { argError, normalizeAxis, type RuleResult } from '../shape/rules.js';
import { axis, defineOp, tensors } from './def.js';
import { concat, reshape } from './layout.js';
import { resolveAxis } from './shape-rule.js';

const stackRule = (inputs: readonly Shape[], { dim }: { dim: number }): RuleResult => {
  const first = inputs[0];
  const at = normalizeAxis(dim, first.length + 1);
  if (at === null) return argError('dim', 'NN2109', [dim, formatShape(first)]);
  const other = inputs.findIndex((s) => !shapesEqual(s, first));
  // Any of the shapes may be the mistake: the result is unknown (no shape).
  if (other >= 0) return argError('tensors', 'NN2152', [formatShape(first), other + 1, formatShape(inputs[other])]);
  return { shape: [...first.slice(0, at), Dim.of(inputs.length), ...first.slice(at)] };
};

export const stackOp = defineOp({
  name: 'stack',
  surface: 'function',
  params: [tensors('tensors', { doc: 'the tensors, all of one shape, or one list of them' }), axis('dim', { aliases: ['axis'], default: 0, doc: 'where the new axis goes, in -rank-1 .. rank' })],
  doc: { summary: 'Tensors of one shape joined along a new axis `dim`, of size their count (torch.stack).', gradient: 'dL/dxᵢ = g at index i of axis dim' },
  shape: stackRule,
  linearity: 'shape-only',
  ts: (inputs, { dim }) => {
    const at = resolveAxis(dim, inputs[0].rank + 1);
    const unsqueezed = [...inputs[0].shape.slice(0, at), 1, ...inputs[0].shape.slice(at)];
    return concat(inputs.map((t) => reshape(t, unsqueezed)), at);
  },
  onnx: {
    forward: (ctx, inputs, { dim }) => {
      const at = ctx.b.constInt([resolveAxis(dim, inputs[0].shape.length + 1)]);
      const parts = inputs.map((v) => ctx.b.op1('Unsqueeze', [v.name, at]));
      return { outputs: [ctx.b.op1('Concat', parts, { axis: resolveAxis(dim, inputs[0].shape.length + 1) })] };
    },
    backward: (ctx, { inputs, attrs: { dim } }, g) => {
      const at = resolveAxis(dim, inputs[0].shape.length + 1);
      const axes = ctx.b.constInt([at]);
      const parts = ctx.b.op('Split', [g.name, ctx.b.constInt(inputs.map(() => 1))], { axis: at }, inputs.length);
      return parts.map((name, i) => ctx.op('Squeeze', [name, axes], {}, inputs[i].shape));
    },
  },
  pytorch: (args, { dim }) => `torch.stack([${args.join(', ')}], dim=${dim})`,
});
