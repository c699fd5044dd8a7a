// The optimizer update as ONNX ops with PyTorch's formulas (SGD with momentum, Nesterov's
// too, and weight decay, Adam, AdamW, RMSprop), each parameter's update (old − new) kept
// for the update/weight ratio of the statistics.

import type { OptimizerSpec } from '../lang/api.js';
import type { LoweringContext, Val } from '../onnx/context.js';

export interface ParamSlot {
  /** state_dict name: `fc1.weight`. */
  name: string;
  value: Val;
  grad: Val;
}

/** An optimizer state tensor: `fc1.weight.exp_avg`, shaped like its parameter. */
export interface StateSlot {
  name: string;
  param: string;
  value: Val;
}

/** The optimizer state tensors a spec keeps per parameter, named as PyTorch's state keys. */
export function stateKeys(spec: OptimizerSpec): string[] {
  if (spec.kind === 'SGD') return spec.momentum !== 0 ? ['momentum_buffer'] : [];
  if (spec.kind === 'RMSprop') return spec.momentum !== 0 ? ['square_avg', 'momentum_buffer'] : ['square_avg'];
  return ['exp_avg', 'exp_avg_sq'];
}

/**
 * The factor between a state tensor in the graph and PyTorch's: SGD keeps its momentum
 * buffer times lr (one pass less per step), unless lr is 0 or changes from step to step.
 */
export function stateScale(spec: OptimizerSpec, key: string, scheduled = false): number {
  return spec.kind === 'SGD' && key === 'momentum_buffer' && spec.lr !== 0 && !scheduled ? spec.lr : 1;
}

/**
 * The gradients clipped as torch.nn.utils does (see optim/clip.ts): scaled by
 * min(1, maxNorm / (total L2 norm + 1e-6)), then each element clamped to [-value, value].
 */
export function lowerGradClipping(ctx: LoweringContext, grads: readonly Val[], clip: { norm: number | null; value: number | null }): Val[] {
  let out = [...grads];
  const b = ctx.b;
  if (clip.norm !== null && out.length > 0) {
    const squares = out.map((g) => b.op1('ReduceSumSquare', [g.name], { keepdims: 0 }));
    const sum = squares.reduce((a, x) => b.op1('Add', [a, x]));
    const coefficient = b.op1('Div', [ctx.scalar(clip.norm), b.op1('Add', [b.op1('Sqrt', [sum]), ctx.scalar(1e-6)])]);
    const clamped = b.op1('Min', [coefficient, ctx.scalar(1)]);
    out = out.map((g) => ctx.binary('Mul', g, clamped, g));
  }
  if (clip.value !== null) {
    const low = ctx.scalar(-clip.value);
    const high = ctx.scalar(clip.value);
    out = out.map((g) => ({ ...g, name: b.op1('Min', [b.op1('Max', [g.name, low]), high]) }));
  }
  return out;
}

/** What the update produced for one parameter. */
export interface ParamUpdate {
  next: Val;
  /** old - new, for the update/weight ratio (null when folded away: see `lowerOptimizer`). */
  delta: Val | null;
}

/**
 * Emits one update per parameter. `state` holds the current state tensors (graph inputs)
 * by name; `step` is the 1-based step count as a float32 scalar input; `lr`, when the rate
 * follows a schedule, the float32 scalar input holding this step's (else `spec.lr` is a
 * constant). With `fold` (only for a constant rate), SGD
 * folds its first scale-and-add, and Adam a scale, into the Gemm that computed a weight
 * gradient (the gradient itself is then never written, so the statistics cannot read it).
 * `noDecay` names the parameters weight decay skips. Returns the updated parameters and the
 * new state values, by name.
 */
export function lowerOptimizer(
  ctx: LoweringContext,
  spec: OptimizerSpec,
  params: readonly ParamSlot[],
  state: ReadonlyMap<string, Val>,
  step: string,
  fold = false,
  lr: string | null = null,
  noDecay: ReadonlySet<string> = new Set(),
): { params: Map<string, ParamUpdate>; state: Map<string, Val> } {
  const newParams = new Map<string, ParamUpdate>();
  const newState = new Map<string, Val>();
  const b = ctx.b;
  const s = (x: number): string => ctx.scalar(x);
  const rate = lr ?? s(spec.lr);
  if (lr !== null) fold = false;
  // Adam's step-dependent scalars, computed once per step for all parameters. PyTorch:
  // p -= lr / c1 * m / (sqrt(v) / sqrt(c2) + eps), written as m / (sqrt(v) * a + e) with
  // a = c1 / (lr * sqrt(c2)) and e = eps * c1 / lr, c1 = 1 - beta1^t, c2 = 1 - beta2^t.
  let sqrtScale = '';
  let epsScale = '';
  if (spec.kind === 'Adam' || spec.kind === 'AdamW') {
    const c1 = b.op1('Sub', [s(1), b.op1('Pow', [s(spec.beta1), step])]);
    const c2 = b.op1('Sub', [s(1), b.op1('Pow', [s(spec.beta2), step])]);
    const c1OverLr = b.op1('Div', [c1, rate]);
    sqrtScale = b.op1('Div', [c1OverLr, b.op1('Sqrt', [c2])]);
    epsScale = b.op1('Mul', [c1OverLr, s(spec.eps)]);
  }
  for (const { name, value: p, grad } of params) {
    let g = grad;
    const weightDecay = noDecay.has(name) ? 0 : spec.weightDecay;
    if (spec.kind === 'RMSprop') {
      // PyTorch: v = alpha * v + (1 - alpha) * g^2; p -= lr * g / (sqrt(v) + eps), or through
      // buf = momentum * buf + g / (sqrt(v) + eps); p -= lr * buf.
      if (weightDecay !== 0) g = ctx.binary('Add', g, ctx.binary('Mul', p, s(weightDecay), p), p);
      const v = state.get(`${name}.square_avg`) as Val;
      const v2 = ctx.binary('Add', ctx.binary('Mul', v, s(spec.alpha), p), ctx.binary('Mul', ctx.binary('Mul', g, s(1 - spec.alpha), p), g, p), p);
      newState.set(`${name}.square_avg`, v2);
      let scaled = ctx.binary('Div', g, ctx.binary('Add', ctx.unary('Sqrt', v2), s(spec.eps), p), p);
      if (spec.momentum !== 0) {
        const key = `${name}.momentum_buffer`;
        scaled = ctx.binary('Add', ctx.binary('Mul', state.get(key) as Val, s(spec.momentum), p), scaled, p);
        newState.set(key, scaled);
      }
      const delta = ctx.binary('Mul', scaled, rate, p);
      newParams.set(name, { next: ctx.binary('Sub', p, delta, p), delta });
      continue;
    }
    if (spec.kind === 'SGD') {
      // The momentum buffer is kept scaled by lr (see stateScale): u = momentum * u + lr * g,
      // p -= u. With `fold`, the first scale-and-add goes into the gradient's Gemm.
      const foldable = fold && g.shape.length === 2;
      if (weightDecay !== 0 && !(foldable && ctx.b.foldIntoGemm(g.name, p.name, 1, weightDecay))) {
        g = ctx.binary('Add', g, ctx.binary('Mul', p, s(weightDecay), p), p);
      }
      // Nesterov's step reads the gradient after the buffer's update, so nothing folds it away.
      const canFold = foldable && weightDecay === 0 && !spec.nesterov;
      let delta: Val;
      if (spec.momentum === 0) {
        if (canFold && ctx.b.foldIntoGemm(g.name, p.name, -spec.lr, 1)) {
          newParams.set(name, { next: g, delta: null });
          continue;
        }
        delta = ctx.binary('Mul', g, rate, p);
      } else {
        // PyTorch: buf = momentum * buf + g (buf starts at g, which equals this from zeros).
        const key = `${name}.momentum_buffer`;
        const u = state.get(key) as Val;
        const scale = stateScale(spec, 'momentum_buffer', lr !== null);
        if (canFold && ctx.b.foldIntoGemm(g.name, u.name, scale, spec.momentum)) delta = g;
        else delta = ctx.binary('Add', ctx.binary('Mul', u, s(spec.momentum), p), scale === 1 ? g : ctx.binary('Mul', g, s(scale), p), p);
        newState.set(key, delta);
        // Nesterov: p -= lr * (g + momentum * buf), with u = scale * buf.
        if (spec.nesterov) delta = ctx.binary('Add', ctx.binary('Mul', g, scale === 1 ? rate : s(spec.lr), p), ctx.binary('Mul', delta, scale === 1 ? b.op1('Mul', [rate, s(spec.momentum)]) : s(spec.momentum), p), p);
        else if (scale === 1) delta = ctx.binary('Mul', delta, rate, p);
      }
      newParams.set(name, { next: ctx.binary('Sub', p, delta, p), delta });
      continue;
    }
    let weights = p;
    if (spec.kind === 'AdamW' && weightDecay !== 0) {
      const decay = lr === null ? s(1 - spec.lr * weightDecay) : b.op1('Sub', [s(1), b.op1('Mul', [lr, s(weightDecay)])]);
      weights = ctx.binary('Mul', p, decay, p);
    }
    // With `fold`, the gradient's Gemm also scales it by r = sqrt(1 - beta2) (and adds Adam's
    // weight decay): gr = r * g, so v takes gr * gr, one pass less, and m takes gr * (1 - beta1) / r.
    const r = Math.sqrt(1 - spec.beta2);
    const decay = spec.kind === 'Adam' && weightDecay !== 0;
    const scaled = fold && r > 0 && g.shape.length === 2 && ctx.b.foldIntoGemm(g.name, decay ? p.name : null, r, weightDecay * r);
    if (decay && !scaled) g = ctx.binary('Add', g, ctx.binary('Mul', p, s(weightDecay), p), p);
    const m = state.get(`${name}.exp_avg`) as Val;
    const v = state.get(`${name}.exp_avg_sq`) as Val;
    const m2 = ctx.binary('Add', ctx.binary('Mul', m, s(spec.beta1), p), ctx.binary('Mul', g, s(scaled ? (1 - spec.beta1) / r : 1 - spec.beta1), p), p);
    const gg = scaled ? ctx.binary('Mul', g, g, p) : ctx.binary('Mul', ctx.binary('Mul', g, s(1 - spec.beta2), p), g, p);
    const v2 = ctx.binary('Add', ctx.binary('Mul', v, s(spec.beta2), p), gg, p);
    const denom = ctx.binary('Add', ctx.binary('Mul', ctx.unary('Sqrt', v2), sqrtScale, p), epsScale, p);
    const update = ctx.binary('Div', m2, denom, p);
    const next = ctx.binary('Sub', weights, update, p);
    newParams.set(name, { next, delta: weights === p ? update : ctx.binary('Sub', p, next, p) });
    newState.set(`${name}.exp_avg`, m2);
    newState.set(`${name}.exp_avg_sq`, v2);
  }
  return { params: newParams, state: newState };
}
