// How runs, probes and gradchecks read in a terminal: `file:line:col: error CODE: message`
// lines, the progress bar, the final summary and the gradient-flow table. Shared by the
// `nn train` / `nn probe` / `nn gradcheck` commands and `npm start`.

import { readFileSync } from 'node:fs';
import type { Diagnostic, TextRange } from '../lang/api.js';
import { splitName, type Finding, type ParamGradStats, type RunEvent } from '../core/events.js';
import type { RunError } from './prepare.js';
import type { FnCheck } from './gradcheck.js';

/** Reads a `.nn` file for a command; prints why it cannot and returns null otherwise. */
export function readSource(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    process.stderr.write(`${file}: error: ${code === 'ENOENT' ? 'file not found' : `cannot read the file (${code ?? error})`}\n`);
    return null;
  }
}

/** `file:line:col` of an offset (1-based line and column). */
export function location(file: string, text: string, range: TextRange | null): string {
  if (!range) return file;
  const before = text.slice(0, range.start);
  const line = before.split('\n').length;
  const column = range.start - before.lastIndexOf('\n');
  return `${file}:${line}:${column}`;
}

export function formatError(file: string, text: string, error: RunError): string {
  return `${location(file, text, error.range)}: error ${error.code}: ${error.message}`;
}

export function formatDiagnostic(file: string, text: string, diagnostic: Diagnostic): string {
  return `${location(file, text, diagnostic.range)}: ${diagnostic.severity} ${diagnostic.code}: ${diagnostic.message}`;
}

export function formatFinding(file: string, text: string, finding: Finding): string {
  return `${location(file, text, finding.range)}: ${finding.severity} ${finding.code}: ${finding.message}`;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m > 0 ? `${m}m${String(s).padStart(2, '0')}s` : `${s}s`;
}

/** A one-line progress bar: epoch, step, loss, samples/s, ETA. */
export class ProgressBar {
  private epochs = 1;
  private stepsPerEpoch = 1;
  private firstStep = 0;
  private startedAt = Date.now();
  private line = '';
  private drawnAt = 0;

  constructor(private readonly write: (text: string) => void, private readonly width = 24) {}

  update(event: RunEvent): void {
    if (event.type === 'start') {
      this.epochs = event.epochs;
      this.stepsPerEpoch = Math.max(1, event.stepsPerEpoch);
      this.firstStep = event.resumedFrom ?? 0;
      this.startedAt = Date.now();
    } else if (event.type === 'step') {
      // Redraw at most ten times a second: fast runs take thousands of steps a second.
      const now = Date.now();
      if (now - this.drawnAt < 100 && event.step % this.stepsPerEpoch !== 0) return;
      this.drawnAt = now;
      const total = this.epochs * this.stepsPerEpoch;
      const done = Math.min(event.step / total, 1);
      const filled = Math.round(done * this.width);
      const elapsed = (Date.now() - this.startedAt) / 1000;
      const rate = (event.step - this.firstStep) / Math.max(elapsed, 1e-9);
      const eta = (total - event.step) / rate;
      const stepInEpoch = event.step - event.epoch * this.stepsPerEpoch;
      this.line =
        `epoch ${event.epoch + 1}/${this.epochs} [${'#'.repeat(filled)}${'.'.repeat(this.width - filled)}] ` +
        `step ${stepInEpoch}/${this.stepsPerEpoch} loss ${event.loss.toFixed(4)} ${Math.round(event.samplesPerSec)} samples/s ETA ${duration(eta)}`;
      this.write(`\r${this.line}\x1b[K`);
    } else if (event.type === 'epoch' || event.type === 'end') {
      if (this.line) this.write('\n');
      this.line = '';
    }
  }
}

/** The line printed after each epoch (on a terminal and in plain logs). */
export function formatEpoch(event: Extract<RunEvent, { type: 'epoch' }>, epochs: number): string {
  const split = splitName(event.evaluatedOn);
  const accuracy = event.testAccuracy === null ? '' : `, ${split} accuracy ${event.testAccuracy.toFixed(4)}`;
  // Without a test split the training data is evaluated again, in eval mode: not the epoch's running loss.
  const loss = event.evaluatedOn === 'train' ? `${split} eval loss` : `${split} loss`;
  // The train accuracy (on up to 1000 training samples) beside a test or validation one; a run evaluated on its training data has it already.
  const trainAccuracy = event.trainAccuracy == null || event.evaluatedOn === 'train' ? '' : `, train accuracy ${event.trainAccuracy.toFixed(4)}`;
  return `epoch ${event.epoch + 1}/${epochs}: train loss ${event.trainLoss.toFixed(4)}, ${loss} ${event.testLoss.toFixed(4)}${accuracy}${trainAccuracy}`;
}

export function formatSummary(file: string, text: string, end: Extract<RunEvent, { type: 'end' }>): string {
  const status = end.reason === 'done' ? 'finished' : end.reason === 'cancelled' ? 'stopped (cancelled)' : end.reason === 'early_stop' ? 'stopped early (no better evaluation loss)' : 'stopped: NaN or Inf';
  const lines = [
    `training ${status} after ${end.step} steps in ${end.seconds.toFixed(1)} s`,
    `${splitName(end.evaluatedOn)} accuracy: ${end.testAccuracy === null ? 'n/a' : end.testAccuracy.toFixed(4)}${end.evaluatedOn === 'train' ? ' (the data set has no test split)' : ''}`,
    `checkpoint: ${end.checkpoint ?? 'none'}`,
    ...(end.best ? [`best: epoch ${end.best.epoch + 1}, loss ${end.best.loss.toFixed(4)}, ${end.best.path}`] : []),
    `findings: ${end.findings.length === 0 ? 'none' : end.findings.length}`,
    ...end.findings.map((f) => `  ${formatFinding(file, text, f)}`),
  ];
  return lines.join('\n');
}

const sci = (x: number): string => (x === 0 ? '0' : x.toExponential(2));

/** The per-parameter gradient-flow table of a probe. */
export function formatGradientTable(params: readonly ParamGradStats[]): string {
  const header = ['parameter', 'grad norm', 'max |g|', 'mean |g|', 'zeros'];
  const rows = params.map((p) => [p.name, sci(p.gradNorm), sci(p.gradMax), sci(p.gradMeanAbs), `${(p.zeroFraction * 100).toFixed(1)}%`]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

export function formatGradcheck(fns: readonly FnCheck[]): string {
  if (fns.length === 0) return 'no fn with a grad block';
  return fns
    .map((f) =>
      [
        `${f.ok ? 'ok  ' : 'FAIL'} ${f.fn}`,
        ...f.inputs.map((i) => `       d/d${i.name}: max abs error ${sci(i.maxAbsError)}, max rel error ${sci(i.maxRelError)}`),
      ].join('\n'),
    )
    .join('\n');
}
