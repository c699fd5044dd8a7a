// Run-level findings from the run's loss history, computed once for both back ends from the
// loss of every step and each epoch's evaluation: NN5006 loss not decreasing, NN5007 loss
// oscillating or diverging, NN5008 overfitting. Every threshold is relative to the run's own
// history (its first losses, its best window, its best evaluation), so a healthy run is quiet.

import type { TextRange, TrainIR } from '../lang/api.js';
import type { EvaluatedOn, Finding, LayerGradStats } from '../core/events.js';
import { splitName } from '../core/events.js';
import { finding, fmt } from './findings.js';

/** Steps per loss window: window means, not single mini-batch losses, are compared. */
export const LOSS_WINDOW = 10;
/** NN5006 is judged from this many steps on... */
export const PLATEAU_STEPS = 60;
/**
 * ...when the latest window's mean loss is not this fraction below the run's start: the lower
 * of its first step's loss and its first window's mean (a loss that jumps up in the first
 * steps has a first window above where it started).
 */
export const PLATEAU_DECREASE = 0.02;
/**
 * A loss not decreasing whose mean over some window rose above this many times its start is
 * thrown about by too large steps: NN5007 (oscillating), not NN5006.
 */
export const UNSETTLED_RISE = 1.25;
/** NN5007: a step loss above this many times the run's first loss is a spike... */
export const SPIKE_FACTOR = 3;
/** ...and this many spikes are an oscillating loss. */
export const SPIKE_COUNT = 2;
/**
 * NN5007: the latest window's mean above DIVERGE_FACTOR × the best window's mean (judged from PLATEAU_STEPS steps on) and above the best plus
 * this share of the improvement from the first window to the best is a diverging loss.
 */
export const GIVE_BACK = 0.5;
export const DIVERGE_FACTOR = 2;
/**
 * NN5008: the mean evaluated loss of the latest OVERFIT_EPOCHS epochs this many times the
 * lowest such mean, later than it, while the train loss is below the one of those epochs
 * (means over epochs, so that one lucky or unlucky evaluation of a small split does not decide).
 */
export const OVERFIT_RISE = 1.1;
export const OVERFIT_EPOCHS = 3;
/** The update/weight ratio the learning-rate fix aims at (the classic rule of thumb). */
export const TARGET_UPDATE_RATIO = 1e-3;

const mean = (values: readonly number[]): number => values.reduce((sum, v) => sum + v, 0) / values.length;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A learning rate as a `.nn` number: three significant digits, no float noise. */
export function lrText(lr: number): string {
  return String(Number(lr.toPrecision(3)));
}

/** OVERFIT_EPOCHS consecutive evaluations and their mean losses. */
interface EpochWindow {
  first: EpochResult;
  last: EpochResult;
  testLoss: number;
  trainLoss: number;
}

export interface EpochResult {
  epoch: number; // 0-based
  step: number;
  trainLoss: number;
  testLoss: number;
}

/**
 * Watches a run's losses. `observeStep` takes every step's loss (and the step's layer
 * statistics when it has them, for the update ratio the NN5006 fix scales the learning rate
 * by); `observeEpoch` each evaluation. Each code is reported once.
 */
export class LossTracker {
  private readonly losses: number[] = [];
  private firstStep = 0;
  private bestWindow = Infinity;
  /** The highest window mean so far and the step its window ends at. */
  private highestWindow = { mean: -Infinity, step: 0 };
  /** Consecutive steps whose latest window has been diverging. */
  private divergingSteps = 0;
  private spikes: { step: number; loss: number }[] = [];
  private updateRatio: number | null = null;
  private readonly reported = new Set<Finding['code']>();
  private readonly epochs: EpochResult[] = [];
  private bestEpoch: EpochResult | null = null;

  /** `bestPath`: where the loop keeps the best evaluated weights (named in NN5008). */
  constructor(
    private readonly spec: TrainIR,
    private readonly evaluatedOn: EvaluatedOn,
    private readonly bestPath: string,
  ) {}

  observeStep(step: number, loss: number, layers: readonly LayerGradStats[]): Finding[] {
    if (this.losses.length === 0) this.firstStep = step;
    this.losses.push(loss);
    const ratios = layers.map((l) => l.updateRatio).filter((r) => r > 0);
    if (ratios.length > 0) this.updateRatio = median(ratios);
    const out: Finding[] = [];
    const n = this.losses.length;
    if (n > 1 && loss > SPIKE_FACTOR * this.losses[0]) this.spikes.push({ step, loss });
    if (this.spikes.length >= SPIKE_COUNT) out.push(...this.once('NN5007', () => this.oscillating(step)));
    if (n >= LOSS_WINDOW) {
      const latest = mean(this.losses.slice(n - LOSS_WINDOW));
      const first = mean(this.losses.slice(0, LOSS_WINDOW));
      this.bestWindow = Math.min(this.bestWindow, latest);
      if (latest > this.highestWindow.mean) this.highestWindow = { mean: latest, step };
      // Diverging for a whole window of steps: a momentum bump that recovers is not divergence.
      const diverging = n >= PLATEAU_STEPS && latest > Math.max(DIVERGE_FACTOR * this.bestWindow, this.bestWindow + GIVE_BACK * (first - this.bestWindow));
      this.divergingSteps = diverging ? this.divergingSteps + 1 : 0;
      if (this.divergingSteps >= LOSS_WINDOW) out.push(...this.once('NN5007', () => this.diverging(step, first, latest)));
      const start = Math.min(this.losses[0], first);
      // A loss climbing back up from its best is diverging (judged above), not a plateau.
      if (n >= PLATEAU_STEPS && latest > (1 - PLATEAU_DECREASE) * start && !diverging && !this.reported.has('NN5007')) {
        if (this.highestWindow.mean > UNSETTLED_RISE * start) out.push(...this.once('NN5007', () => this.unsettled(step, start, latest)));
        else out.push(...this.once('NN5006', () => this.plateau(step, start, latest)));
      }
    }
    return out;
  }

  /** The loss became NaN or Inf at `step`: NN5007 as well when it was rising before. */
  observeNonFinite(step: number): Finding[] {
    const n = this.losses.length;
    if (n === 0 || !(this.spikes.length > 0 || this.losses[n - 1] > this.losses[0])) return [];
    const detail = `diverging (learning rate too high?): it rose from ${fmt(this.losses[0])} at step ${this.firstStep} to ${fmt(this.losses[n - 1])} at step ${step - 1} and was NaN or Inf at step ${step}; ${this.lowerLr()}`;
    return this.once('NN5007', () => this.lrFinding('NN5007', detail, step, this.spec.optimizer.lr / 10));
  }

  /**
   * One evaluation. Returns its findings and whether it is the best so far (the loop then
   * saves the weights at `bestPath`); a run evaluated on its training data has no overfitting.
   */
  observeEpoch(result: EpochResult): { findings: Finding[]; best: boolean } {
    if (this.evaluatedOn === 'train' || !Number.isFinite(result.testLoss)) return { findings: [], best: false };
    this.epochs.push(result);
    if (this.bestEpoch === null || result.testLoss < this.bestEpoch.testLoss) {
      this.bestEpoch = result;
      return { findings: [], best: true };
    }
    const rise = this.risingWindow();
    if (rise === null) return { findings: [], best: false };
    return { findings: this.once('NN5008', () => this.overfitting(rise.lowest, rise.latest, this.bestEpoch!)), best: false };
  }

  /**
   * The latest OVERFIT_EPOCHS evaluations against the lowest mean of any OVERFIT_EPOCHS
   * consecutive ones with no epoch in common with them: both windows when the latest mean is
   * OVERFIT_RISE × that lowest one while its train loss is below that window's.
   */
  private risingWindow(): { lowest: EpochWindow; latest: EpochWindow } | null {
    const n = this.epochs.length;
    if (n < 2 * OVERFIT_EPOCHS) return null;
    const windowAt = (end: number): EpochWindow => {
      const epochs = this.epochs.slice(end - OVERFIT_EPOCHS + 1, end + 1);
      return { first: epochs[0], last: epochs[epochs.length - 1], testLoss: mean(epochs.map((e) => e.testLoss)), trainLoss: mean(epochs.map((e) => e.trainLoss)) };
    };
    const latest = windowAt(n - 1);
    let lowest = windowAt(OVERFIT_EPOCHS - 1);
    for (let end = OVERFIT_EPOCHS; end <= n - 1 - OVERFIT_EPOCHS; end++) {
      const w = windowAt(end);
      if (w.testLoss < lowest.testLoss) lowest = w;
    }
    return latest.testLoss > OVERFIT_RISE * lowest.testLoss && latest.trainLoss < lowest.trainLoss ? { lowest, latest } : null;
  }

  private once(code: Finding['code'], make: () => Finding): Finding[] {
    if (this.reported.has(code)) return [];
    this.reported.add(code);
    return [make()];
  }

  private steps(from: number, to: number): string {
    return `steps ${from}–${to}`;
  }

  private oscillating(step: number): Finding {
    const spikes = this.spikes.slice(0, SPIKE_COUNT).map((s) => `${fmt(s.loss)} at step ${s.step}`).join(', ');
    const detail = `oscillating (learning rate too high?): it jumped above ${SPIKE_FACTOR}× its first value (${fmt(this.losses[0])} at step ${this.firstStep}): ${spikes}; ${this.lowerLr()}`;
    return this.lrFinding('NN5007', detail, step, this.spec.optimizer.lr / 10);
  }

  private diverging(step: number, first: number, latest: number): Finding {
    const n = this.losses.length;
    const detail = `diverging (learning rate too high?): the mean loss of ${this.steps(step - LOSS_WINDOW + 1, step)} is ${fmt(latest)}, up from its best window mean ${fmt(this.bestWindow)} (the first ${LOSS_WINDOW} steps: ${fmt(first)}; threshold ${DIVERGE_FACTOR}× the best and half the improvement given back, for ${LOSS_WINDOW} steps, over ${n} steps); ${this.lowerLr()}`;
    return this.lrFinding('NN5007', detail, step, this.spec.optimizer.lr / 10);
  }

  /** What the start of the run was, for NN5006's and NN5007's messages. */
  private startText(start: number): string {
    return `its start ${fmt(start)} (the lower of step ${this.firstStep}'s loss and the first ${LOSS_WINDOW} steps' mean)`;
  }

  private unsettled(step: number, start: number, latest: number): Finding {
    const high = this.highestWindow;
    const detail = `oscillating (learning rate too high?): it is not decreasing — the mean loss of ${this.steps(step - LOSS_WINDOW + 1, step)} is ${fmt(latest)}, not ${PLATEAU_DECREASE * 100}% below ${this.startText(start)} — and the mean of ${this.steps(high.step - LOSS_WINDOW + 1, high.step)} rose to ${fmt(high.mean)}, ${fmt(high.mean / start)}× the start (threshold ${UNSETTLED_RISE}×); ${this.lowerLr()}`;
    return this.lrFinding('NN5007', detail, step, this.spec.optimizer.lr / 10);
  }

  private plateau(step: number, start: number, latest: number): Finding {
    const ratio = this.updateRatio;
    // SGD's and Adam's updates scale with the learning rate: aim the update ratio at ~1e-3.
    const factor = ratio !== null && ratio > 0 ? Math.min(1000, Math.max(10, 10 ** Math.round(Math.log10(TARGET_UPDATE_RATIO / ratio)))) : 10;
    const ratioText = ratio === null ? '' : `; the median update/weight ratio per step is ${fmt(ratio)} (rule of thumb ~${TARGET_UPDATE_RATIO})`;
    const lr = this.spec.optimizer.lr * factor;
    const detail = `the mean loss of ${this.steps(step - LOSS_WINDOW + 1, step)} is ${fmt(latest)}, not ${PLATEAU_DECREASE * 100}% below ${this.startText(start)}${ratioText}; the learning rate ${lrText(this.spec.optimizer.lr)} is probably too low: try lr = ${lrText(lr)}`;
    return this.lrFinding('NN5006', detail, step, lr);
  }

  private lowerLr(): string {
    return `try lr = ${lrText(this.spec.optimizer.lr / 10)} (now ${lrText(this.spec.optimizer.lr)})`;
  }

  /** A finding at the optimizer's `lr` (the `optimizer` key, or the block, without one), with the fix when `lr` is written. */
  private lrFinding(code: 'NN5006' | 'NN5007', detail: string, step: number, lr: number): Finding {
    const range: TextRange = this.spec.lrRange ?? this.spec.keyRanges.optimizer ?? this.spec.range;
    const fix = this.spec.lrRange ? { title: `Change lr to ${lrText(lr)}`, newText: lrText(lr) } : undefined;
    return finding(code, 'optimizer', detail, range, step, fix);
  }

  private overfitting(lowest: EpochWindow, latest: EpochWindow, best: EpochResult): Finding {
    const split = splitName(this.evaluatedOn);
    const epochs = (w: EpochWindow): string => `epochs ${w.first.epoch + 1}–${w.last.epoch + 1}`;
    const detail = `the mean ${split} loss rose from ${fmt(lowest.testLoss)} over ${epochs(lowest)} to ${fmt(latest.testLoss)} over ${epochs(latest)} while the mean train loss fell from ${fmt(lowest.trainLoss)} to ${fmt(latest.trainLoss)} (threshold ${OVERFIT_RISE}× the lowest ${OVERFIT_EPOCHS}-epoch mean); the weights of epoch ${best.epoch + 1} (the lowest ${split} loss, ${fmt(best.testLoss)}) are kept in ${this.bestPath}. Train for ${best.epoch + 1} epochs, or add dropout or weight decay`;
    const range = this.spec.keyRanges.epochs ?? this.spec.range;
    const fix = this.spec.keyRanges.epochs ? { title: `Change epochs to ${best.epoch + 1}`, newText: String(best.epoch + 1) } : undefined;
    return finding('NN5008', 'epochs', detail, range, latest.last.step, fix);
  }
}
