// One document's analysis — tokens, names and the checker's result — cached by version, so
// every feature asking about the same version shares one check.

import type { CheckResult } from '../../../engine/src/lang/api.js';
import { indexNames, type NameIndex } from './names.js';
import { tokenize, type Token } from './syntax.js';

export interface Analysis {
  uri: string;
  version: number;
  text: string;
  tokens: Token[];
  names: NameIndex;
  check: CheckResult;
}

/** Runs the checker; the caller supplies it so that data-file reading stays outside `ide`. */
export type Checker = (uri: string, text: string) => CheckResult;

export class AnalysisCache {
  private readonly latest = new Map<string, Analysis>();

  constructor(private readonly checker: Checker) {}

  /** The analysis of this version of the document, computed at most once per version. */
  get(uri: string, version: number, text: string): Analysis {
    const cached = this.latest.get(uri);
    if (cached && cached.version === version && cached.text === text) return cached;
    const tokens = tokenize(text);
    const analysis: Analysis = { uri, version, text, tokens, names: indexNames(tokens.filter((t) => t.kind !== 'comment'), text), check: this.checker(uri, text) };
    this.latest.set(uri, analysis);
    return analysis;
  }

  /** The latest analysis computed for a document, whatever its version. */
  peek(uri: string): Analysis | undefined {
    return this.latest.get(uri);
  }

  delete(uri: string): void {
    this.latest.delete(uri);
  }
}
