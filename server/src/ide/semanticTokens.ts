// Semantic tokens: each token classified by what the checker's semantic model says its name
// means (a layer constructor, a model used as a block, a local binding, an input, a symbolic
// dim, a train key...), and keywords, numbers, strings, comments and operators from the parser's tokens.

import type { BuiltinKind, Occurrence, SymbolKind } from '../../../engine/src/lang/semantics.js';
import type { Analysis } from './analysis.js';

export const TOKEN_TYPES = ['keyword', 'number', 'string', 'comment', 'function', 'class', 'variable', 'parameter', 'typeParameter', 'property', 'type', 'operator'] as const;
export const TOKEN_MODIFIERS = ['declaration', 'readonly', 'defaultLibrary'] as const;

export type TokenType = (typeof TOKEN_TYPES)[number];
export type TokenModifier = (typeof TOKEN_MODIFIERS)[number];

export interface SemanticToken {
  start: number;
  length: number;
  type: TokenType;
  modifiers: TokenModifier[];
}

const SYMBOL_TYPES: Record<SymbolKind, TokenType> = {
  const: 'variable',
  model: 'class',
  fn: 'function',
  hyperParam: 'parameter',
  input: 'parameter',
  gradParam: 'parameter',
  dim: 'typeParameter',
  binding: 'variable',
  layer: 'variable',
  param: 'variable',
};

const BUILTIN_TYPES: Record<BuiltinKind, TokenType> = {
  function: 'function',
  loss: 'function',
  param: 'function',
  layer: 'class',
  optimizer: 'class',
  dataset: 'function',
  init: 'variable',
};

export function semanticTokens(analysis: Analysis): SemanticToken[] {
  const { semantics } = analysis;
  const byStart = new Map<number, Occurrence>();
  for (const o of semantics.occurrences) byStart.set(o.range.start, o);
  const out: SemanticToken[] = [];
  for (const t of semantics.tokens) {
    const length = t.end - t.start;
    if (t.kind === 'keyword' || t.kind === 'number' || t.kind === 'string' || t.kind === 'comment') {
      out.push({ start: t.start, length, type: t.kind, modifiers: [] });
    } else if (t.kind === 'name') {
      const o = byStart.get(t.start);
      const classified = o ? classify(analysis, o) : t.text === 'int' ? { type: 'type' as const, modifiers: [] } : null;
      if (classified) out.push({ start: t.start, length, ...classified });
    } else if (t.text === '|>' || t.text === '@' || t.text === '->') {
      out.push({ start: t.start, length, type: 'operator', modifiers: [] });
    }
  }
  return out;
}

function classify(analysis: Analysis, o: Occurrence): { type: TokenType; modifiers: TokenModifier[] } | null {
  switch (o.role) {
    case 'keywordArg':
    case 'trainKey':
      return { type: 'property', modifiers: [] };
    case 'builtin':
      return { type: BUILTIN_TYPES[o.builtin], modifiers: o.builtin === 'init' ? ['readonly', 'defaultLibrary'] : ['defaultLibrary'] };
    case 'unresolved':
      return null;
    case 'definition':
    case 'reference': {
      const symbol = analysis.semantics.symbol(o.symbol);
      const modifiers: TokenModifier[] = o.role === 'definition' ? ['declaration'] : [];
      if (symbol.kind === 'const') modifiers.push('readonly');
      return { type: SYMBOL_TYPES[symbol.kind], modifiers };
    }
  }
}
