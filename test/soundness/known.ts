// Disagreements the generator finds that are open bugs of other work (the op registry of
// issue #15: its bugs 1, 2, 3, 5, 7, 9 and 11), each with its repro in
// /work/notes/soundness-findings.md. A case that hits one is reported as blocked on it, never
// dropped: the generator keeps making it, and the finding's entry goes when its fix lands
// (then any such case must pass). Every matcher names the stage, the symptom and the
// construct, so that no other disagreement can hide behind it.

import type { Case } from './generate.js';
import type { Failure } from './harness.js';

export interface KnownFinding {
  id: string;
  /** The bug of issue #15 it belongs to. */
  issue: string;
  summary: string;
  matches(f: Failure, c: Case): boolean;
}

const has = (c: Case, feature: string) => c.features.includes(feature);

export const KNOWN_FINDINGS: readonly KnownFinding[] = [
  {
    id: 'F1',
    issue: '#1',
    summary: 'ONNX label input has the rank of the output, not of the targets ([B] vs [B, 1])',
    matches: (f) => f.stage.startsWith('train') && /Invalid rank for input: labels/.test(f.message),
  },
  {
    id: 'F2',
    issue: '#2',
    summary: 'mse / bce_with_logits on class labels with a [B, C] output: the targets are not made one-hot',
    matches: (f, c) => has(c, 'task:one-hot') && /cannot be broadcast together \(prediction vs target\)|Invalid rank for input: labels/.test(f.message),
  },
  {
    id: 'F3',
    issue: '#3',
    summary: 'a variadic grad block reshaping over *S: the checker keeps *S as one dim, the ONNX gradient gets the wrong shape',
    matches: (f, c) => has(c, 'fn:scale') && (f.stage.startsWith('train') || f.stage === 'shape-onnx') && /Concat must have same rank|losses of two steps differ|MergeShapeInfo|has runtime shape|Invalid rank for output: next:/.test(f.message),
  },
  {
    id: 'F5',
    issue: '#5',
    summary: 'block hyper-parameters as kernel sizes, strides, paddings, pool sizes or a dropout rate are refused or mis-sized',
    matches: (f, c) =>
      f.stage === 'check' &&
      ((has(c, 'block:hyper-kernel') && /undefined|NaN|`k` must be a constant integer|declared output shape \[[^\]]*\bk\b/.test(f.message)) ||
        (has(c, 'block:hyper-rate') && /`p` must be a number, got rate|must be an integer, got 0\.0/.test(f.message))),
  },
  {
    id: 'F7',
    issue: '#7',
    summary: 'after a window that does not fit (NN2105) or a reshape that changes the count (NN2106) the wrong shape flows on: follow-on errors',
    matches: (f) => (f.stage === 'mutant:window' || f.stage === 'mutant:reshape-count') && /diagnostics on other lines/.test(f.message),
  },
  {
    id: 'F9',
    issue: '#9',
    summary: 'the PyTorch export writes reshape/flatten over symbolic non-batch dims as x.reshape(-1, ..., -1)',
    matches: (f, c) => has(c, 'symbolic-dims') && f.stage === 'pytorch' && /only one dimension can be inferred/.test(f.message),
  },
  {
    id: 'F11a',
    issue: '#11',
    summary: 'ONNX dropout draws its own masks: TS and ONNX losses differ with dropout in training',
    matches: (f, c) => c.dropout && f.stage === 'train' && /losses of two steps differ/.test(f.message),
  },
  {
    id: 'F11b',
    issue: '#11',
    summary: 'ONNX Dropout of a value that needs no gradient (the data input) makes the step graph fail to load',
    matches: (f, c) => has(c, 'op:dropout') && f.stage.startsWith('train') && /Argument type mismatch when adding edge/.test(f.message),
  },
];

/** The known finding a failure is blocked on, if any. */
export function knownFinding(f: Failure, c: Case): KnownFinding | null {
  return KNOWN_FINDINGS.find((k) => k.matches(f, c)) ?? null;
}
