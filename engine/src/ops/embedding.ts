// The `Embedding` layer and its op: gathers rows of a [num, dim] weight by int64 ids; the
// backward rule scatter-adds the upstream rows into the weight's gradient.

import type { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/tape.js';
import { Dim, formatShape, type Shape } from '../shape/dim.js';
import { ruleError, type RuleResult } from '../shape/rules.js';
import { defineLayer, defineOpWith, size, type RuleInputs } from './def.js';
import { outputShape } from './shape-rule.js';
import { emptyFloat, requireFloat } from './operand.js';

export function embedding(ids: Tensor, weight: Tensor): Tensor {
  if (ids.dtype !== 'int64') throw new TypeError(`embedding: ids must be an int64 tensor, got ${ids.dtype}`);
  requireFloat('embedding', weight);
  const shape = outputShape(embeddingOp, [ids.shape, weight.shape], {}, ['int64', 'float32']);
  const [count, dim] = weight.shape;
  const index = ids.data;
  for (let i = 0; i < index.length; i++) {
    if (index[i] < 0 || index[i] >= count) throw new RangeError(`embedding: id ${index[i]} at position ${i} is outside [0, ${count})`);
  }
  const out = emptyFloat(shape, weight.dtype);
  const table = weight.values;
  for (let i = 0; i < index.length; i++) out.values.set(table.subarray(index[i] * dim, (index[i] + 1) * dim), i * dim);
  return record('embedding', out, [weight], (g) => {
    const grad = emptyFloat(weight.shape, g.dtype);
    const gw = grad.values;
    const up = g.values;
    for (let i = 0; i < index.length; i++) {
      const row = index[i] * dim;
      for (let d = 0; d < dim; d++) gw[row + d] += up[i * dim + d];
    }
    return [grad];
  }, [ids]);
}

// -- definitions ---------------------------------------------------------------------------

const embeddingRule = ([ids, weight]: readonly Shape[], _attrs: unknown, dtypes: RuleInputs['dtypes']): RuleResult => {
  const out = [...ids, weight[1]];
  if (dtypes[0] !== undefined && dtypes[0] !== 'int64') return ruleError('NN2111', ['Embedding', 'int token ids (declare the input as `int[...]`)', { input: 0 }, formatShape(ids)], out);
  return { shape: out };
};

/** Inputs: ids (int64) [...], weight [n, d]; the gradient reaches the weight only. */
export const embeddingOp = defineOpWith<Record<string, never>>()({
  name: 'embedding',
  surface: 'layer',
  params: [],
  doc: { summary: 'The op of `Embedding`: the weight rows the ids select.', gradient: 'dL/dW[i] = Σ of g over the positions whose id is i; no gradient reaches the ids' },
  shape: embeddingRule,
  gradInputs: () => [1],
  ts: ([ids, weight]) => embedding(ids, weight),
  onnx: {
    forward: (ctx, [ids, w]) => ({ outputs: [ctx.b.op1('Gather', [w.name, ids.name], { axis: 0 })] }),
    backward: (ctx, { inputs: [ids, w] }, g) => {
      const [rows, width] = ctx.constantDims(w.shape, 'Embedding');
      const n = Dim.named('N');
      const flatIds = ctx.reshape(ids, [n, Dim.of(1)], []);
      const flatG = ctx.reshape(g, [n, Dim.of(width)], []);
      const index = ctx.b.op1('Expand', [flatIds.name, ctx.b.op1('Shape', [flatG.name])]);
      const zeros = ctx.b.op1('ConstantOfShape', [ctx.b.constInt([rows, width])]);
      return [null, ctx.op('ScatterElements', [zeros, index, flatG.name], { axis: 0, reduction: 'add' }, w.shape)];
    },
  },
  pytorch: ([ids, w]) => `F.embedding(${ids}, ${w})`,
});

export const EmbeddingLayer = defineLayer({
  name: 'Embedding',
  op: embeddingOp,
  params: [size('n', { aliases: ['num_embeddings'], min: 1, doc: 'vocabulary size' }), size('d', { aliases: ['embedding_dim'], min: 1, doc: 'embedding size' })],
  doc: { summary: 'Looks up rows of `weight: [n, d]` for `int` token ids: `[B, T]` → `[B, T, d]`.' },
  weights: (args) => ({ params: [{ suffix: 'weight', shape: [args.n, args.d], init: { kind: 'normal', std: 1 } }], buffers: [] }),
  attrs: () => ({}),
  pytorch: (args) => `nn.Embedding(${args.n}, ${args.d})`,
});
