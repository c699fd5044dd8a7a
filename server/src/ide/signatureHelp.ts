// Signature help inside a call's parentheses: built-ins (from the engine's catalogue), data
// sets and optimizers in a `train` block, models with hyper-parameters, fns, and applications
// of a declared layer, with the active parameter.

import type { Analysis } from './analysis.js';
import { calleeEntry, enclosingCall } from './completion.js';

export interface SignatureHelp {
  label: string;
  parameters: string[];
  activeParameter: number;
  documentation?: string;
}

export function signatureHelp(analysis: Analysis, offset: number): SignatureHelp | null {
  const code = analysis.semantics.tokens.filter((t) => t.kind !== 'comment');
  const before = code.filter((t) => t.end <= offset);
  const call = enclosingCall(before);
  if (!call) return null;
  const signature = signatureOfCallee(analysis, call.callee, offset);
  if (!signature) return null;
  // The active parameter: a keyword argument names it, else the count of top-level commas.
  let depth = 0;
  let index = 0;
  let keyword: string | null = null;
  // Up to the cursor, the name under it included (`padd|ing = 1` names `padding`).
  const args = code.slice(call.open + 1).filter((t) => t.start < offset);
  args.forEach((t, i) => {
    if (t.text === '(' || t.text === '[') depth++;
    else if (t.text === ')' || t.text === ']') depth--;
    else if (t.text === ',' && depth === 0) {
      index++;
      keyword = null;
    } else if (depth === 0 && t.kind === 'name' && code[call.open + 2 + i]?.text === '=') keyword = t.text;
  });
  const named = keyword === null ? -1 : signature.names.findIndex((names) => names.includes(keyword!));
  return {
    label: signature.label,
    parameters: signature.parameters,
    activeParameter: named >= 0 ? named : Math.min(index, Math.max(0, signature.parameters.length - 1)),
    ...(signature.documentation ? { documentation: signature.documentation } : {}),
  };
}

interface Signature {
  label: string;
  parameters: string[];
  /** Per parameter, the keyword spellings that name it. */
  names: string[][];
  documentation?: string;
}

function build(name: string, parameters: string[], names: string[][], suffix = '', documentation?: string): Signature {
  return { label: `${name}(${parameters.join(', ')})${suffix}`, parameters, names, ...(documentation ? { documentation } : {}) };
}

function signatureOfCallee(analysis: Analysis, callee: string, offset: number): Signature | null {
  const { check, semantics } = analysis;
  const item = semantics.itemAt(offset);
  const layer = item ? check.layers.find((l) => l.model === item.name && l.name === callee) : undefined;
  if (layer) return build(callee, [`x: ${layer.inShape ?? '?'}`], [['x']], ` -> ${layer.outShape ?? '?'}`, `applies ${layer.ctor} ${callee}`);
  const model = item?.kind !== 'train' ? check.models.find((m) => m.name === callee) : undefined;
  if (model) return build(callee, model.hyperParams, model.hyperParams.map((h) => [h]), '', `instantiates the block ${callee}`);
  const fn = item?.kind !== 'train' ? check.fns.find((f) => f.name === callee) : undefined;
  if (fn) return build(callee, fn.inputs.map((i) => `${i.name}: ${i.shape}`), fn.inputs.map((i) => [i.name]), ` -> ${fn.output}`);
  const entry = calleeEntry(callee, item);
  if (entry) return build(callee, entry.params.map((p) => p.label), entry.params.map((p) => [p.name, ...p.aliases]), '', entry.summary);
  return null;
}
