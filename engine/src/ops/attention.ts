// Attention: `scaled_dot_product_attention(q, k, v, mask, causal)` and the
// `MultiheadAttention(d, heads)` layer (self-attention over [B, T, D], PyTorch's packed
// in_proj and out_proj parameters). Both are composites (ops/compose.ts): matmul, softmax,
// narrow, reshape and transpose (a boolean mask through `==` and masked_fill), so both back
// ends differentiate them through those ops.

import { Dim, formatShape, type Shape } from '../shape/dim.js';
import { broadcast, elementCount, ruleError, type RuleResult } from '../shape/rules.js';
import { bool, defineLayer, defineOpWith, number, size, tensor, type WeightSpec } from './def.js';
import { compositeRules, type Builder } from './compose.js';
import { knownSize, uniformInit, ZEROS } from './initSpecs.js';
import { sizeOf } from './shape-rule.js';
import { pyFloat } from './unary.js';

interface AttentionAttrs {
  causal: boolean;
  /** The scores' factor; absent: 1/√E. */
  scale: number | undefined;
  /** The mask is boolean (a comparison's result: true keeps a score), set by the checker; absent: additive. */
  boolMask?: boolean;
}

const NAME = 'scaled_dot_product_attention';

/** The scores' shape [..., Tq, Tk] for q [..., Tq, E] and k [..., Tk, E]. */
const scoresShape = (q: Shape, k: Shape): Shape => [...q.slice(0, -1), k[k.length - 2]];

const attentionRule = ([q, k, v, mask]: readonly Shape[]): RuleResult => {
  for (const [input, shape] of [[0, q], [1, k], [2, v]] as const) {
    if (shape.length < 2 || shape.length !== q.length) return ruleError('NN2108', [NAME, `q, k and v of one rank ≥ 2, [..., T, E]`, { input }, formatShape(shape)]);
  }
  const rank = q.length;
  const out = [...q.slice(0, -1), v[rank - 1]];
  const lead = (s: Shape) => s.slice(0, -2);
  // Leading dims that differ may be either input's mistake: the result is unknown (no shape).
  // The other sizes that differ do not change the result's shape.
  if (!lead(k).every((d, i) => d.equals(lead(q)[i]))) return ruleError('NN2131', [{ input: 0 }, formatShape(q), { input: 1 }, formatShape(k), 'queries and keys need the same leading (batch, head) dims']);
  if (!lead(v).every((d, i) => d.equals(lead(q)[i]))) return ruleError('NN2131', [{ input: 0 }, formatShape(q), { input: 2 }, formatShape(v), 'queries and values need the same leading (batch, head) dims']);
  if (!q[rank - 1].equals(k[rank - 1])) return ruleError('NN2131', [{ input: 0 }, formatShape(q), { input: 1 }, formatShape(k), 'queries and keys need the same feature size (the last dim)'], out);
  if (!k[rank - 2].equals(v[rank - 2])) return ruleError('NN2131', [{ input: 1 }, formatShape(k), { input: 2 }, formatShape(v), 'keys and values need the same length (the next-to-last dim)'], out);
  if (mask) {
    const scores = scoresShape(q, k);
    const fits = broadcast(scores, mask);
    if ('error' in fits || fits.shape.length !== scores.length || !fits.shape.every((d, i) => d.equals(scores[i]))) {
      return ruleError('NN2132', [{ input: 3 }, formatShape(mask), formatShape(scores)], out);
    }
  }
  return { shape: out };
};

/** softmax(q·kᵀ·scale + causal bias + mask) · v over the last two axes; a boolean mask sets −∞ where it is false. */
function attention<T>(b: Builder<T>, [q, k, v, mask]: T[], { causal, scale, boolMask }: AttentionAttrs): T {
  const rank = b.shape(q).length;
  const features = sizeOf(b.shape(q)[rank - 1]);
  const keysT = b.apply('transpose', [k], { a: rank - 2, b: rank - 1 });
  let scores = b.apply('mul', [b.apply('matmul', [q, keysT], {})], { scalar: scale ?? 1 / Math.sqrt(features) });
  if (causal) scores = b.apply('add', [scores, b.causalBias(scores)], {});
  if (mask && boolMask) scores = b.apply('masked_fill', [scores, b.apply('eq', [mask], { scalar: 0 })], { value: -Infinity });
  else if (mask) scores = b.apply('add', [scores, mask], {});
  return b.apply('matmul', [b.apply('softmax', [scores], { axis: -1 }), v], {});
}

/** The Python expression of the causal bias for queries `q` and keys `k`. */
const pyCausalBias = (q: string, k: string): string => `torch.full((${q}.shape[-2], ${k}.shape[-2]), float("-inf"), dtype=${q}.dtype).triu(1)`;

/** Attention memory: the scores and the probabilities, [..., Tq, Tk] each, kept for the backward. */
const attentionFlops = ([q, k, v]: readonly Shape[]): Dim => elementCount(scoresShape(q, k)).mul(q[q.length - 1].add(v[v.length - 1])).scale(2);

export const scaledDotProductAttentionOp = defineOpWith<AttentionAttrs>()({
  name: NAME,
  surface: 'function',
  params: [
    tensor('q', { aliases: ['query'], doc: 'queries [..., Tq, E]' }),
    tensor('k', { aliases: ['key'], doc: 'keys [..., Tk, E]' }),
    tensor('v', { aliases: ['value'], doc: 'values [..., Tk, Ev]' }),
    tensor('mask', { default: null, aliases: ['attn_mask'], doc: 'broadcast to [..., Tq, Tk]: a boolean mask (a comparison\'s result), true where a query attends to a key, or an additive float mask, 0 keeps a score and −∞ (or a large negative number) drops it' }),
    bool('causal', { default: false, aliases: ['is_causal'], doc: 'each query attends to keys at its position and before' }),
    number('scale', { default: null, doc: 'the scores\' factor; 1/√E when absent' }),
  ],
  doc: {
    summary: '`softmax(q · kᵀ / √E + mask) · v` over `[..., T, E]` (PyTorch\'s `F.scaled_dot_product_attention`); a boolean mask sets the scores where it is false to −∞ (a query with no key left gets NaN, as in PyTorch); `causal = true` masks the keys after each query. Its scores and probabilities are `[..., Tq, Tk]`: activation memory grows with T².',
    gradient: 'dL/dv = Pᵀ·g; dL/dS = P ⊙ (g·vᵀ − rowsum(P ⊙ g·vᵀ)); dL/dq = dS·k·scale, dL/dk = dSᵀ·q·scale (through matmul and softmax)',
  },
  shape: (shapes) => attentionRule(shapes),
  flops: attentionFlops,
  internals: ([q, k]) => [{ name: 'scores', shape: scoresShape(q, k) }, { name: 'probabilities', shape: scoresShape(q, k) }],
  maskOrFloat: { input: 3, attr: 'boolMask' },
  gradInputs: (count) => [0, 1, 2, ...(count > 3 ? [3] : [])],
  ...compositeRules<AttentionAttrs>(attention),
  pytorch: ([q, k, v, mask], { causal, scale, boolMask }) => {
    const factor = scale === undefined ? `${q}.shape[-1] ** -0.5` : pyFloat(scale);
    const terms = [`${q} @ ${k}.transpose(-2, -1) * (${factor})`, ...(causal ? [pyCausalBias(q, k)] : []), ...(mask && !boolMask ? [mask] : [])];
    const scores = mask && boolMask ? `(${terms.join(' + ')}).masked_fill(~${mask}, float("-inf"))` : terms.join(' + ');
    return `torch.softmax(${scores}, dim=-1) @ ${v}`;
  },
});

// -- MultiheadAttention --------------------------------------------------------------------

interface MultiheadAttrs {
  heads: Dim;
  causal: boolean;
  bias: boolean;
}

const multiheadRule = ([x, inWeight]: readonly Shape[], { heads }: MultiheadAttrs): RuleResult => {
  if (x.length !== 3) return ruleError('NN2108', ['MultiheadAttention', 'a [B, T, D] input', { input: 0 }, formatShape(x)]);
  const model = inWeight[1];
  // The input's size or the layer's may be the mistake, and the result has the one that is right: unknown.
  if (!x[2].equals(model)) return ruleError('NN2111', ['MultiheadAttention', `${model} features on the last axis`, { input: 0 }, formatShape(x)]);
  const d = model.constant();
  const h = heads.constant();
  if (d !== null && h !== null && d % h !== 0) return ruleError('NN2130', [h, d], x);
  return { shape: x };
};

/** x [B, T, D] → packed projection → heads [B, H, T, D/H] → attention → merged → out_proj. */
function multihead<T>(b: Builder<T>, inputs: T[], { heads, causal, bias }: MultiheadAttrs): T {
  const [x, inWeight, inBias, outWeight, outBias] = bias ? inputs : [inputs[0], inputs[1], null, inputs[2], null];
  const [batch, time, model] = b.shape(x);
  const d = sizeOf(model);
  const h = sizeOf(heads);
  const packed = b.apply('linear', inBias ? [x, inWeight, inBias] : [x, inWeight], {});
  const split = (i: number): T => {
    const part = b.apply('narrow', [packed], { dim: -1, start: i * d, length: d });
    return b.apply('transpose', [b.apply('reshape', [part], { shape: [batch, time, Dim.of(h), Dim.of(d / h)] })], { a: 1, b: 2 });
  };
  const attended = b.apply(NAME, [split(0), split(1), split(2)], { causal, scale: undefined });
  const merged = b.apply('reshape', [b.apply('transpose', [attended], { a: 1, b: 2 })], { shape: [batch, time, model] });
  return b.apply('linear', outBias ? [merged, outWeight, outBias] : [merged, outWeight], {});
}

export const multiheadAttentionOp = defineOpWith<MultiheadAttrs>()({
  name: 'multihead_attention',
  surface: 'layer',
  params: [],
  doc: {
    summary: 'The op of `MultiheadAttention`: self-attention of `[B, T, D]` in `heads` heads of `[B, heads, T, D/heads]`, scores `[B, heads, T, T]`.',
    gradient: 'through the projections (linear), the head split (narrow, reshape, transpose) and scaled_dot_product_attention',
  },
  shape: multiheadRule,
  internals: ([x], _output, { heads }) => {
    const [batch, time, model] = x;
    const perHead = [batch, heads, time, model.floorDiv(heads)];
    const scores = [batch, heads, time, time];
    return [
      { name: 'q per head', shape: perHead },
      { name: 'k per head', shape: perHead },
      { name: 'v per head', shape: perHead },
      { name: 'scores per head', shape: scores },
      { name: 'probabilities per head', shape: scores },
    ];
  },
  // 8·B·T·D² for the four projections, 4·B·T²·D for the scores and their product with v.
  flops: ([x], output) => {
    const [batch, time, model] = x;
    const projections = elementCount(output).mul(model).scale(8);
    return projections.add(batch.mul(time).mul(time).mul(model).scale(4));
  },
  ...compositeRules<MultiheadAttrs>(multihead),
  pytorch: (args, { heads, causal, bias }) => {
    const [x, inWeight, inBias, outWeight, outBias] = bias ? args : [args[0], args[1], 'None', args[2], 'None'];
    const mask = causal ? `torch.full((${x}.shape[1], ${x}.shape[1]), float("-inf"), dtype=${x}.dtype).triu(1)` : 'None';
    const seq = `${x}.transpose(0, 1)`;
    return `F.multi_head_attention_forward(${seq}, ${seq}, ${seq}, ${x}.shape[-1], ${heads}, ${inWeight}, ${inBias}, None, None, False, 0.0, ${outWeight}, ${outBias}, need_weights=False, attn_mask=${mask})[0].transpose(0, 1)`;
  },
});

export const MultiheadAttentionLayer = defineLayer({
  name: 'MultiheadAttention',
  op: multiheadAttentionOp,
  params: [
    size('d', { aliases: ['embed_dim'], min: 1, doc: 'the model dim D (the input\'s last dim)' }),
    size('heads', { aliases: ['num_heads'], min: 1, doc: 'attention heads; must divide d' }),
    bool('causal', { default: false, doc: 'each position attends to itself and the positions before it (a decoder)' }),
    bool('bias', { default: true, doc: 'learn the projections\' biases' }),
  ],
  doc: { summary: 'Multi-head self-attention over `[B, T, D]` (torch.nn.MultiheadAttention, batch first, query = key = value = x): `in_proj_weight: [3D, D]`, `out_proj.weight: [D, D]`; per head the scores are `[B, heads, T, T]`, so activation memory grows with T².' },
  weights: (args) => {
    const d = knownSize(args.d);
    const params: WeightSpec[] = [{ suffix: 'in_proj_weight', shape: [args.d.scale(3), args.d], init: { kind: 'xavier_uniform', fanIn: d, fanOut: 3 * d } }];
    if (args.bias) params.push({ suffix: 'in_proj_bias', shape: [args.d.scale(3)], init: ZEROS });
    params.push({ suffix: 'out_proj.weight', shape: [args.d, args.d], init: uniformInit('kaiming_uniform', d) });
    if (args.bias) params.push({ suffix: 'out_proj.bias', shape: [args.d], init: ZEROS });
    return { params, buffers: [] };
  },
  attrs: (args) => ({ heads: args.heads, causal: args.causal, bias: args.bias }),
  inputSize: { arg: 'd', pytorchName: 'embed_dim', axis: -1 },
  pytorch: (args) => `nn.MultiheadAttention(${args.d}, ${args.heads}${args.bias ? '' : ', bias=False'}, batch_first=True)`,
  pytorchCall: (module, x, args) => `${module}(${x}, ${x}, ${x}, need_weights=False${args.causal ? `, attn_mask=torch.full((${x}.shape[1], ${x}.shape[1]), float("-inf"), dtype=${x}.dtype).triu(1)` : ''})[0]`,
});
