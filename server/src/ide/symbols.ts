// Document symbols (models with their layers, fns, consts, train blocks) and folding ranges
// (braced bodies and runs of comment lines), from the checker's semantic model and tokens.

import type { TextRange } from '../../../engine/src/lang/api.js';
import type { Analysis } from './analysis.js';

export interface DocumentSymbol {
  name: string;
  detail: string;
  kind: 'model' | 'fn' | 'const' | 'train' | 'layer' | 'param';
  range: TextRange;
  selectionRange: TextRange;
  children: DocumentSymbol[];
}

export function documentSymbols(analysis: Analysis): DocumentSymbol[] {
  const { semantics, check } = analysis;
  return semantics.items.map((item) => {
    const model = check.models.find((m) => m.name === item.name);
    const fn = check.fns.find((f) => f.name === item.name);
    const children: DocumentSymbol[] =
      item.kind === 'model'
        ? check.layers
            .filter((l) => l.model === item.name && l.range.start >= item.range.start && l.range.end <= item.range.end)
            .map((l) => {
              const local = semantics.localsOf(item.name).find((s) => (s.kind === 'layer' || s.kind === 'param') && s.name === l.name);
              // From the declared name (`fc1 = Ctor(...)`) to the constructor's end; an anonymous layer is its constructor.
              const name = local?.definitions[0];
              const range = name && name.start < l.range.start ? { start: name.start, end: l.range.end } : l.range;
              return { name: l.name, detail: `${l.ctor} ${l.inShape ?? '?'} → ${l.outShape ?? '?'}`, kind: 'layer' as const, range, selectionRange: name ?? l.range, children: [] };
            })
        : [];
    const detail =
      item.kind === 'model' && model ? `(${model.inputs.map((i) => i.shape).join(', ')}) -> ${model.output}`
      : item.kind === 'fn' && fn ? `(${fn.inputs.map((i) => i.shape).join(', ')}) -> ${fn.output}`
      : item.kind === 'train' ? `train ${item.name}`
      : '';
    return {
      name: item.kind === 'train' ? `train ${item.name}` : item.name,
      detail,
      kind: item.kind,
      range: item.range,
      selectionRange: item.nameRange,
      children,
    };
  });
}

export interface FoldingRange {
  start: number; // offsets; the protocol layer turns them into lines
  end: number;
  kind: 'region' | 'comment';
}

export function foldingRanges(analysis: Analysis): FoldingRange[] {
  const out: FoldingRange[] = [];
  const open: number[] = [];
  for (const t of analysis.semantics.tokens) {
    if (t.text === '{') open.push(t.start);
    else if (t.text === '}' && open.length > 0) out.push({ start: open.pop()!, end: t.start, kind: 'region' });
  }
  // Runs of two or more full-line comments fold together.
  const lines = analysis.text.split('\n');
  let offset = 0;
  let runStart = -1;
  let runEnd = -1;
  let runLength = 0;
  for (const line of lines) {
    if (/^\s*#/.test(line)) {
      if (runLength === 0) runStart = offset;
      runEnd = offset + line.length;
      runLength++;
    } else {
      if (runLength >= 2) out.push({ start: runStart, end: runEnd, kind: 'comment' });
      runLength = 0;
    }
    offset += line.length + 1;
  }
  if (runLength >= 2) out.push({ start: runStart, end: runEnd, kind: 'comment' });
  return out.sort((a, b) => a.start - b.start);
}
