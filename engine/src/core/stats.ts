// Gradient and activation statistics of one step: what the training view plots and what the
// findings (findings.ts) are computed from. Plain loops over typed arrays, no allocation.

import type { ActivationStats, LayerGradStats, ParamGradStats } from './events.js';
import type { TextRange } from '../lang/api.js';
import type { ActivationKind } from '../ops/def.js';

type Values = ArrayLike<number>;

/** A value of a saturating activation counts as saturated when its derivative there is below this. */
export const SATURATED_DERIVATIVE = 0.01;

/**
 * Whether batch `batch` (0-based) of an epoch of `stepsPerEpoch` is a step the findings' rules
 * sample: the last of every `every` batches from the epoch's start (`every` is the ONNX
 * trainer's steps per session run, whose last step then computes them), or the epoch's last
 * when the epoch is shorter than that. So the statistics cost one step in `every` (or one
 * per epoch) on both back ends.
 */
export function sampledBatch(batch: number, stepsPerEpoch: number, every: number): boolean {
  return (batch + 1) % every === 0 || (stepsPerEpoch < every && batch === stepsPerEpoch - 1);
}

export function l2Norm(values: Values): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] * values[i];
  return Math.sqrt(sum);
}

/** L2 norm of `after - before` without forming the difference. */
export function differenceNorm(after: Values, before: Values): number {
  let sum = 0;
  for (let i = 0; i < after.length; i++) {
    const d = after[i] - before[i];
    sum += d * d;
  }
  return Math.sqrt(sum);
}

/**
 * Statistics of one parameter's gradient. `updateNorm` is ||Δweight|| of this step's
 * optimizer update (0 in a probe, which does not update).
 */
export function paramGradStats(name: string, layer: string, grad: Values, weight: Values, updateNorm: number): ParamGradStats {
  let sumSquares = 0;
  let max = 0;
  let sumAbs = 0;
  let zeros = 0;
  for (let i = 0; i < grad.length; i++) {
    const g = grad[i];
    const a = Math.abs(g);
    sumSquares += g * g;
    sumAbs += a;
    if (a > max || Number.isNaN(a)) max = a;
    if (g === 0) zeros++;
  }
  const n = Math.max(grad.length, 1);
  const weightNorm = l2Norm(weight);
  return {
    name,
    layer,
    gradNorm: Math.sqrt(sumSquares),
    gradMax: max,
    gradMeanAbs: sumAbs / n,
    zeroFraction: zeros / n,
    updateRatio: weightNorm > 0 ? updateNorm / weightNorm : 0,
    size: grad.length,
    weightNorm,
  };
}

/**
 * The statistics of a layer (or a block instance) from its parameters': norms and means over
 * all its gradient entries at once, as if its parameters were one tensor.
 */
export function aggregateGradStats(layer: string, params: readonly ParamGradStats[]): LayerGradStats {
  let sumSquares = 0;
  let max = 0;
  let sumAbs = 0;
  let zeros = 0;
  let entries = 0;
  let updateSquares = 0;
  let weightSquares = 0;
  for (const p of params) {
    sumSquares += p.gradNorm * p.gradNorm;
    if (p.gradMax > max || Number.isNaN(p.gradMax)) max = p.gradMax;
    sumAbs += p.gradMeanAbs * p.size;
    zeros += p.zeroFraction * p.size;
    entries += p.size;
    updateSquares += (p.updateRatio * p.weightNorm) ** 2;
    weightSquares += p.weightNorm * p.weightNorm;
  }
  const n = Math.max(entries, 1);
  return {
    layer,
    params: params.map((p) => p.name),
    gradNorm: Math.sqrt(sumSquares),
    gradMax: max,
    gradMeanAbs: sumAbs / n,
    zeroFraction: zeros / n,
    updateRatio: weightSquares > 0 ? Math.sqrt(updateSquares / weightSquares) : 0,
  };
}

/** Per-layer statistics, in the order the layers' parameters first appear. */
export function layerGradStats(params: readonly ParamGradStats[]): LayerGradStats[] {
  const byLayer = new Map<string, ParamGradStats[]>();
  for (const p of params) {
    const group = byLayer.get(p.layer);
    if (group) group.push(p);
    else byLayer.set(p.layer, [p]);
  }
  return [...byLayer].map(([layer, group]) => aggregateGradStats(layer, group));
}

/**
 * Activation statistics of one op's output of shape [batch, ...unit dims]. A rectifier's
 * unit is dead when it is zero for every sample of the batch; a saturating activation's
 * value is saturated when its derivative there is below SATURATED_DERIVATIVE (a fraction of values).
 */
export function activationStats(layer: string, op: string, activation: ActivationKind, range: TextRange, output: Values, batch: number): ActivationStats {
  const units = batch > 0 ? output.length / batch : 0;
  let deadFraction = 0;
  let saturatedFraction = 0;
  if (activation.kind === 'rectifier' && units > 0) {
    let dead = 0;
    for (let u = 0; u < units; u++) {
      let alive = false;
      for (let b = 0; b < batch && !alive; b++) alive = output[b * units + u] > 0;
      if (!alive) dead++;
    }
    deadFraction = dead / units;
  } else if (activation.kind === 'saturating' && output.length > 0) {
    let saturated = 0;
    for (let i = 0; i < output.length; i++) if (activation.derivative(output[i]) < SATURATED_DERIVATIVE) saturated++;
    saturatedFraction = saturated / output.length;
  }
  return { layer, op, range, deadFraction, saturatedFraction };
}

/** Whether any value is NaN or ±Inf. */
export function hasNonFinite(values: Values): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return true;
  return false;
}
