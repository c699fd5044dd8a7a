// Code lenses: `▶ Train` and `∇ Probe gradients` on each `train` block, `✓ Gradcheck` on each
// `fn` with a `grad` block. They name the server's commands (protocol.ts SERVER_COMMANDS),
// so they work in every LSP client. In an untrusted workspace they are shown disabled, with
// the reason, and name no command.

import type { TextRange } from '../../../engine/src/lang/api.js';
import { SERVER_COMMANDS, type FnCommandArgs, type ModelCommandArgs, type ServerCommand } from '../protocol.js';
import type { Analysis } from './analysis.js';

export interface CodeLens {
  range: TextRange;
  title: string;
  /** Null: shown, not runnable (the title says why). */
  command: ServerCommand | null;
  argument: ModelCommandArgs | FnCommandArgs;
}

/** What a lens's title says when the workspace is not trusted. */
export const UNTRUSTED_SUFFIX = ' (disabled: the workspace is not trusted)';

export function codeLenses(analysis: Analysis, trusted: boolean): CodeLens[] {
  const lenses: CodeLens[] = [];
  const lens = (range: TextRange, title: string, command: ServerCommand, argument: CodeLens['argument']) =>
    lenses.push(trusted ? { range, title, command, argument } : { range, title: `${title}${UNTRUSTED_SUFFIX}`, command: null, argument });
  for (const item of analysis.semantics.items) {
    if (item.kind !== 'train') continue;
    const range = { start: item.range.start, end: item.nameRange.end };
    const argument = { uri: analysis.uri, model: item.name };
    lens(range, '▶ Train', SERVER_COMMANDS.train, argument);
    lens(range, '∇ Probe gradients', SERVER_COMMANDS.probe, argument);
  }
  for (const fn of analysis.check.fns) {
    if (!fn.hasGrad) continue;
    lens({ start: fn.range.start, end: fn.nameRange.end }, '✓ Gradcheck', SERVER_COMMANDS.gradcheck, { uri: analysis.uri, fn: fn.name });
  }
  return lenses.sort((a, b) => a.range.start - b.range.start);
}
