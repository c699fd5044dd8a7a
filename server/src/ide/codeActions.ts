// Quick fixes from the checker's machine-readable fixes (NN2103, NN2104, NN3002, NN3102...):
// each fix of a diagnostic that touches the requested range becomes one action.

import type { Diagnostic, TextEdit, TextRange } from '../../../engine/src/lang/api.js';
import type { Analysis } from './analysis.js';

export interface QuickFix {
  title: string;
  edits: TextEdit[];
  diagnostic: Diagnostic;
  preferred: boolean;
}

export function quickFixes(analysis: Analysis, range: TextRange): QuickFix[] {
  const out: QuickFix[] = [];
  for (const diagnostic of analysis.check.diagnostics) {
    if (diagnostic.fixes.length === 0) continue;
    if (diagnostic.range.end < range.start || diagnostic.range.start > range.end) continue;
    for (const fix of diagnostic.fixes) {
      out.push({ title: fix.title, edits: fix.edits, diagnostic, preferred: diagnostic.fixes.length === 1 });
    }
  }
  return out;
}
