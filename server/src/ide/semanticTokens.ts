// Semantic tokens: each token classified by what its name means (a layer constructor, a
// model used as a block, a local binding, an input, a symbolic dim, a train key...).

import type { Analysis } from './analysis.js';
import { builtin } from './builtins.js';
import { symbolOf, type Occurrence } from './names.js';

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

export function semanticTokens(analysis: Analysis): SemanticToken[] {
  const byStart = new Map(analysis.names.occurrences.map((o) => [o.range.start, o]));
  const out: SemanticToken[] = [];
  for (const t of analysis.tokens) {
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
  const { names } = analysis;
  switch (o.role) {
    case 'keywordArg':
    case 'trainKey':
      return { type: 'property', modifiers: [] };
    case 'input':
    case 'gradParam':
    case 'hyperParam':
      return { type: 'parameter', modifiers: ['declaration'] };
    case 'dim':
      return { type: 'typeParameter', modifiers: ['declaration'] };
    case 'binding':
      return { type: 'variable', modifiers: ['declaration'] };
    case 'item': {
      const item = names.items.find((it) => it.nameRange.start === o.range.start);
      if (item?.kind === 'model') return { type: 'class', modifiers: ['declaration'] };
      if (item?.kind === 'fn') return { type: 'function', modifiers: ['declaration'] };
      return { type: 'variable', modifiers: ['declaration', 'readonly'] };
    }
    case 'reference': {
      const symbol = symbolOf(names, o);
      if (symbol && symbol.scope >= 0) {
        const definition = names.occurrences.find((d) => d.item === symbol.scope && d.name === o.name && d.role !== 'reference');
        if (definition?.role === 'dim') return { type: 'typeParameter', modifiers: [] };
        if (definition?.role === 'binding') return { type: 'variable', modifiers: [] };
        return { type: 'parameter', modifiers: [] };
      }
      if (symbol) {
        const item = names.items.find((it) => it.kind !== 'train' && it.name === o.name);
        if (item?.kind === 'model') return { type: 'class', modifiers: [] };
        if (item?.kind === 'fn') return { type: 'function', modifiers: [] };
        return { type: 'variable', modifiers: ['readonly'] };
      }
      const b = builtin(o.name);
      if (!b) return null;
      const isClass = b.kind === 'layer' || b.kind === 'optimizer';
      return { type: isClass ? 'class' : 'function', modifiers: ['defaultLibrary'] };
    }
  }
}
