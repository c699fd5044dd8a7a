// The `Embedding` layer and its op: gathers rows of a [num, dim] weight by int64 ids; the
// backward rule scatter-adds the upstream rows into the weight's gradient, except into the
// `padding_idx` row, which stays as initialized (zero), as in PyTorch.

import type { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/tape.js';
import { Dim, formatShape, type Shape } from '../shape/dim.js';
import { ruleError, type RuleResult } from '../shape/rules.js';
import { defineLayer, defineOpWith, int, size, type RuleInputs } from './def.js';
import { outputShape } from './shape-rule.js';
import { emptyFloat, requireFloat } from './operand.js';

export function embedding(ids: Tensor, weight: Tensor, paddingIdx?: number): Tensor {
  if (ids.dtype !== 'int64') throw new TypeError(`embedding: ids must be an int64 tensor, got ${ids.dtype}`);
  requireFloat('embedding', weight);
  const shape = outputShape(embeddingOp, [ids.shape, weight.shape], { padding_idx: paddingIdx }, ['int64', 'float32']);
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
      if (index[i] === paddingIdx) continue;
      const row = index[i] * dim;
      for (let d = 0; d < dim; d++) gw[row + d] += up[i * dim + d];
    }
    return [grad];
  }, [ids]);
}

// -- definitions ---------------------------------------------------------------------------

interface EmbeddingAttrs {
  /** The row no gradient reaches (a padding token's); absent: none. */
  padding_idx: number | undefined;
}

const embeddingRule = ([ids, weight]: readonly Shape[], { padding_idx }: EmbeddingAttrs, dtypes: RuleInputs['dtypes']): RuleResult => {
  const out = [...ids, weight[1]];
  if (dtypes[0] !== undefined && dtypes[0] !== 'int64') return ruleError('NN2111', ['Embedding', 'int token ids (declare the input as `int[...]`)', { input: 0 }, formatShape(ids)], out);
  const rows = weight[0].constant();
  if (padding_idx !== undefined && rows !== null && padding_idx >= rows) return ruleError('NN2007', ['Embedding', 'padding_idx', `below the ${rows} rows`, padding_idx], out);
  return { shape: out };
};

/** Inputs: ids (int64) [...], weight [n, d]; the gradient reaches the weight only. */
export const embeddingOp = defineOpWith<EmbeddingAttrs>()({
  name: 'embedding',
  surface: 'layer',
  params: [],
  doc: { summary: 'The op of `Embedding`: the weight rows the ids select.', gradient: 'dL/dW[i] = Σ of g over the positions whose id is i (0 for padding_idx); no gradient reaches the ids' },
  shape: embeddingRule,
  intInputs: [0],
  gradInputs: () => [1],
  ts: ([ids, weight], { padding_idx }) => embedding(ids, weight, padding_idx),
  onnx: {
    forward: (ctx, [ids, w]) => ({ outputs: [ctx.b.op1('Gather', [w.name, ids.name], { axis: 0 })] }),
    backward: (ctx, { inputs: [ids, w], attrs: { padding_idx } }, g) => {
      const [rows, width] = ctx.constantDims(w.shape, 'Embedding');
      const n = Dim.named('N');
      const flatIds = ctx.reshape(ids, [n, Dim.of(1)], []);
      const flatG = ctx.reshape(g, [n, Dim.of(width)], []);
      const index = ctx.b.op1('Expand', [flatIds.name, ctx.b.op1('Shape', [flatG.name])]);
      const zeros = ctx.b.op1('ConstantOfShape', [ctx.b.constInt([rows, width])]);
      const grad = ctx.op('ScatterElements', [zeros, index, flatG.name], { axis: 0, reduction: 'add' }, w.shape);
      if (padding_idx === undefined) return [null, grad];
      const keep = Array.from({ length: rows }, (_, r) => (r === padding_idx ? 0 : 1));
      return [null, ctx.binary('Mul', grad, ctx.b.constFloat(keep, [rows, 1]), grad)];
    },
  },
  pytorch: ([ids, w], { padding_idx }) => `F.embedding(${ids}, ${w}${padding_idx === undefined ? '' : `, padding_idx=${padding_idx}`})`,
});

export const EmbeddingLayer = defineLayer({
  name: 'Embedding',
  op: embeddingOp,
  params: [
    size('n', { aliases: ['num_embeddings'], min: 1, doc: 'vocabulary size' }),
    size('d', { aliases: ['embedding_dim'], min: 1, doc: 'embedding size' }),
    int('padding_idx', { default: null, min: 0, doc: 'a padding token\'s id: its row starts at 0 and gets no gradient' }),
  ],
  doc: { summary: 'Looks up rows of `weight: [n, d]` for `int` token ids: `[B, T]` → `[B, T, d]`.' },
  weights: (args) => ({
    params: [{ suffix: 'weight', shape: [args.n, args.d], init: args.padding_idx === undefined ? { kind: 'normal', std: 1 } : { kind: 'normal', std: 1, zeroRow: args.padding_idx } }],
    buffers: [],
  }),
  attrs: (args) => ({ padding_idx: args.padding_idx }),
  pytorch: (args) => `nn.Embedding(${args.n}, ${args.d}${args.padding_idx === undefined ? '' : `, padding_idx=${args.padding_idx}`})`,
});
