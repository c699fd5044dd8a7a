// One document's analysis — the checker's result, and the tokens and names the editor
// features read — cached by version, so every feature asking about the same version shares
// one check. Tokens and names are computed on first use: publishing diagnostics needs neither.

import type { CheckResult } from '../../../engine/src/lang/api.js';
import { indexNames, type NameIndex } from './names.js';
import { tokenize, type Token } from './syntax.js';

export interface Analysis {
  readonly uri: string;
  readonly version: number;
  readonly text: string;
  readonly check: CheckResult;
  readonly tokens: Token[];
  readonly names: NameIndex;
}

/** Runs the checker; the caller supplies it so that data-file reading stays outside `ide`. */
export type Checker = (uri: string, text: string) => CheckResult;

class DocumentAnalysis implements Analysis {
  private tokenCache: Token[] | null = null;
  private nameCache: NameIndex | null = null;

  constructor(
    readonly uri: string,
    readonly version: number,
    readonly text: string,
    readonly check: CheckResult,
  ) {}

  get tokens(): Token[] {
    return (this.tokenCache ??= tokenize(this.text));
  }

  get names(): NameIndex {
    return (this.nameCache ??= indexNames(this.tokens.filter((t) => t.kind !== 'comment'), this.text));
  }
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
    const analysis = new DocumentAnalysis(uri, version, text, this.checker(uri, text));
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
}
