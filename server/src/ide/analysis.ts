// One document's analysis — the checker's result with its semantic model (names resolved to
// symbols, the parser's tokens and comments) — cached by version, so every feature asking
// about the same version shares one check.

import type { CheckResult, FnSummary, ModelSummary, TextRange } from '../../../engine/src/lang/api.js';
import type { ImportedFile } from '../../../engine/src/lang/imports.js';
import { emptySemantics, type SemanticModel } from '../../../engine/src/lang/semantics.js';

export interface Analysis {
  readonly uri: string;
  readonly version: number;
  readonly text: string;
  readonly check: CheckResult;
  readonly semantics: SemanticModel;
}

/** Runs the checker (with its semantic model); the caller supplies it so that data-file reading stays outside `ide`. */
export type Checker = (uri: string, text: string) => CheckResult;

/** The imported file a range of the combined text lies in, and the range within that file; null for the file's own. */
export function importedLocation(check: CheckResult, range: TextRange): { file: ImportedFile; range: TextRange } | null {
  const file = check.imports?.find((f) => range.start >= f.base && range.start <= f.base + f.text.length);
  return file ? { file, range: { start: range.start - file.base, end: range.end - file.base } } : null;
}

/** A model of the file or of a file it imports, by name. */
export function modelNamed(check: CheckResult, name: string): ModelSummary | undefined {
  return check.models.find((m) => m.name === name) ?? check.importedModels?.find((m) => m.name === name);
}

/** A fn of the file or of a file it imports, by name. */
export function fnNamed(check: CheckResult, name: string): FnSummary | undefined {
  return check.fns.find((f) => f.name === name) ?? check.importedFns?.find((f) => f.name === name);
}

export class AnalysisCache {
  private readonly latest = new Map<string, Analysis>();

  constructor(private readonly checker: Checker) {}

  /** The analysis of this version of the document, computed at most once per version. */
  get(uri: string, version: number, text: string): Analysis {
    const cached = this.current(uri, version, text);
    if (cached) return cached;
    // Let go of the stale analysis first: the check allocates a lot, and the garbage
    // collector would otherwise copy the old result along with the new one.
    this.latest.delete(uri);
    const check = this.checker(uri, text);
    const analysis: Analysis = { uri, version, text, check, semantics: check.semantics ?? emptySemantics(text) };
    this.latest.set(uri, analysis);
    return analysis;
  }

  private current(uri: string, version: number, text: string): Analysis | null {
    const cached = this.latest.get(uri);
    return cached && cached.version === version && cached.text === text ? cached : null;
  }

  delete(uri: string): void {
    this.latest.delete(uri);
  }

  /** The documents whose last check read the file at `path` through an import. */
  importersOf(path: string): string[] {
    const uris: string[] = [];
    for (const [uri, analysis] of this.latest) if (analysis.check.imports?.some((f) => f.path === path)) uris.push(uri);
    return uris;
  }
}
