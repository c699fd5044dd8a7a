// Hover text for a position: a layer's forward and backward pass with shapes and its
// gradient statistics, a call's local derivative, a binding's value and gradient shapes,
// a model's or fn's signature, or a built-in's documentation. Markdown, plain strings.

import type { BindingInfo, CallInfo, FnSummary, LayerInfo, TextRange } from '../../../engine/src/lang/api.js';
import type { Analysis } from './analysis.js';
import { builtin, signatureOf, trainKey } from './builtins.js';
import { dimsOf, formatCount, formatDims, formatPercent, formatStat, sparkline, sumOver } from './format.js';
import { definitionOf, occurrenceAt, type Occurrence } from './names.js';
import type { GradientFlow, LayerGradient } from './runResults.js';

export interface Hover {
  markdown: string;
  range: TextRange;
}

/** The gradient flow to show for a model (a run, a probe or the init-time pass), if any. */
export type FlowLookup = (model: string) => GradientFlow | null;

export function hover(analysis: Analysis, offset: number, flowOf: FlowLookup): Hover | null {
  const { check, names } = analysis;
  const o = occurrenceAt(names, offset);
  const modelName = o && o.item >= 0 ? names.items[o.item].name : null;

  const layer = o ? layerOf(analysis, o) : null;
  if (layer && o) return { markdown: layerHover(layer, flowOf(layer.model)), range: o.range };

  const call = check.calls.find((c) => contains(c.calleeRange, offset));
  if (call) return { markdown: callHover(call, check.fns.find((f) => f.name === call.callee)), range: call.calleeRange };

  if (!o) return null;
  if (o.role === 'item') {
    const model = check.models.find((m) => m.name === o.name);
    if (model) {
      const signature = `model ${model.name}${model.hyperParams.length ? `[${model.hyperParams.join(', ')}]` : ''}(${model.inputs.map((i) => `${i.name}: ${i.shape}`).join(', ')}) -> ${model.output}`;
      return { markdown: `${code(signature)}\n\n${formatCount(model.paramCount)} parameters · forward FLOPs ${code(model.flops)}`, range: o.range };
    }
    const fn = check.fns.find((f) => f.name === o.name);
    if (fn) return { markdown: fnHover(fn), range: o.range };
  }
  const binding = bindingOf(analysis, o);
  if (binding) return { markdown: bindingHover(analysis, binding, modelName), range: o.range };
  if (o.role === 'input' || o.role === 'reference') {
    const model = check.models.find((m) => m.name === modelName) ?? check.fns.find((f) => f.name === modelName);
    const input = model?.inputs.find((i) => i.name === o.name);
    if (input) return { markdown: `${code(`${input.name}: ${input.shape}`)}\n\ninput of ${code(modelName ?? '')}`, range: o.range };
  }
  const local = definitionOf(names, o);
  const localRole = local && o.item >= 0 ? names.occurrences.find((d) => d.range.start === local.start)?.role : undefined;
  if (localRole === 'dim') {
    return { markdown: `${code(o.name)}: a symbolic dim of ${code(modelName ?? '')}, checked once for every size`, range: o.range };
  }
  if (localRole === 'hyperParam') {
    return { markdown: `${code(o.name)}: a hyper-parameter of the block ${code(modelName ?? '')}, given where it is instantiated`, range: o.range };
  }
  if (o.role === 'trainKey') {
    const key = trainKey(o.name);
    if (key) return { markdown: `${code(`${key.name} = …`)} (train key)\n\n${key.doc}`, range: o.range };
  }
  const b = builtin(o.name);
  if (b && definitionOf(names, o) === null) {
    const lines = [code(signatureOf(b)), '', b.doc];
    if (b.localDerivative) lines.push('', `local derivative: ${code(b.localDerivative)}`);
    if (b.backward) lines.push('', `backward: ${code(b.backward)}`);
    return { markdown: lines.join('\n'), range: o.range };
  }
  return null;
}

function contains(range: TextRange, offset: number): boolean {
  return range.start <= offset && offset <= range.end;
}

function code(text: string): string {
  return `\`${text}\``;
}

/** The layer a name occurrence denotes: its declaration, a call of it, or an inline constructor. */
function layerOf(analysis: Analysis, o: Occurrence): LayerInfo | null {
  const { check, names } = analysis;
  if (o.item < 0) return null;
  const model = names.items[o.item].name;
  if (definitionOf(names, o)) return check.layers.find((l) => l.model === model && l.name === o.name) ?? null;
  // An inline constructor: `Linear(2, 16)(x)` or `x |> Linear(2, 16)`.
  return check.layers.find((l) => l.model === model && l.ctor === o.name && contains(l.range, o.range.start)) ?? null;
}

function bindingOf(analysis: Analysis, o: Occurrence): BindingInfo | null {
  const definition = definitionOf(analysis.names, o);
  if (!definition || o.item < 0) return null;
  const model = analysis.names.items[o.item].name;
  return analysis.check.bindings.find((b) => b.model === model && b.range.start === definition.start) ?? null;
}

function bindingHover(analysis: Analysis, binding: BindingInfo, model: string | null): string {
  const lines = [code(`${binding.name} : ${binding.shape}`)];
  lines.push('', binding.gradShape ? `gradient ${code(`dL/d${binding.name} : ${binding.gradShape}`)}` : `no gradient reaches ${code(binding.name)}`);
  const param = model ? analysis.check.irs.get(model)?.params.find((p) => p.name === binding.name) : undefined;
  if (param) lines.push('', `parameter ${code(`${param.name} : ${formatDims(param.shape)}`)}, init ${code(param.init.kind)}`);
  return lines.join('\n');
}

/** The backward pass of a layer in the field's words, with the gradient shapes. */
export function layerBackward(layer: LayerInfo): string[] {
  const inShape = layer.inShape ?? '[?]';
  const inDims = dimsOf(inShape);
  const shapeOfParam = (suffix: string) => {
    const param = layer.params.find((p) => p.name.endsWith(`.${suffix}`));
    return param ? formatDims(param.shape) : null;
  };
  const weight = shapeOfParam('weight');
  const bias = shapeOfParam('bias');
  switch (layer.ctor) {
    case 'Linear': {
      const batch = sumOver(inDims.slice(0, -1));
      return [
        `dL/dx = g · W : ${inShape}`,
        ...(weight ? [`dL/dW = ${batch}gᵀ · x : ${weight}`] : []),
        ...(bias ? [`dL/db = ${batch}g : ${bias}`] : []),
      ];
    }
    case 'Conv2d':
      return [
        `dL/dx = conv_transpose2d(g, W) : ${inShape}`,
        ...(weight ? [`dL/dW = ${sumOver(inDims.slice(0, 1))}x ⋆ g : ${weight}`] : []),
        ...(bias ? [`dL/db = ${sumOver([inDims[0] ?? 'B', 'H', 'W'])}g : ${bias}`] : []),
      ];
    case 'BatchNorm1d':
    case 'BatchNorm2d':
    case 'LayerNorm':
      return [
        `dL/dx = (γ/σ) ⊙ (g − mean(g) − x̂ ⊙ mean(g ⊙ x̂)) : ${inShape}`,
        ...(weight ? [`dL/dγ = Σ g ⊙ x̂ : ${weight}`] : []),
        ...(bias ? [`dL/dβ = Σ g : ${bias}`] : []),
      ];
    case 'Embedding':
      return [...(weight ? [`dL/dW = rows of g added at the token ids : ${weight}`] : []), 'no gradient into the int token ids'];
    default:
      return [`dL/dx : ${inShape}, back through the body of ${layer.ctor}`];
  }
}

function layerHover(layer: LayerInfo, flow: GradientFlow | null): string {
  const args = Object.entries(layer.args).map(([k, v]) => `${k} = ${v}`).join(', ');
  const lines = [`${code(`${layer.name} = ${layer.ctor}(${args})`)} in ${code(layer.model)}`, ''];
  lines.push(`forward ${code(layer.inShape ?? '?')} → ${code(layer.outShape ?? '?')} · FLOPs ${code(layer.flops)}`);
  lines.push('', `${formatCount(layer.paramCount)} parameters:`);
  for (const param of layer.params) lines.push(`- ${code(`${param.name} : ${formatDims(param.shape)}`)}`);
  lines.push('', `backward, with ${code(`g = dL/dy : ${layer.outShape ?? '?'}`)}:`);
  for (const line of layerBackward(layer)) lines.push(`- ${code(line)}`);
  if (!layer.receivesGradient) lines.push('', `⚠ no gradient reaches ${code(layer.name)}`);
  const stats = flow ? layerStats(flow, layer.name) : null;
  if (flow && stats) lines.push('', ...statsLines(flow, stats));
  return lines.join('\n');
}

/** A layer's statistics; a block instance (`res1`) aggregates its inner layers (`res1.conv1`). */
export function layerStats(flow: GradientFlow, layer: string): LayerGradient | null {
  const own = flow.layers.get(layer);
  if (own) return own;
  const inner = [...flow.layers.values()].filter((l) => l.layer.startsWith(`${layer}.`));
  if (inner.length === 0) return null;
  return {
    layer,
    gradNorm: Math.sqrt(inner.reduce((s, l) => s + l.gradNorm ** 2, 0)),
    gradMax: Math.max(...inner.map((l) => l.gradMax)),
    zeroFraction: inner.reduce((s, l) => s + l.zeroFraction, 0) / inner.length,
    updateRatio: Math.max(...inner.map((l) => l.updateRatio)),
    params: inner.flatMap((l) => l.params),
    history: [],
  };
}

export function flowLabel(flow: GradientFlow): string {
  if (flow.source === 'init') return flow.inputs === 'random' ? 'at init, random inputs' : 'at init';
  return flow.source === 'probe' ? 'probe' : `run, step ${flow.step}`;
}

function statsLines(flow: GradientFlow, stats: LayerGradient): string[] {
  const lines = [`**gradients (${flowLabel(flow)})**`, '', '| parameter | ‖∇‖ | max \\|∇\\| | zeros | update/weight |', '| --- | --- | --- | --- | --- |'];
  for (const p of stats.params) {
    lines.push(`| ${code(p.name)} | ${formatStat(p.gradNorm)} | ${formatStat(p.gradMax)} | ${formatPercent(p.zeroFraction)} | ${flow.source === 'run' ? formatStat(p.updateRatio) : '—'} |`);
  }
  if (stats.history.length > 1) {
    const first = stats.history[0];
    const last = stats.history[stats.history.length - 1];
    lines.push('', `trend ${sparkline(stats.history)} ‖∇‖ ${formatStat(first)} → ${formatStat(last)} over ${stats.history.length} steps`);
  }
  return lines;
}

function callHover(call: CallInfo, fn: FnSummary | undefined): string {
  if (fn) {
    const lines = [fnHover(fn), '', `here: ${code(`${call.callee}(${call.inShapes.join(', ')}) -> ${call.outShape}`)}`];
    return lines.join('\n');
  }
  const b = builtin(call.callee);
  const lines = [code(`${call.callee} : ${call.inShapes.join(', ')} → ${call.outShape}`)];
  if (b) lines.push('', b.doc);
  if (b?.localDerivative) lines.push('', `local derivative ${code(b.localDerivative)}`);
  if (b?.backward) lines.push('', `backward ${code(`${b.backward} : ${call.inShapes[0] ?? call.outShape}`)}`);
  return lines.join('\n');
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
