// Completion: keywords, built-in functions and layers with their signatures and docs, the
// names in scope, `train` keys and, after a key, its possible values (data sets, losses...).

import type { Analysis } from './analysis.js';
import { BUILTINS, KEYWORDS, builtin, signatureOf, type Builtin, type BuiltinKind } from './builtins.js';
import { itemAt } from './names.js';
import type { Token } from './syntax.js';

export type CompletionKind = 'keyword' | 'function' | 'layer' | 'variable' | 'constant' | 'model' | 'fn' | 'key' | 'value' | 'argument';

export interface Completion {
  label: string;
  kind: CompletionKind;
  detail?: string;
  documentation?: string;
  insertText?: string;
}

const valuesOfKey: Record<string, BuiltinKind | string[]> = {
  data: 'dataset',
  loss: 'loss',
  optimizer: 'optimizer',
  backend: ['"auto"', '"ts"', '"onnx"'],
};

export function completions(analysis: Analysis, offset: number): Completion[] {
  const { names, tokens } = analysis;
  const before = tokens.filter((t) => t.end <= offset && t.kind !== 'comment');
  const item = itemAt(names, offset);
  const lineTokens = tokensOnLineBefore(analysis.text, before, offset);
  const insideBraces = item !== null && item.kind !== 'const' && before.some((t) => t.text === '{' && t.start > item.range.start);

  // Inside a call's parentheses: keyword arguments of the callee come first.
  const call = enclosingCall(before);
  const argumentNames = call ? keywordArguments(call) : [];

  if (item?.kind === 'train' && insideBraces && !call) {
    const key = lineTokens.length >= 2 && lineTokens[1].text === '=' ? lineTokens[0].text : null;
    if (key === null) return BUILTINS.filter((b) => b.kind === 'trainKey').map((b) => ({ label: b.name, kind: 'key', documentation: b.doc, insertText: `${b.name} = ` }));
    const values = valuesOfKey[key];
    if (Array.isArray(values)) return values.map((v) => ({ label: v, kind: 'value' }));
    if (values) return BUILTINS.filter((b) => b.kind === values).map(builtinCompletion);
    return [];
  }
  if (!item || (!insideBraces && item.kind !== 'const')) {
    if (call) return [...argumentNames, ...scopeNames(analysis, offset, -1)];
    return KEYWORDS.filter((k) => k === 'const' || k === 'model' || k === 'fn' || k === 'train').map((k) => ({ label: k, kind: 'keyword' }));
  }

  const previous = before[before.length - 1];
  if (previous?.text === '=' && before[before.length - 2]?.text === 'init') {
    return BUILTINS.filter((b) => b.kind === 'init').map(builtinCompletion);
  }
  const scope = names.items.indexOf(item);
  const out: Completion[] = [...argumentNames];
  if (lineTokens.length === 0) out.push({ label: 'return', kind: 'keyword' });
  out.push(...scopeNames(analysis, offset, scope));
  for (const b of BUILTINS) {
    if (b.kind === 'function' || b.kind === 'loss' || (b.kind === 'layer' && item.kind === 'model')) out.push(builtinCompletion(b));
  }
  out.push({ label: 'true', kind: 'keyword' }, { label: 'false', kind: 'keyword' });
  return out;
}

function builtinCompletion(b: Builtin): Completion {
  return { label: b.name, kind: b.kind === 'layer' ? 'layer' : b.kind === 'function' || b.kind === 'loss' ? 'function' : 'value', detail: signatureOf(b), documentation: b.doc };
}

/** Locals visible at the offset (one entry per name) and the top-level consts, models and fns. */
function scopeNames(analysis: Analysis, offset: number, scope: number): Completion[] {
  const { names, check } = analysis;
  const out = new Map<string, Completion>();
  for (const o of names.occurrences) {
    if (o.item !== scope || scope < 0 || out.has(o.name)) continue;
    if (o.role !== 'binding' && o.role !== 'input' && o.role !== 'hyperParam' && o.role !== 'dim' && o.role !== 'gradParam') continue;
    if (o.role === 'binding' && o.range.start > offset) continue;
    const model = names.items[scope].name;
    const layer = check.layers.find((l) => l.model === model && l.name === o.name);
    const binding = check.bindings.find((b) => b.model === model && b.name === o.name);
    out.set(o.name, {
      label: o.name,
      kind: 'variable',
      detail: layer ? `${layer.ctor}: ${layer.inShape ?? '?'} → ${layer.outShape ?? '?'}` : binding ? binding.shape : o.role,
    });
  }
  for (const item of names.items) {
    if (item.kind === 'train' || out.has(item.name)) continue;
    const model = check.models.find((m) => m.name === item.name);
    const fn = check.fns.find((f) => f.name === item.name);
    out.set(item.name, {
      label: item.name,
      kind: item.kind === 'const' ? 'constant' : item.kind === 'model' ? 'model' : 'fn',
      detail: model ? `model ${model.name}(${model.inputs.map((i) => i.shape).join(', ')}) -> ${model.output}` : fn ? `fn ${fn.name}(${fn.inputs.map((i) => `${i.name}: ${i.shape}`).join(', ')}) -> ${fn.output}` : item.kind,
    });
  }
  return [...out.values()];
}

function tokensOnLineBefore(text: string, before: readonly Token[], offset: number): Token[] {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  return before.filter((t) => t.start >= lineStart);
}

/** The innermost unclosed call before the cursor: its callee and the tokens since its `(`. */
export function enclosingCall(before: readonly Token[]): { callee: string; open: number; args: Token[] } | null {
  let depth = 0;
  for (let i = before.length - 1; i >= 0; i--) {
    const t = before[i];
    if (t.text === ')' || t.text === ']') depth++;
    else if (t.text === '[') depth = Math.max(0, depth - 1);
    else if (t.text === '(') {
      if (depth > 0) {
        depth--;
        continue;
      }
      const callee = before[i - 1];
      if (!callee || callee.kind !== 'name') return null;
      return { callee: callee.text, open: i, args: before.slice(i + 1) };
    } else if (t.text === '{' || t.text === '}') return null;
  }
  return null;
}

function keywordArguments(call: { callee: string; args: Token[] }): Completion[] {
  const b = builtin(call.callee);
  if (!b) return [];
  const given = new Set(call.args.filter((t, i) => t.kind === 'name' && call.args[i + 1]?.text === '=').map((t) => t.text));
  return b.params
    .filter((p) => p.default !== undefined && !given.has(p.name))
    .map((p) => ({ label: `${p.name} =`, kind: 'argument', detail: `${p.name} = ${p.default}`, insertText: `${p.name} = `, ...(p.doc ? { documentation: p.doc } : {}) }));
}
