// One training run (or gradient probe) as the editor shows it: folds the server's RunEvents
// into loss and accuracy curves, the latest gradient flow, the findings with their lines, the
// confusion matrix of each epoch and the latest worst-classified samples, and turns that into
// the TrainingView the webview draws. Pure: no `vscode`, so it is unit-tested directly.

import { splitName, type EvaluatedOn, type Finding, type LayerGradStats, type RunEvent } from '../../../engine/src/core/events.js';
import { LineIndex } from '../../../engine/src/lang/lines.js';
import type { ConfusionMatrix, FindingItem, GradientFlow, Point, TrainingView } from '../webview/view.js';
import { formatLoss, formatPercent } from './format.js';

/** Curves are averaged down to this many points before they go to the webview. */
export const MAX_CURVE_POINTS = 1000;

type StartEvent = Extract<RunEvent, { type: 'start' }>;
type EndEvent = Extract<RunEvent, { type: 'end' }>;

export class TrainingRun {
  private start: StartEvent | null = null;
  private end: EndEvent | null = null;
  private lastStep: { epoch: number; step: number; loss: number } | null = null;
  private readonly trainLoss: Point[] = [];
  private readonly testLoss: Point[] = [];
  private readonly testAccuracy: Point[] = [];
  private readonly trainAccuracy: Point[] = [];
  private evaluatedOn: EvaluatedOn | undefined;
  private gradientFlow: GradientFlow | null = null;
  private readonly findings: Finding[] = [];
  private readonly confusion: ConfusionMatrix[] = [];
  private worst: TrainingView['worst'] = null;
  private readonly lines: LineIndex | null;
  private probeLoss: number | null = null;
  /** How the run ended when no `end` event said so (refused, failed, stopped before starting). */
  private outcome: { text: string; ok: boolean } | null = null;

  /**
   * `fileName` is the `.nn` file's base name; `model` the model asked for, if any; `text` the
   * file's text the run started from, which the findings' offsets point into.
   */
  constructor(
    readonly uri: string,
    private readonly fileName: string,
    private model: string | undefined,
    text?: string,
  ) {
    this.lines = text === undefined ? null : new LineIndex(text);
  }

  get modelName(): string | undefined {
    return this.start?.model ?? this.model;
  }

  get finished(): boolean {
    return this.end !== null || this.outcome !== null;
  }

  /** Finished, but not well: refused, failed, or the loss became NaN. */
  get failed(): boolean {
    return this.end ? this.end.reason === 'nan' : this.outcome?.ok === false;
  }

  apply(event: RunEvent): void {
    switch (event.type) {
      case 'start':
        this.start = event;
        this.model = event.model;
        break;
      case 'step':
        this.lastStep = { epoch: event.epoch, step: event.step, loss: event.loss };
        this.trainLoss.push({ x: event.step, y: event.loss });
        if (event.layers.length > 0) this.setGradients(event.layers, event.step);
        break;
      case 'epoch':
        this.evaluatedOn = event.evaluatedOn;
        this.testLoss.push({ x: event.step, y: event.testLoss });
        if (event.testAccuracy !== null) this.testAccuracy.push({ x: event.step, y: event.testAccuracy });
        if (event.trainAccuracy != null) this.trainAccuracy.push({ x: event.step, y: event.trainAccuracy });
        if (event.confusion) this.confusion.push({ epoch: event.epoch, counts: event.confusion });
        if (event.worst) this.worst = { epoch: event.epoch, samples: event.worst };
        break;
      case 'finding':
        this.addFinding(event.finding);
        break;
      case 'checkpoint':
        break;
      case 'end':
        this.end = event;
        for (const finding of event.findings) this.addFinding(finding);
        break;
    }
  }

  /** Records how the run ended when the server answered without an `end` event. */
  settle(text: string, ok: boolean): void {
    if (!this.end) this.outcome = { text, ok };
  }

  /** A probe has no events: its one forward + backward pass arrives as a whole. */
  applyProbe(loss: number, layers: readonly LayerGradStats[], findings: Finding[]): void {
    this.probeLoss = loss;
    for (const finding of findings) this.addFinding(finding);
    this.setGradients(layers, null);
  }

  view(): TrainingView {
    const name = this.modelName;
    return {
      title: name ? `${name} · ${this.fileName}` : this.fileName,
      status: this.status(),
      running: this.start !== null && !this.finished,
      trainLoss: averageDown(this.trainLoss, MAX_CURVE_POINTS),
      testLoss: this.testLoss.slice(),
      testAccuracy: this.testAccuracy.slice(),
      trainAccuracy: this.trainAccuracy.slice(),
      evaluatedSplit: splitName(this.evaluatedOn),
      gradientFlow: this.gradientFlow,
      findings: this.findings.map((f): FindingItem => ({ ...f, line: this.lines ? this.lines.lineOf(f.range.start) + 1 : null })),
      classNames: this.start?.classNames ?? null,
      confusion: this.confusion.slice(),
      worst: this.worst,
    };
  }

  /** One line for the status bar and the view: where the run is, or how it ended. */
  status(): string {
    if (this.probeLoss !== null) return `probe · loss ${formatLoss(this.probeLoss)}`;
    if (this.end) return endStatus(this.end);
    if (this.outcome) return this.outcome.text;
    if (!this.start) return 'starting…';
    const total = this.start.epochs * this.start.stepsPerEpoch;
    // Events count epochs from 0, people from 1.
    const epoch = (this.lastStep?.epoch ?? 0) + 1;
    const parts = [`epoch ${epoch}/${this.start.epochs}`, `step ${this.lastStep?.step ?? 0}/${total}`];
    if (this.lastStep) parts.push(`loss ${formatLoss(this.lastStep.loss)}`);
    return parts.join(' · ');
  }

  /** The engine's per-layer statistics, shown as they are, flagged where a finding names the layer. */
  private setGradients(layers: readonly LayerGradStats[], step: number | null): void {
    const flagged = new Set(this.findings.map((f) => f.layer));
    this.gradientFlow = { step, layers: layers.map((l) => ({ ...l, flagged: flagged.has(l.layer) })) };
  }

  /** A finding repeated at a later step replaces the earlier one of the same code and layer. */
  private addFinding(finding: Finding): void {
    const index = this.findings.findIndex((f) => f.code === finding.code && f.layer === finding.layer);
    if (index >= 0) this.findings[index] = finding;
    else this.findings.push(finding);
    for (const layer of this.gradientFlow?.layers ?? []) {
      if (layer.layer === finding.layer) layer.flagged = true;
    }
  }
}

function endStatus(end: EndEvent): string {
  switch (end.reason) {
    case 'done': {
      const accuracy = end.testAccuracy === null ? '' : ` · ${splitName(end.evaluatedOn)} accuracy ${formatPercent(end.testAccuracy)}`;
      return `done at step ${end.step} in ${Math.round(end.seconds)} s${accuracy}`;
    }
    case 'cancelled':
      return `cancelled at step ${end.step}`;
    case 'nan':
      return `stopped at step ${end.step}: the loss became NaN or infinite`;
    case 'early_stop':
      return `stopped early at step ${end.step}: best epoch ${(end.best?.epoch ?? 0) + 1}`;
  }
}

/**
 * At most `maxPoints` points: consecutive points are averaged in equal-sized buckets, which
 * also smooths the step-to-step noise of a training loss. Non-finite losses are kept out of
 * the averages (a NaN would poison its bucket) and are reported by the run's end instead.
 */
export function averageDown(points: readonly Point[], maxPoints: number): Point[] {
  const finite = points.filter((p) => Number.isFinite(p.y));
  if (finite.length <= maxPoints) return finite.slice();
  const bucketSize = finite.length / maxPoints;
  const averaged: Point[] = [];
  for (let bucket = 0; bucket < maxPoints; bucket++) {
    const from = Math.floor(bucket * bucketSize);
    const to = Math.floor((bucket + 1) * bucketSize);
    let sumX = 0;
    let sumY = 0;
    for (let i = from; i < to; i++) {
      sumX += finite[i].x;
      sumY += finite[i].y;
    }
    averaged.push({ x: sumX / (to - from), y: sumY / (to - from) });
  }
  return averaged;
}
