// The `Identity` layer (torch.nn.Identity): its input unchanged, a placeholder where a
// block's hyper-parameter or an ablation removes a layer.

import { sameShapeRule } from '../shape/rules.js';
import { defineLayer, defineOpWith } from './def.js';

export const identityOp = defineOpWith<Record<string, never>>()({
  name: 'identity',
  surface: 'layer',
  params: [],
  doc: { summary: 'The op of `Identity`: the input unchanged.', gradient: 'dL/dx = g' },
  shape: sameShapeRule,
  keepsDtype: true,
  linearity: 'shape-only',
  ts: ([x]) => x,
  onnx: {
    forward: (ctx, [x]) => ({ outputs: [ctx.b.op1('Identity', [x.name])] }),
    backward: (_ctx, _entry, g) => [g],
  },
  pytorch: ([x]) => x,
});

export const IdentityLayer = defineLayer({
  name: 'Identity',
  op: identityOp,
  params: [],
  doc: { summary: 'Returns its input unchanged (torch.nn.Identity); no parameters.' },
  weights: () => ({ params: [], buffers: [] }),
  attrs: () => ({}),
  pytorch: () => 'nn.Identity()',
});
