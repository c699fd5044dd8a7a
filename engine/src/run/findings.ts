// Gradient-flow findings from run or probe statistics: NN5001 vanishing, NN5002 exploding,
// NN5003 dead ReLU, NN5005 saturation. The thresholds are the numbers docs/diagnostics.md
// documents; NN5004 (NaN/Inf) is raised by the step itself, which knows the op (backends.ts).

import { formatMessage } from '../lang/diagnostics.js';
import type { TextRange } from '../lang/api.js';
import type { ActivationStats, Finding, LayerGradStats } from '../core/events.js';
import { opDef } from '../ops/registry.js';
import { SATURATED_DERIVATIVE } from '../core/stats.js';

/** NN5001: a layer's gradient norm below this times the largest layer gradient norm. */
export const VANISHING_RATIO = 1e-5;
/** NN5001: or a layer's mean |g| below this. */
export const VANISHING_MEAN_ABS = 1e-7;
/** NN5002: a layer's gradient norm above this. */
export const EXPLODING_NORM = 1e3;
/** NN5002: or a layer's mean gradient norm over EXPLODING_WINDOW observed steps growing by this factor over the window before. */
export const EXPLODING_GROWTH = 10;
export const EXPLODING_WINDOW = 10;
/**
 * The growth rule applies from this step on: gradient norms rise by orders of magnitude in
 * the first steps of every healthy run, as the output layer stops being random.
 */
export const EXPLODING_WARMUP_STEPS = 50;
/** NN5003: more than this fraction of a ReLU's units dead (zero for the whole batch)... */
export const DEAD_RELU_FRACTION = 0.5;
/** NN5005: more than this fraction of sigmoid/tanh values saturated (see stats.ts)... */
export const SATURATED_FRACTION = 0.4;
/**
 * ...on average over this many consecutive sampled steps of a run (the steps both back ends
 * compute statistics for, core/stats.ts `sampledBatch`; a probe needs it once, on its batches).
 */
export const PERSISTENT_SAMPLES = 3;

/** A number as the findings' messages show it: three digits, exponent form when very large or small. */
export const fmt = (x: number): string => (x === 0 ? '0' : Math.abs(x) >= 0.01 && Math.abs(x) < 1e4 ? x.toPrecision(3) : x.toExponential(2));
const percent = (x: number): string => `${Math.round(x * 100)}%`;

/** A finding of `code` from its catalogue template: `{0}` is `layer`, `{1}` the detail (what the numbers were). */
export function finding(code: Finding['code'], layer: string, detail: string, range: TextRange, step: number, fix?: Finding['fix']): Finding {
  return { code, severity: code === 'NN5004' ? 'error' : 'warning', message: formatMessage(code, [layer, detail]), layer, range, step, ...(fix ? { fix } : {}) };
}

/** NN5001 for every layer whose gradient vanishes relative to the largest one. */
function vanishing(layers: readonly LayerGradStats[], rangeOf: (layer: string) => TextRange, step: number): Finding[] {
  const largest = layers.reduce((best, l) => (l.gradNorm > best.gradNorm ? l : best), layers[0]);
  if (!largest || !Number.isFinite(largest.gradNorm)) return [];
  const out: Finding[] = [];
  for (const l of layers) {
    if (largest.gradNorm > 0 && l.gradNorm < VANISHING_RATIO * largest.gradNorm) {
      const detail = `gradient norm ${fmt(l.gradNorm)} is ${fmt(l.gradNorm / largest.gradNorm)} × the largest layer gradient norm (\`${largest.layer}\`, ${fmt(largest.gradNorm)}); threshold ${VANISHING_RATIO}`;
      out.push(finding('NN5001', l.layer, detail, rangeOf(l.layer), step));
    } else if (l.gradMeanAbs < VANISHING_MEAN_ABS) {
      out.push(finding('NN5001', l.layer, `mean |g| ${fmt(l.gradMeanAbs)} is below ${VANISHING_MEAN_ABS}`, rangeOf(l.layer), step));
    }
  }
  return out;
}

function explodingNorm(layers: readonly LayerGradStats[], rangeOf: (layer: string) => TextRange, step: number): Finding[] {
  return layers
    .filter((l) => l.gradNorm > EXPLODING_NORM)
    .map((l) => finding('NN5002', l.layer, `gradient norm ${fmt(l.gradNorm)} exceeds ${EXPLODING_NORM}`, rangeOf(l.layer), step));
}

/** NN5003/NN5005 when `a`'s fractions are over their thresholds; `over` says what they were measured on. */
function activationFinding(a: ActivationStats, step: number, over: string): Finding | null {
  const activation = opDef(a.op)?.activation;
  if (activation?.kind === 'rectifier' && a.deadFraction > DEAD_RELU_FRACTION) {
    return finding('NN5003', a.layer, `${percent(a.deadFraction)} of the units are zero for every sample${over} (threshold ${percent(DEAD_RELU_FRACTION)})`, a.range, step);
  }
  if (activation?.kind === 'saturating' && a.saturatedFraction > SATURATED_FRACTION) {
    return finding('NN5005', a.layer, `${percent(a.saturatedFraction)} of the ${a.op} values have ${activation.formula} < ${SATURATED_DERIVATIVE}${over} (threshold ${percent(SATURATED_FRACTION)})`, a.range, step);
  }
  return null;
}

/** Findings of a probe: every rule once, on the probe's (mean) statistics. */
export function probeFindings(layers: readonly LayerGradStats[], activations: readonly ActivationStats[], rangeOf: (layer: string) => TextRange): Finding[] {
  return [
    ...vanishing(layers, rangeOf, 0),
    ...explodingNorm(layers, rangeOf, 0),
    ...activations.map((a) => activationFinding(a, 0, ' on the probe batches')).filter((f): f is Finding => f !== null),
  ];
}

/**
 * Findings over a training run. Each (code, layer) is reported once, at the first step its
 * rule holds: vanishing and exploding norms at once, growth over EXPLODING_WINDOW steps
 * (after EXPLODING_WARMUP_STEPS), dead and saturated units when their mean fraction over
 * PERSISTENT_SAMPLES consecutive sampled steps is over the threshold (dead ones not reviving;
 * the loop passes a step's activation statistics only on sampled steps, so both back ends
 * judge the same steps).
 */
export class FindingTracker {
  private readonly reported = new Set<string>();
  private readonly normHistory = new Map<string, { step: number; norm: number }[]>();
  /** Per activation, its dead and saturated fractions on the latest PERSISTENT_SAMPLES sampled steps. */
  private readonly samples = new Map<string, ActivationStats[]>();
  /** Per layer, the largest mean gradient norm of any EXPLODING_WINDOW observed steps so far. */
  private readonly peaks = new Map<string, number>();

  constructor(private readonly rangeOf: (layer: string) => TextRange) {}

  /** Whether `layer` has been reported with `code`. */
  hasReported(code: Finding['code'], layer: string): boolean {
    return this.reported.has(`${code}:${layer}`);
  }

  observe(step: number, layers: readonly LayerGradStats[], activations: readonly ActivationStats[]): Finding[] {
    const candidates = [...vanishing(layers, this.rangeOf, step), ...explodingNorm(layers, this.rangeOf, step), ...this.growth(layers, step)];
    for (const a of activations) {
      const key = `${a.op}:${a.layer}:${a.range.start}`;
      const recent = [...(this.samples.get(key) ?? []), a].slice(-2 * PERSISTENT_SAMPLES);
      this.samples.set(key, recent);
      const holds = this.persistent(recent, step);
      if (holds) candidates.push(holds);
    }
    // One verdict per layer: exploding wins over vanishing in the same step, and a layer once
    // reported as one is not reported as the other.
    const verdict = (code: string, layer: string): boolean => code === 'NN5001' || code === 'NN5002' ? this.reported.has(`${code === 'NN5001' ? 'NN5002' : 'NN5001'}:${layer}`) : false;
    const exploding = new Set(candidates.filter((f) => f.code === 'NN5002').map((f) => f.layer));
    return candidates.filter((f) => {
      const key = `${f.code}:${f.layer}`;
      if (this.reported.has(key) || verdict(f.code, f.layer) || (f.code === 'NN5001' && exploding.has(f.layer))) return false;
      this.reported.add(key);
      return true;
    });
  }

  /**
   * An activation's finding on its mean fractions over the latest PERSISTENT_SAMPLES samples.
   * Dead units must also not be reviving: a rectifier needs the PERSISTENT_SAMPLES samples
   * before as well, with a mean dead fraction not above the latest one (deep ReLU stacks start
   * with many units off that training turns back on; units that died stay dead).
   */
  private persistent(recent: readonly ActivationStats[], step: number): Finding | null {
    if (recent.length < PERSISTENT_SAMPLES) return null;
    const a = recent[recent.length - 1];
    const average = (window: readonly ActivationStats[]): ActivationStats => ({ ...a, deadFraction: mean(window.map((r) => r.deadFraction)), saturatedFraction: mean(window.map((r) => r.saturatedFraction)) });
    const latest = average(recent.slice(-PERSISTENT_SAMPLES));
    if (opDef(a.op)?.activation?.kind !== 'rectifier') return activationFinding(latest, step, ` on average over ${PERSISTENT_SAMPLES} consecutive sampled steps`);
    if (recent.length < 2 * PERSISTENT_SAMPLES) return null;
    const before = average(recent.slice(0, PERSISTENT_SAMPLES));
    if (latest.deadFraction < before.deadFraction) return null;
    return activationFinding(latest, step, ` on average over ${PERSISTENT_SAMPLES} consecutive sampled steps, not fewer than over the ${PERSISTENT_SAMPLES} before (${percent(before.deadFraction)})`);
  }

  /**
   * Growth compares the mean norm of the last EXPLODING_WINDOW observed steps with the mean
   * of the window before it: one large mini-batch gradient among small ones is noise, not
   * growth. A back end that samples its statistics (ONNX: the last step of each session run)
   * observes fewer steps, so the message names the steps the windows cover.
   */
  private growth(layers: readonly LayerGradStats[], step: number): Finding[] {
    const out: Finding[] = [];
    for (const l of layers) {
      const history = this.normHistory.get(l.layer) ?? [];
      history.push({ step, norm: l.gradNorm });
      if (history.length > 2 * EXPLODING_WINDOW) history.shift();
      this.normHistory.set(l.layer, history);
      if (history.length < EXPLODING_WINDOW) continue;
      const recent = mean(history.slice(-EXPLODING_WINDOW).map((h) => h.norm));
      const peak = this.peaks.get(l.layer) ?? 0;
      this.peaks.set(l.layer, Math.max(peak, recent));
      if (step < EXPLODING_WARMUP_STEPS || history.length < 2 * EXPLODING_WINDOW) continue;
      const earlier = history.slice(0, EXPLODING_WINDOW);
      const later = history.slice(EXPLODING_WINDOW);
      const before = mean(earlier.map((h) => h.norm));
      // Growth back to norms the layer had earlier in the run (a late mini-batch bump after
      // convergence) is not exploding: the recent mean must exceed every earlier window's.
      if (before > 0 && recent > EXPLODING_GROWTH * before && recent > peak) {
        const steps = (window: readonly { step: number }[]): string => `steps ${window[0].step}–${window[window.length - 1].step}`;
        const detail = `mean gradient norm grew ${fmt(recent / before)}× from ${steps(earlier)} to ${steps(later)} (${fmt(before)} → ${fmt(recent)}); threshold ${EXPLODING_GROWTH}×`;
        out.push(finding('NN5002', l.layer, detail, this.rangeOf(l.layer), step));
      }
    }
    return out;
  }
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

/** NN5004: a NaN or Inf first appeared in the output of the op at `range`. */
export function nanFinding(where: string, detail: string, range: TextRange, step: number): Finding {
  return finding('NN5004', where, detail, range, step);
}
