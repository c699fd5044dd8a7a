// NN5010, weights that barely change or change too much per step: the update/weight ratio
// ‖Δw‖/‖w‖ of each layer's weight matrices and kernels on the sampled steps, the steps on which
// the ONNX path computes statistics (the last of each session run), which the run layer
// samples on the TS engine too, so both back ends judge the same steps.

import type { TextRange, TrainIR } from '../lang/api.js';
import type { Finding, ParamGradStats } from '../core/events.js';
import { aggregateGradStats } from '../core/stats.js';
import { finding, fmt } from './findings.js';
import { lrText, TARGET_UPDATE_RATIO } from './lossFindings.js';

/** NN5010: a layer's update/weight ratio below this on UPDATE_WINDOW sampled steps in a row barely changes it... */
export const UPDATE_RATIO_LOW = 1e-5;
/** ...and above this changes it too much. */
export const UPDATE_RATIO_HIGH = 0.1;
export const UPDATE_WINDOW = 5;
/** Sampled steps before this one are not judged: every run's first updates are large relative to the initial weights. */
export const UPDATE_WARMUP_STEPS = 50;
/** Nor steps whose scheduled learning rate is below this share of the optimizer's (a warmup, the tail of a decay). */
export const UPDATE_LR_SHARE = 0.5;

/**
 * Watches each layer's update/weight ratio over the sampled steps. Only parameters of rank 2
 * or more count (weight matrices and kernels): a bias or a norm's gain starts at or near zero
 * and its ratio is large for as long as it stays there. Frozen parameters have no statistics.
 * Each layer is reported once, and not when `reported` says the gradient-flow findings
 * already named it: as exploding (large updates follow), or, for barely changing weights,
 * as vanishing (which also barely changes them).
 */
export class UpdateRatioTracker {
  private readonly history = new Map<string, { step: number; ratio: number }[]>();
  private readonly done = new Set<string>();

  constructor(
    private readonly spec: TrainIR,
    /** The state_dict names of the parameters of rank 2 or more. */
    private readonly matrices: ReadonlySet<string>,
    private readonly rangeOf: (layer: string) => TextRange,
    private readonly learningRate: (step: number) => number,
    private readonly reported: (code: 'NN5001' | 'NN5002', layer: string) => boolean,
  ) {}

  /** The statistics of a sampled step. */
  observe(step: number, params: readonly ParamGradStats[]): Finding[] {
    if (step < UPDATE_WARMUP_STEPS || this.learningRate(step) < UPDATE_LR_SHARE * this.spec.optimizer.lr) return [];
    const byLayer = new Map<string, ParamGradStats[]>();
    for (const p of params) if (this.matrices.has(p.name) && p.weightNorm > 0) byLayer.set(p.layer, [...(byLayer.get(p.layer) ?? []), p]);
    const out: Finding[] = [];
    for (const [layer, group] of byLayer) {
      const ratio = aggregateGradStats(layer, group).updateRatio;
      const window = [...(this.history.get(layer) ?? []), { step, ratio }].slice(-UPDATE_WINDOW);
      this.history.set(layer, window);
      if (window.length < UPDATE_WINDOW || this.done.has(layer) || this.reported('NN5002', layer)) continue;
      const low = window.every((w) => w.ratio < UPDATE_RATIO_LOW) && !this.reported('NN5001', layer);
      const high = window.every((w) => w.ratio > UPDATE_RATIO_HIGH);
      if (!low && !high) continue;
      this.done.add(layer);
      out.push(finding('NN5010', layer, this.detail(window, low), this.rangeOf(layer), step));
    }
    return out;
  }

  private detail(window: readonly { step: number; ratio: number }[], low: boolean): string {
    const ratios = window.map((w) => w.ratio);
    const numbers = `the update/weight ratio ‖Δw‖/‖w‖ was ${fmt(Math.min(...ratios))} to ${fmt(Math.max(...ratios))} on the last ${UPDATE_WINDOW} sampled steps (${window.map((w) => w.step).join(', ')})`;
    const lr = lrText(this.spec.optimizer.lr);
    const decay = this.spec.optimizer.weightDecay > 0 ? ` or the weight decay ${this.spec.optimizer.weightDecay}` : '';
    return low
      ? `barely change: ${numbers}, below ${UPDATE_RATIO_LOW.toExponential()} (rule of thumb ~${TARGET_UPDATE_RATIO.toExponential()}); the learning rate ${lr} is too low for this layer: raise it, or scale down its initial weights`
      : `change too much per step: ${numbers}, above ${UPDATE_RATIO_HIGH} (rule of thumb ~${TARGET_UPDATE_RATIO.toExponential()}); the learning rate ${lr} is too high for this layer: lower it${decay}, or clip the gradients`;
  }
}
