// Code lenses: `▶ Train` and `∇ Probe gradients` on each `train` block, `✓ Gradcheck` on each
// `fn` with a `grad` block. The commands are named in protocol.ts and implemented by the client.

import type { TextRange } from '../../../engine/src/lang/api.js';
import { gradcheckCommand, probeGradientsCommand, trainCommand } from '../protocol.js';
import type { Analysis } from './analysis.js';

export interface CodeLens {
  range: TextRange;
  title: string;
  command: typeof trainCommand | typeof probeGradientsCommand | typeof gradcheckCommand;
  argument: { model: string } | { fn: string };
}

export function codeLenses(analysis: Analysis): CodeLens[] {
  const lenses: CodeLens[] = [];
  for (const item of analysis.names.items) {
    if (item.kind !== 'train') continue;
    const range = { start: item.range.start, end: item.nameRange.end };
    lenses.push({ range, title: '▶ Train', command: trainCommand, argument: { model: item.name } });
    lenses.push({ range, title: '∇ Probe gradients', command: probeGradientsCommand, argument: { model: item.name } });
  }
  for (const fn of analysis.check.fns) {
    if (!fn.hasGrad) continue;
    lenses.push({ range: { start: fn.range.start, end: fn.nameRange.end }, title: '✓ Gradcheck', command: gradcheckCommand, argument: { fn: fn.name } });
  }
  return lenses.sort((a, b) => a.range.start - b.range.start);
}
