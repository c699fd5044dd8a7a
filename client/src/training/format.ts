// Text the extension shows for runs: numbers, run-log lines, the end-of-run message and the
// probe and gradcheck reports. Pure, so the wording is tested without an editor.

import { splitName, type ParamGradStats, type RunEvent } from '../../../engine/src/core/events.js';
import type { GradcheckResult, TrainResult } from '../../../server/src/protocol.js';

export function formatLoss(loss: number): string {
  if (!Number.isFinite(loss)) return String(loss);
  return Math.abs(loss) >= 1e-3 || loss === 0 ? loss.toFixed(4) : loss.toExponential(2);
}

export function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

/** A gradient magnitude, which spans many decades: three significant digits. */
export function formatGradient(value: number): string {
  return value === 0 || !Number.isFinite(value) ? String(value) : value.toExponential(2);
}

/** One line of the run log in the output channel. Events count epochs from 0, people from 1. */
export function runLogLine(event: RunEvent): string {
  switch (event.type) {
    case 'start': {
      const resumed = event.resumedFrom === undefined ? '' : `, resumed from step ${event.resumedFrom}`;
      return (
        `Training ${event.model} on the ${event.backend} backend: ${event.epochs} epochs × ` +
        `${event.stepsPerEpoch} steps, ${event.params.toLocaleString('en-US')} parameters${resumed}`
      );
    }
    case 'step':
      return (
        `epoch ${event.epoch + 1} step ${event.step}: loss ${formatLoss(event.loss)}` +
        ` (${Math.round(event.samplesPerSec)} samples/s)`
      );
    case 'epoch': {
      const split = splitName(event.evaluatedOn);
      const accuracy = event.testAccuracy === null ? '' : `, ${split} accuracy ${formatPercent(event.testAccuracy)}`;
      const trainAccuracy = event.trainAccuracy == null || event.evaluatedOn === 'train' ? '' : `, train accuracy ${formatPercent(event.trainAccuracy)}`;
      return (
        `epoch ${event.epoch + 1} done at step ${event.step}: train loss ${formatLoss(event.trainLoss)}, ` +
        `${split}${event.evaluatedOn === 'train' ? ' eval' : ''} loss ${formatLoss(event.testLoss)}${accuracy}${trainAccuracy}`
      );
    }
    case 'finding':
      return `${event.finding.severity} ${event.finding.code} at step ${event.finding.step} in ${event.finding.layer}: ${event.finding.message}`;
    case 'checkpoint':
      return `checkpoint at step ${event.step}: ${event.path}`;
    case 'end': {
      const accuracy = event.testAccuracy === null ? '' : `, ${splitName(event.evaluatedOn)} accuracy ${formatPercent(event.testAccuracy)}`;
      const checkpoint = event.checkpoint === null ? '' : `, checkpoint ${event.checkpoint}`;
      return `run ${event.reason} at step ${event.step} after ${event.seconds.toFixed(1)} s${accuracy}${checkpoint}`;
    }
  }
}

/** The message shown when `nn/train` answers, and whether it is good news. */
export function trainResultMessage(model: string, result: TrainResult): { text: string; ok: boolean } {
  switch (result.reason) {
    case 'done': {
      const parts = [`Training ${model} finished`];
      if (result.testAccuracy !== null) parts.push(`${splitName(result.evaluatedOn)} accuracy ${formatPercent(result.testAccuracy)}`);
      if (result.checkpoint !== null) parts.push(`checkpoint ${result.checkpoint}`);
      return { text: parts.join(' · '), ok: true };
    }
    case 'cancelled':
      return { text: `Training ${model} was cancelled. ${result.message}`.trim(), ok: true };
    case 'nan':
      return { text: `Training ${model} stopped: the loss became NaN or infinite. ${result.message}`.trim(), ok: false };
    case 'early_stop':
      return { text: result.message, ok: true };
    case 'error':
      return { text: `Training ${model} failed: ${result.message}`, ok: false };
  }
}

/** The per-parameter gradient table of a probe, as fixed-width lines for the output channel. */
export function gradientTable(params: ParamGradStats[]): string[] {
  const header = ['parameter', '‖g‖', 'max |g|', 'mean |g|', 'zeros'];
  const rows = params.map((p) => [
    p.name,
    formatGradient(p.gradNorm),
    formatGradient(p.gradMax),
    formatGradient(p.gradMeanAbs),
    formatPercent(p.zeroFraction),
  ]);
  const widths = header.map((h, column) => Math.max(h.length, ...rows.map((row) => row[column].length)));
  return [header, ...rows].map((row) => row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd());
}

/** One line per checked input of each `grad` block, and a one-line summary. */
export function gradcheckReport(result: GradcheckResult): { lines: string[]; summary: string; ok: boolean } {
  const lines: string[] = [];
  for (const fn of result.fns) {
    lines.push(`${fn.ok ? 'ok  ' : 'FAIL'} ${fn.fn}`);
    for (const input of fn.inputs) {
      lines.push(
        `     ${input.name}: max abs error ${formatGradient(input.maxAbsError)}, max rel error ${formatGradient(input.maxRelError)}`,
      );
    }
  }
  const failed = result.fns.filter((fn) => !fn.ok).map((fn) => fn.fn);
  if (result.fns.length === 0) return { lines, summary: 'No fn with a grad block to check.', ok: true };
  const summary =
    failed.length === 0
      ? `gradcheck: all ${result.fns.length} grad blocks match finite differences.`
      : `gradcheck: ${failed.join(', ')} ${failed.length === 1 ? 'does' : 'do'} not match finite differences.`;
  return { lines, summary, ok: failed.length === 0 };
}
