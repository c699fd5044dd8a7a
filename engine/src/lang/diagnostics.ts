// The one catalogue of diagnostic codes (LANGUAGE.md §10): severity, title and message
// template; every reporter passes a code and arguments, never a message of its own.

import type { Diagnostic, Fix, RelatedInfo, Severity, TextRange } from './api.js';

export interface DiagnosticEntry {
  severity: Severity;
  title: string;
  template: string;
}

export const DIAGNOSTICS: Record<string, DiagnosticEntry> = {
  NN1001: { severity: 'error', title: 'syntax error', template: 'expected {0}, found {1}' },
  NN1002: { severity: 'error', title: 'unterminated string or bracket', template: '{0} is never closed' },
  NN2001: { severity: 'error', title: 'undefined name', template: 'undefined name `{0}`' },
  NN2002: { severity: 'error', title: 'name defined twice', template: '`{0}` is already defined at line {1}' },
  NN2003: { severity: 'error', title: 'wrong arguments', template: 'wrong arguments to `{0}`: {1}' },
  NN2004: { severity: 'error', title: 'model uses itself', template: 'model `{0}` uses itself ({1})' },
  NN2005: {
    severity: 'error',
    title: 'argument shape does not fit the signature',
    template: '`{0}` expects `{1}` of shape {2}, but `{3}` has shape {4}',
  },
  NN2006: { severity: 'error', title: 'missing return', template: '`{0}` has no `return`' },
  NN2101: {
    severity: 'error',
    title: 'shapes cannot be broadcast',
    template: 'shapes {0} and {1} cannot be broadcast together ({2} vs {3})',
  },
  NN2102: {
    severity: 'error',
    title: 'matrix product inner dimensions differ',
    template: '`@` inner dimensions differ: {0} @ {1} ({2} vs {3})',
  },
  NN2103: {
    severity: 'error',
    title: 'Linear input features differ',
    template: 'Linear expects input features {0}, but `{1}` has shape {2}{3}',
  },
  NN2104: {
    severity: 'error',
    title: 'channels differ',
    template: '{0} expects {1} input channels, but `{2}` has shape {3}{4}',
  },
  NN2105: {
    severity: 'error',
    title: 'window larger than the input',
    template: '{0} window {1} does not fit the (padded) input of size {2}: output size would be {3}',
  },
  NN2106: {
    severity: 'error',
    title: 'reshape changes the element count',
    template: 'reshape changes the element count: {0} has {1} elements, {2} has {3}',
  },
  NN2107: {
    severity: 'error',
    title: 'concat inputs differ outside the axis',
    template: 'concat inputs differ outside axis {0}: {1} vs {2}',
  },
  NN2108: { severity: 'error', title: 'wrong rank', template: '{0} expects {1}, but `{2}` has shape {3}' },
  NN2109: { severity: 'error', title: 'axis out of range', template: 'axis {0} is out of range for shape {1}' },
  NN2110: {
    severity: 'error',
    title: 'returned shape differs from the declared output',
    template: 'returned shape {0} differs from the declared output shape {1}',
  },
  NN2111: { severity: 'error', title: 'size mismatch', template: '{0} expects {1}, but `{2}` has shape {3}' },
  NN3001: {
    severity: 'error',
    title: 'wrong number of gradients',
    template: '`grad` of `{0}` returns {1} gradient(s), but `{0}` has {2} input(s)',
  },
  NN3002: {
    severity: 'error',
    title: 'gradient shape differs from its input',
    template: 'gradient for `{0}` has shape {1} but `{0}` has shape {2}{3}',
  },
  NN3101: { severity: 'warning', title: 'no gradient reaches a parameter', template: '{0} `{1}` receives no gradient: {2}' },
  NN3102: {
    severity: 'warning',
    title: 'softmax before cross_entropy',
    template: '`{0}` output is fed to cross_entropy, which expects logits and applies log_softmax itself',
  },
  NN3103: {
    severity: 'info',
    title: 'linear layers without a non-linearity',
    template: '`{0}` follows `{1}` with no non-linearity between them: together they are one linear map',
  },
  NN3104: {
    severity: 'warning',
    title: 'saturating activation chain',
    template: 'chain of {0} saturating activations: the worst-case gradient factor {1} is below 1e-3',
  },
  NN4001: { severity: 'error', title: 'unknown model', template: '`train` names an unknown model `{0}`' },
  NN4002: { severity: 'error', title: 'bad train entry', template: 'bad `train` entry `{0}`: {1}' },
  NN4003: {
    severity: 'error',
    title: 'data sample shape differs from the model input',
    template: 'data set `{0}` gives samples of shape {1}, but `{2}` expects {3}',
  },
  NN4004: {
    severity: 'error',
    title: 'class count differs from the model output',
    template: 'data set `{0}` has {1} classes, but `{2}` outputs {3} scores',
  },
  NN4005: { severity: 'error', title: 'data file missing or unreadable', template: 'cannot read data file "{0}": {1}' },
  NN4006: { severity: 'error', title: 'path leaves the workspace', template: 'path "{0}" leaves the workspace folder' },
  NN4007: {
    severity: 'error',
    title: 'loss does not fit the model output',
    template: 'loss `{0}` does not fit the model output {1}: {2}',
  },
  NN4008: {
    severity: 'error',
    title: 'token ids outside the Embedding',
    template: 'data set `{0}` has token ids from {1} to {2}, but `{3}` has {4} rows (ids 0 to {5})',
  },
  NN5001: { severity: 'warning', title: 'vanishing gradient', template: 'vanishing gradient at `{0}`: {1}' },
  NN5002: { severity: 'warning', title: 'exploding gradient', template: 'exploding gradient at `{0}`: {1}' },
  NN5003: { severity: 'warning', title: 'dead ReLU units', template: 'dead ReLU units at `{0}`: {1}' },
  NN5004: { severity: 'error', title: 'NaN or Inf', template: 'NaN or Inf at `{0}`: {1}' },
  NN5005: { severity: 'warning', title: 'saturated activations', template: 'saturated units at `{0}`: {1}' },
};

export type DiagnosticArg = string | number;

/** Fills a catalogue template's `{0}`, `{1}`... placeholders. */
export function formatMessage(code: string, args: readonly DiagnosticArg[]): string {
  const entry = DIAGNOSTICS[code];
  if (entry === undefined) throw new Error(`unknown diagnostic code ${code}`);
  return entry.template.replace(/\{(\d+)\}/g, (_, index: string) => String(args[Number(index)] ?? ''));
}

/** A diagnostic from a catalogue code, its arguments, and optional related information and fixes. */
export function makeDiagnostic(
  code: string,
  range: TextRange,
  args: readonly DiagnosticArg[],
  extras: { related?: RelatedInfo[]; fixes?: Fix[] } = {},
): Diagnostic {
  return {
    code,
    severity: DIAGNOSTICS[code].severity,
    message: formatMessage(code, args),
    range,
    related: extras.related ?? [],
    fixes: extras.fixes ?? [],
  };
}
