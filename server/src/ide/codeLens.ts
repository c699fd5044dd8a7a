// Code lenses: `▶ Train` and `∇ Probe gradients` on each `train` block, `✓ Gradcheck` on each
// `fn` with a `grad` block. Commands are named here and implemented by the client.

import type { TextRange } from '../../../engine/src/lang/api.js';
import type { Analysis } from './analysis.js';

export interface CodeLens {
  range: TextRange;
  title: string;
  command: 'nn.train' | 'nn.probeGradients' | 'nn.gradcheck';
  argument: { model: string } | { fn: string };
}

export function codeLenses(analysis: Analysis): CodeLens[] {
  const lenses: CodeLens[] = [];
  for (const item of analysis.names.items) {
    if (item.kind !== 'train') continue;
    const range = { start: item.range.start, end: item.nameRange.end };
    lenses.push({ range, title: '▶ Train', command: 'nn.train', argument: { model: item.name } });
    lenses.push({ range, title: '∇ Probe gradients', command: 'nn.probeGradients', argument: { model: item.name } });
  }
  for (const fn of analysis.check.fns) {
    if (!fn.hasGrad) continue;
    lenses.push({ range: { start: fn.range.start, end: fn.nameRange.end }, title: '✓ Gradcheck', command: 'nn.gradcheck', argument: { fn: fn.name } });
  }
  return lenses.sort((a, b) => a.range.start - b.range.start);
}
