// The optimizer update as ONNX ops with PyTorch's formulas (SGD with momentum and weight
// decay, Adam, AdamW), and the reductions behind the per-parameter gradient statistics
// the run events carry.

import type { OptimizerSpec } from '../lang/api.js';
import type { ParamGradStats } from '../train/events.js';
import type { LoweringContext, Val } from './context.js';

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
  return ['exp_avg', 'exp_avg_sq'];
}

/** What the update produced for one parameter. */
export interface ParamUpdate {
  next: Val;
  /** old - new, for the update/weight ratio. */
  delta: Val;
}

/**
 * Emits one update per parameter. `state` holds the current state tensors (graph inputs)
 * by name; `step` is the 1-based step count as a float32 scalar input.
 * Returns the updated parameters and the new state values, by name.
 */
export function lowerOptimizer(
  ctx: LoweringContext,
  spec: OptimizerSpec,
  params: readonly ParamSlot[],
  state: ReadonlyMap<string, Val>,
  step: string,
): { params: Map<string, ParamUpdate>; state: Map<string, Val> } {
  const newParams = new Map<string, ParamUpdate>();
  const newState = new Map<string, Val>();
  const b = ctx.b;
  const s = (x: number): string => ctx.scalar(x);
  // Adam's step-dependent scalars, computed once per step for all parameters. PyTorch:
  // p -= lr / c1 * m / (sqrt(v) / sqrt(c2) + eps), written as m / (sqrt(v) * a + e) with
  // a = c1 / (lr * sqrt(c2)) and e = eps * c1 / lr, c1 = 1 - beta1^t, c2 = 1 - beta2^t.
  let sqrtScale = '';
  let epsScale = '';
  if (spec.kind !== 'SGD') {
    const c1 = b.op1('Sub', [s(1), b.op1('Pow', [s(spec.beta1), step])]);
    const c2 = b.op1('Sub', [s(1), b.op1('Pow', [s(spec.beta2), step])]);
    const c1OverLr = b.op1('Div', [c1, s(spec.lr)]);
    sqrtScale = b.op1('Div', [c1OverLr, b.op1('Sqrt', [c2])]);
    epsScale = b.op1('Mul', [c1OverLr, s(spec.eps)]);
  }
  for (const { name, value: p, grad } of params) {
    let g = grad;
    if (spec.kind === 'SGD') {
      if (spec.weightDecay !== 0) g = ctx.binary('Add', g, ctx.binary('Mul', p, s(spec.weightDecay), p), p);
      if (spec.momentum !== 0) {
        // PyTorch: buf = momentum * buf + g (buf starts at g, which equals this from zeros).
        const buf = state.get(`${name}.momentum_buffer`) as Val;
        g = ctx.binary('Add', ctx.binary('Mul', buf, s(spec.momentum), p), g, p);
        newState.set(`${name}.momentum_buffer`, g);
      }
      const delta = ctx.binary('Mul', g, s(spec.lr), p);
      newParams.set(name, { next: ctx.binary('Sub', p, delta, p), delta });
      continue;
    }
    let weights = p;
    if (spec.kind === 'AdamW' && spec.weightDecay !== 0) weights = ctx.binary('Mul', p, s(1 - spec.lr * spec.weightDecay), p);
    if (spec.kind === 'Adam' && spec.weightDecay !== 0) g = ctx.binary('Add', g, ctx.binary('Mul', p, s(spec.weightDecay), p), p);
    const m = state.get(`${name}.exp_avg`) as Val;
    const v = state.get(`${name}.exp_avg_sq`) as Val;
    const m2 = ctx.binary('Add', ctx.binary('Mul', m, s(spec.beta1), p), ctx.binary('Mul', g, s(1 - spec.beta1), p), p);
    const v2 = ctx.binary('Add', ctx.binary('Mul', v, s(spec.beta2), p), ctx.binary('Mul', ctx.binary('Mul', g, s(1 - spec.beta2), p), g, p), p);
    const denom = ctx.binary('Add', ctx.binary('Mul', ctx.unary('Sqrt', v2), sqrtScale, p), epsScale, p);
    const update = ctx.binary('Div', m2, denom, p);
    const next = ctx.binary('Sub', weights, update, p);
    newParams.set(name, { next, delta: weights === p ? update : ctx.binary('Sub', p, next, p) });
    newState.set(`${name}.exp_avg`, m2);
    newState.set(`${name}.exp_avg_sq`, v2);
  }
  return { params: newParams, state: newState };
}

/**
 * The raw reductions per parameter, in this order, in the stats output: ||g||, max g,
 * min g, sum |g|, fraction of exact zeros in g, ||new||, ||new - old||. The statistics
 * are derived from them outside the graph (`gradStatsFromRaw`), so the graph holds only
 * the passes over the tensors and no per-parameter scalar arithmetic.
 */
export const RAW_STATS = 7;

/** One float32 vector [RAW_STATS * params] of the raw reductions above, in `params` order. */
export function lowerGradStats(ctx: LoweringContext, params: readonly ParamSlot[], updates: ReadonlyMap<string, ParamUpdate>): string {
  // Read-only reductions where possible: every extra written tensor is a pass over memory.
  const b = ctx.b;
  const perParam = params.map(({ name, grad }) => {
    const update = updates.get(name) as ParamUpdate;
    // keepdims=1 gives every piece of a parameter the same rank, so one Concat joins them.
    const reduce = (op: string, x: string): string => b.op1(op, [x], { keepdims: 1 });
    const zeros = b.op1('Cast', [b.op1('Equal', [grad.name, ctx.scalar(0)])], { to: 1 });
    const pieces = [
      reduce('ReduceL2', grad.name),
      reduce('ReduceMax', grad.name),
      reduce('ReduceMin', grad.name),
      reduce('ReduceL1', grad.name),
      reduce('ReduceMean', zeros),
      reduce('ReduceL2', update.next.name),
      reduce('ReduceL2', update.delta.name),
    ];
    return b.op1('Reshape', [b.op1('Concat', pieces, { axis: 0 }), b.constInt([RAW_STATS])]);
  });
  return b.op1('Concat', perParam, { axis: 0 });
}

/** The statistics of parameter `index` from the raw reductions, as train/stats.ts defines them. */
export function gradStatsFromRaw(raw: Float32Array, index: number, size: number): Omit<ParamGradStats, 'name' | 'layer'> {
  const [l2, max, min, l1, zeroFraction, weightNorm, updateNorm] = raw.subarray(RAW_STATS * index, RAW_STATS * (index + 1));
  return {
    gradNorm: l2,
    gradMax: Math.max(max, -min),
    gradMeanAbs: l1 / Math.max(size, 1),
    zeroFraction,
    updateRatio: weightNorm > 0 ? updateNorm / weightNorm : 0,
  };
}
