// The optimizer update as ONNX ops with PyTorch's formulas (SGD with momentum and weight
// decay, Adam, AdamW), and the small per-parameter gradient statistics the run events carry.

import type { OptimizerSpec } from '../lang/api.js';
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

/** The statistics per parameter, in this order, in the stats output (5 floats each). */
export const STAT_FIELDS = ['gradNorm', 'gradMax', 'gradMeanAbs', 'zeroFraction', 'updateRatio'] as const;

/**
 * One float32 vector [5 * params]: for each parameter its gradient L2 norm, max |g|,
 * mean |g|, fraction of exact zeros, and ||new - old|| / ||new|| (0 when ||new|| is 0).
 */
export function lowerGradStats(ctx: LoweringContext, params: readonly ParamSlot[], updates: ReadonlyMap<string, ParamUpdate>): string {
  // Read-only reductions where possible: every extra written tensor is a pass over memory.
  const b = ctx.b;
  const pieces: string[] = [];
  const reduce = (op: string, x: Val): string => b.op1(op, [x.name], { keepdims: 0 });
  for (const { name, grad } of params) {
    const count = ctx.scalar(grad.shape.reduce((n, d) => n * (d.constant() ?? 1), 1));
    // As the TS loop computes it (train/stats.ts): ||update|| over the updated weight's norm.
    const update = updates.get(name) as ParamUpdate;
    const weightNorm = reduce('ReduceL2', update.next);
    const ratio = b.op1('Where', [
      b.op1('Greater', [weightNorm, ctx.scalar(0)]),
      b.op1('Div', [reduce('ReduceL2', update.delta), b.op1('Max', [weightNorm, ctx.scalar(1e-30)])]),
      ctx.scalar(0),
    ]);
    const zeros = b.op1('Cast', [b.op1('Equal', [grad.name, ctx.scalar(0)])], { to: 1 });
    pieces.push(
      reduce('ReduceL2', grad),
      b.op1('Max', [reduce('ReduceMax', grad), b.op1('Neg', [reduce('ReduceMin', grad)])]),
      b.op1('Div', [reduce('ReduceL1', grad), count]),
      b.op1('ReduceMean', [zeros], { keepdims: 0 }),
      ratio,
    );
  }
  const asVectors = pieces.map((p) => b.op1('Reshape', [p, b.constInt([1])]));
  return b.op1('Concat', asVectors, { axis: 0 });
}
