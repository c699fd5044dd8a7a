// Hover text for a position, from the checker's semantic model and facts: a layer's forward
// and backward pass with shapes and its gradient statistics, a `param`, a call's shapes and
// its op's gradient, an operator's broadcast and the reduction its gradients need, a binding's
// value and gradient shapes, `g` in a `grad` block, a model's or fn's signature, a keyword
// argument, a train key, or a built-in's documentation from the registry. Markdown, plain strings.

import type { BindingInfo, CallInfo, FnSummary, LayerInfo, TextRange } from '../../../engine/src/lang/api.js';
import { catalogueEntry, type CatalogueEntry } from '../../../engine/src/lang/catalogue.js';
import type { Occurrence, SemanticItem, SemanticSymbol } from '../../../engine/src/lang/semantics.js';
import { PARAM_INITS } from '../../../engine/src/lang/instances.js';
import { layerDef, opDef } from '../../../engine/src/ops/registry.js';
import { internalBytes } from '../../../engine/src/lang/costs.js';
import type { Dim, Shape } from '../../../engine/src/shape/dim.js';
import { fileName } from '../../../engine/src/lang/imports.js';
import { fnNamed, importedLocation, modelNamed, type Analysis } from './analysis.js';
import { calleeEntry } from './completion.js';
import { formatCount, formatDims, formatPercent, formatStat, shapeText, sparkline, sumOver } from './format.js';
import { formatQuantity } from '../../../engine/src/lang/quantity.js';
import { layerStats, type GradientFlow, type LayerFlow } from './runResults.js';

export interface Hover {
  markdown: string;
  range: TextRange;
}

/** The gradient flow to show for a model (a run, a probe or the init-time pass), if any. */
export type FlowLookup = (model: string) => GradientFlow | null;

export function hover(analysis: Analysis, offset: number, flowOf: FlowLookup): Hover | null {
  const o = analysis.semantics.occurrenceAt(offset);
  const markdown = o ? occurrenceHover(analysis, o, flowOf) : null;
  if (o && markdown) return { markdown, range: o.range };
  const operator = analysis.check.calls.find((c) => contains(c.calleeRange, offset) && opDef(c.callee)?.surface === 'operator');
  return operator ? { markdown: operatorHover(analysis, operator), range: operator.calleeRange } : null;
}

function occurrenceHover(analysis: Analysis, o: Occurrence, flowOf: FlowLookup): string | null {
  const { check, semantics } = analysis;
  const owner = semantics.items[o.item]?.name ?? null;
  switch (o.role) {
    case 'builtin': {
      // An inline constructor (`x |> Ctor(...)`) is its layer; a call shows its shapes.
      const inline = o.builtin === 'layer' ? check.layers.find((l) => l.model === owner && l.ctor === o.name && contains(l.range, o.range.start)) : undefined;
      if (inline) return layerHover(analysis, inline, flowOf(inline.model));
      const call = check.calls.find((c) => c.calleeRange.start === o.range.start);
      const entry = catalogueEntry(o.name, o.builtin);
      if (call && entry) return callHover(call, entry);
      return entry ? entryHover(entry) : null;
    }
    case 'keywordArg':
      return keywordArgHover(analysis, o.name, o.callee, semantics.items[o.item] ?? null);
    case 'trainKey': {
      const entry = catalogueEntry(o.name, 'trainKey');
      return entry ? `${code(entry.signature)} (train key)\n\n${entry.summary}` : null;
    }
    case 'unresolved':
      return null;
    case 'definition':
    case 'reference':
      return symbolHover(analysis, semantics.symbol(o.symbol), o, flowOf);
  }
}

function symbolHover(analysis: Analysis, symbol: SemanticSymbol, o: Occurrence & { definition: TextRange }, flowOf: FlowLookup): string | null {
  const { check, text } = analysis;
  const owner = symbol.owner;
  switch (symbol.kind) {
    case 'layer': {
      const layer = check.layers.find((l) => l.model === owner && l.name === symbol.name);
      return layer ? layerHover(analysis, layer, flowOf(layer.model)) : null;
    }
    case 'param': {
      const layer = check.layers.find((l) => l.model === owner && l.name === symbol.name);
      return layer ? paramHover(analysis, layer, flowOf(layer.model)) : null;
    }
    case 'binding': {
      const binding = check.bindings.find((b) => b.model === owner && b.range.start === o.definition.start);
      return binding ? bindingHover(binding) : null;
    }
    case 'input': {
      const item = check.models.find((m) => m.name === owner) ?? check.fns.find((f) => f.name === owner);
      const input = item?.inputs.find((i) => i.name === symbol.name);
      if (!input) return null;
      // Rebound in the body (`x = f(x)`): the binding this use sees.
      const binding = check.bindings.find((b) => b.model === owner && b.range.start === o.definition.start);
      if (binding) return bindingHover(binding);
      return `${code(`${input.name}: ${input.shape}`)}\n\ninput of ${code(owner ?? '')}`;
    }
    case 'dim':
      return `${code(symbol.name)}: a symbolic dim of ${code(owner ?? '')}, checked once for every size`;
    case 'hyperParam':
      return `${code(symbol.name)}: a hyper-parameter of the block ${code(owner ?? '')}, given where it is instantiated (\`${owner}(...)\`)`;
    case 'gradParam': {
      const fn = check.fns.find((f) => f.name === owner);
      return fn ? upstreamHover(symbol.name, fn) : null;
    }
    case 'model': {
      const model = modelNamed(check, symbol.name);
      if (!model) return null;
      // A block used inline (`x |> Residual(16)`) is a layer of the model it is in.
      const ownerItem = analysis.semantics.items[o.item];
      const inline = ownerItem ? check.layers.find((l) => l.model === ownerItem.name && l.ctor === symbol.name && contains(l.range, o.range.start)) : undefined;
      if (inline) return layerHover(analysis, inline, flowOf(inline.model));
      const signature = `model ${model.name}${model.hyperParams.length ? `[${model.hyperParams.join(', ')}]` : ''}(${model.inputs.map((i) => `${i.name}: ${i.shape}`).join(', ')}) -> ${model.output}`;
      return `${code(signature)}\n\n${formatCount(model.paramCount)} parameters · forward FLOPs ${code(model.flopCount ? formatQuantity(model.flopCount) : '?')}`;
    }
    case 'fn': {
      const fn = fnNamed(check, symbol.name);
      if (!fn) return null;
      const call = check.calls.find((c) => c.calleeRange.start === o.range.start);
      return call ? `${fnHover(fn)}\n\nhere: ${code(`${call.callee}(${call.inShapes.join(', ')}) -> ${call.outShape}`)}` : fnHover(fn);
    }
    case 'const': {
      const item = analysis.semantics.items.find((it) => it.kind === 'const' && it.name === symbol.name);
      if (item) return code(text.slice(item.range.start, item.range.end).replace(/\s+/g, ' '));
      // An imported constant: its line in the file that defines it.
      const at = importedLocation(analysis.check, symbol.definitions[0]);
      return at ? `${code(lineAt(at.file.text, at.range.start))}\n\nfrom ${code(fileName(at.file.path))}` : null;
    }
  }
}

/** The line of `text` at the offset, without its comment (a constant's definition has no strings). */
function lineAt(text: string, offset: number): string {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  const end = text.indexOf('\n', offset);
  return text.slice(start, end < 0 ? text.length : end).replace(/#.*/, '').trim();
}

function contains(range: TextRange, offset: number): boolean {
  return range.start <= offset && offset <= range.end;
}

function code(text: string): string {
  return `\`${text}\``;
}

function entryHover(entry: CatalogueEntry): string {
  const lines = [code(entry.signature), '', entry.summary];
  if (entry.weights) lines.push('', `parameters: ${entry.weights}`);
  if (entry.derivative) lines.push('', `local derivative: ${code(entry.derivative)}`);
  if (entry.gradient) lines.push('', `backward: ${code(entry.gradient)}`);
  const documented = entry.params.filter((p) => p.doc);
  if (documented.length > 0) lines.push('', ...documented.map((p) => `- ${code(p.label)}: ${p.doc}`));
  return lines.join('\n');
}

function callHover(call: CallInfo, entry: CatalogueEntry): string {
  const lines = [code(`${call.callee} : ${call.inShapes.join(', ')} → ${call.outShape}`), '', entry.summary];
  if (entry.derivative) lines.push('', `local derivative ${code(entry.derivative)}`);
  if (entry.gradient) lines.push('', `backward, with ${code(`g : ${call.outShape}`)}: ${code(entry.gradient)}`);
  const tensors = entry.params.filter((p) => p.tensor);
  const grads = call.inputs.map((shape, k) => `${code(`dL/d${tensors[Math.min(k, tensors.length - 1)]?.name ?? 'x'} : ${shapeText(shape)}`)}`);
  if (grads.length > 0) lines.push('', `gradient shapes: ${grads.join(', ')}`);
  lines.push(...internalsLines(call.internals));
  return lines.join('\n');
}

/** A keyword argument: the parameter it names, from the callee's signature. */
function keywordArgHover(analysis: Analysis, name: string, callee: string | null, item: SemanticItem | null): string | null {
  if (callee === null) return null;
  const entry = calleeEntry(callee, item);
  const param = entry?.params.find((p) => p.name === name || p.aliases.includes(name));
  if (entry && param) return `${code(param.label)}: argument of ${code(entry.signature)}${param.doc ? `\n\n${param.doc}` : ''}`;
  const model = modelNamed(analysis.check, callee);
  if (model?.hyperParams.includes(name)) return `${code(name)}: a hyper-parameter of the block ${code(callee)}`;
  return null;
}

function bindingHover(binding: BindingInfo): string {
  const lines = [code(`${binding.name} : ${binding.shape}`)];
  lines.push('', binding.gradShape ? `gradient ${code(`dL/d${binding.name} : ${binding.gradShape}`)}` : `no gradient reaches ${code(binding.name)}`);
  return lines.join('\n');
}

/** `g` of a `grad(g)` block: the upstream gradient, and what the block must return. */
function upstreamHover(name: string, fn: FnSummary): string {
  const lines = [code(`${name} : ${fn.output}`), '', `the upstream gradient ${code(`dL/d(${fn.name}(...))`)}, with the output's shape; the block returns one gradient per input, in order:`];
  fn.inputs.forEach((input) => lines.push(`- ${code(`dL/d${input.name} : ${input.shape}`)}`));
  return lines.join('\n');
}

/** The intermediate values an op keeps for its backward (attention's scores), with their memory. */
function internalsLines(internals: readonly { name: string; shape: Shape }[]): string[] {
  if (internals.length === 0) return [];
  return ['', 'kept for the backward:', ...internals.map((v) => `- ${code(`${v.name} : ${shapeText(v.shape)}`)}, ${code(`${formatQuantity(internalBytes([v]))} bytes`)}`)];
}

/** A layer's input size (`in = 9216`) and the like, as the constructor was called. */
function argsText(layer: LayerInfo): string {
  return Object.entries(layer.args).map(([k, v]) => `${k} = ${v}`).join(', ');
}

function layerHover(analysis: Analysis, layer: LayerInfo, flow: GradientFlow | null): string {
  const lines = [`${code(`${layer.name} = ${layer.ctor}(${argsText(layer)})`)} in ${code(layer.model)}`, ''];
  lines.push(`forward ${code(shapeText(layer.input))} → ${code(shapeText(layer.output))} · FLOPs ${code(layer.flopCount ? formatQuantity(layer.flopCount) : '?')}`);
  lines.push('', `${formatCount(layer.paramCount)} parameters:`);
  for (const param of layer.params) lines.push(`- ${code(`${param.name} : ${formatDims(param.shape)}`)}`);
  lines.push('', `backward, with ${code(`g = dL/dy : ${shapeText(layer.output)}`)}:`);
  lines.push(...layerBackward(analysis, layer).map((line) => `- ${line}`));
  lines.push(...internalsLines(layer.internals));
  if (layer.internals.length > 0) lines.push('', `activation memory ${code(`${layer.activationBytes} bytes`)} (the output and the values above)`);
  if (layer.frozen) lines.push('', `frozen by the \`train\` block's \`freeze\`: no gradient, no update`);
  else if (!layer.receivesGradient) lines.push('', `⚠ no gradient reaches ${code(layer.name)}`);
  const stats = flow ? layerStats(flow, layer.name) : null;
  if (flow && stats) lines.push('', ...statsLines(flow, stats));
  return lines.join('\n');
}

/** The op's gradient in the field's words, and the shape of every gradient the layer gets. */
function layerBackward(analysis: Analysis, layer: LayerInfo): string[] {
  const def = layerDef(layer.ctor);
  const shapes = [`${code(`dL/dx : ${shapeText(layer.input)}`)}`, ...layer.params.map((p) => code(`dL/d${p.name} : ${formatDims(p.shape)}`))];
  if (def) return [code(def.op.doc.gradient), `gradient shapes: ${shapes.join(', ')}`];
  const block = modelNamed(analysis.check, layer.ctor);
  return [`back through the body of ${code(block?.name ?? layer.ctor)}`, `gradient shapes: ${shapes.join(', ')}`];
}

/** A raw `W = param([dims])`: its shape, init and gradient. */
function paramHover(analysis: Analysis, layer: LayerInfo, flow: GradientFlow | null): string {
  const shape = layer.params[0] ? formatDims(layer.params[0].shape) : '?';
  const info = analysis.check.irs.get(layer.model)?.params.find((p) => p.name === layer.name);
  const init = info?.init.kind ?? null;
  const lines = [code(`${layer.name} : ${shape}`), '', `a trainable parameter of ${code(layer.model)} (\`param\`), in the state_dict as ${code(layer.name)}`];
  if (init) lines.push('', `init ${code(init)}${init in PARAM_INITS ? `: ${PARAM_INITS[init as keyof typeof PARAM_INITS]}` : ''}`);
  lines.push('', layer.receivesGradient ? `gradient ${code(`dL/d${layer.name} : ${shape}`)}, accumulated from every use` : `⚠ no gradient reaches ${code(layer.name)}`);
  const stats = flow ? layerStats(flow, layer.name) : null;
  if (flow && stats) lines.push('', ...statsLines(flow, stats));
  return lines.join('\n');
}

/** An operator's application: operand and result shapes, the gradient, and the sums broadcasting adds to it. */
function operatorHover(analysis: Analysis, call: CallInfo): string {
  const def = opDef(call.callee)!;
  const { text } = analysis;
  const symbol = text.slice(call.calleeRange.start, call.calleeRange.end);
  if (def.notation?.kind === 'subscript') return subscriptHover(call, symbol, def.doc);
  const matrices = def.notation?.kind === 'infix' && def.notation.operands === 'matrices';
  const operands = [text.slice(call.range.start, call.calleeRange.start).trim(), text.slice(call.calleeRange.end, call.range.end).trim()];
  const [a, b] = call.inputs;
  const lines = [code(`${shapeText(a)} ${symbol} ${shapeText(b)} → ${shapeText(call.output)}`), '', `${code(symbol)}: ${def.doc.summary}`];
  lines.push('', `backward, with ${code(`g : ${shapeText(call.output)}`)}: ${code(def.doc.gradient)}`);
  call.inputs.forEach((shape, k) => {
    const label = k === 0 ? 'a' : 'b';
    const operand = operands[k] ?? label;
    if (shape === null || call.output === null) return;
    if (shape.length === 0 && /^[\d.]+(e[-+]?\d+)?$/i.test(operand)) {
      lines.push(`- ${code(label)} = ${code(operand)}: a number, no gradient`);
      return;
    }
    const reduced = matrices ? matrixProductReduction(shape, call.output) : broadcastAxes(shape, call.output);
    const sum = reduced.length > 0 ? `, ${sumOver(reduced).trim()} over the axes \`${operand}\` was broadcast along` : '';
    lines.push(`- ${code(`dL/d${label} : ${shapeText(shape)}`)} for ${code(operand)}${sum}`);
  });
  return lines.join('\n');
}

/** A subscript `x[:, -1]`: the shape it takes and gives, and its gradient. */
function subscriptHover(call: CallInfo, items: string, doc: { summary: string; gradient: string }): string {
  const [input] = call.inputs;
  return [
    code(`${shapeText(input)}${items} → ${shapeText(call.output)}`),
    '',
    doc.summary,
    '',
    `backward, with ${code(`g : ${shapeText(call.output)}`)}: ${code(doc.gradient)}, shaped ${code(shapeText(input))}`,
  ].join('\n');
}

/** The output axes an operand was broadcast along (missing in front, or of size 1): its gradient sums over them. */
function broadcastAxes(operand: Shape, output: Shape): Dim[] {
  const lead = output.length - operand.length;
  const out: Dim[] = [];
  for (let i = 0; i < output.length; i++) {
    if (i < lead || (operand[i - lead].equals(1) && !output[i].equals(1))) out.push(output[i]);
  }
  return out;
}

/** A matrix product operand's broadcast batch dims: the output's leading dims it lacks or has as 1. */
function matrixProductReduction(operand: Shape, output: Shape): Dim[] {
  if (operand.length < 2 || output.length < 2) return [];
  return broadcastAxes(operand.slice(0, -2), output.slice(0, -2));
}

export function flowLabel(flow: GradientFlow): string {
  if (flow.source === 'init') return flow.inputs === 'random' ? 'at init, random inputs' : 'at init';
  return flow.source === 'probe' ? 'probe' : `run, step ${flow.step}`;
}

function statsLines(flow: GradientFlow, layer: LayerFlow): string[] {
  const run = flow.source === 'run';
  const lines = [`**gradients (${flowLabel(flow)})**`, '', '| parameter | ‖∇‖ | max \\|∇\\| | mean \\|∇\\| | zeros | update/weight |', '| --- | --- | --- | --- | --- | --- |'];
  const row = (name: string, s: { gradNorm: number; gradMax: number; gradMeanAbs: number; zeroFraction: number; updateRatio: number }) =>
    `| ${name} | ${formatStat(s.gradNorm)} | ${formatStat(s.gradMax)} | ${formatStat(s.gradMeanAbs)} | ${formatPercent(s.zeroFraction)} | ${run ? formatStat(s.updateRatio) : '—'} |`;
  for (const p of layer.params) lines.push(row(code(p.name), p));
  if (layer.params.length > 1) lines.push(row(`**${layer.stats.layer}**`, layer.stats));
  if (layer.history.length > 1) {
    const first = layer.history[0];
    const last = layer.history[layer.history.length - 1];
    lines.push('', `trend ${sparkline(layer.history)} ‖∇‖ ${formatStat(first)} → ${formatStat(last)} over ${layer.history.length} steps`);
  }
  return lines;
}

function fnHover(fn: FnSummary): string {
  const signature = `fn ${fn.name}(${fn.inputs.map((i) => `${i.name}: ${i.shape}`).join(', ')}) -> ${fn.output}`;
  const lines = [code(signature)];
  if (fn.hasGrad) {
    lines.push('', `custom ${code('grad(g)')} with ${code(`g : ${fn.output}`)} returns:`);
    fn.inputs.forEach((input, i) => lines.push(`- ${code(`dL/d${input.name} : ${fn.gradShapes[i] ?? '?'}`)}`));
  } else {
    lines.push('', 'gradient derived from the built-ins\' rules');
  }
  return lines.join('\n');
}
