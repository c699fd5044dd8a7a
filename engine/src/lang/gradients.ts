// The backward-pass analysis (LANGUAGE.md §8) over a checked graph: which values receive a
// gradient, parameters cut off from the output (NN3101), softmax before cross_entropy
// (NN3102), stacked linear layers (NN3103) and chains of saturating activations (NN3104).

import type { Diagnostic, Graph, IrNode, TextEdit, ValueId } from './api.js';
import { LINEAR_LAYER_OPS, SHAPE_ONLY_OPS } from './builtins.js';
import { makeDiagnostic } from './diagnostics.js';
import type { LayerInstance } from './values.js';

/** Worst-case gradient factor of one activation: the maximum of its derivative. */
const SATURATION_FACTOR: Readonly<Record<string, number>> = { sigmoid: 0.25, tanh: 1 };
const VANISHING_THRESHOLD = 1e-3;

/** The inputs of a node that a gradient flows into (not int ids, labels, buffers, or through `detach`). */
function differentiableInputs(node: IrNode): ValueId[] {
  switch (node.op) {
    case 'detach':
      return [];
    case 'embedding':
      return node.inputs.slice(1);
    case 'cross_entropy':
      return node.inputs.slice(0, 1);
    case 'batch_norm2d':
    case 'batch_norm1d':
      return node.inputs.slice(0, 3);
    default:
      return node.inputs;
  }
}

/** Which values a gradient reaches, as a flag per ValueId (values are numbered densely). */
export class GradientReach {
  constructor(private readonly flags: Uint8Array) {}

  has(value: ValueId): boolean {
    return this.flags[value] === 1;
  }
}

/** Values with a gradient path from the graph's output: those for which dL/dvalue exists. */
export function gradientReach(graph: Graph): GradientReach {
  const reached = new Uint8Array(graph.values.length);
  if (graph.output < 0 || graph.values[graph.output]?.dtype !== 'float32') return new GradientReach(reached);
  reached[graph.output] = 1;
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const node = graph.nodes[k];
    let reachesOutput = false;
    for (const o of node.outputs) if (reached[o] === 1) reachesOutput = true;
    if (!reachesOutput) continue;
    for (const input of differentiableInputs(node)) if (graph.values[input]?.dtype === 'float32') reached[input] = 1;
  }
  return new GradientReach(reached);
}

/** NN3101 for each layer or raw parameter of a body whose parameters receive no gradient. */
export function unreachedParameters(layers: readonly LayerInstance[], reached: GradientReach): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const layer of layers) {
    if (layer.params.length === 0 || layer.params.some((p) => reached.has(p.value))) continue;
    const kind = layer.ctor === 'param' ? 'parameter' : 'layer';
    const reason = layer.ctor === 'param' ? (layer.applied ? 'it does not reach the output' : 'it is never used on the way to the output') : layer.callRanges.length === 0 ? 'it is never applied' : "its output never reaches the model's output (unused, or cut off by `detach`)";
    out.push(makeDiagnostic('NN3101', layer.declarationRange, [kind, layer.localName, reason]));
  }
  return out;
}

/** The node producing each value, indexed by ValueId (inputs and parameters have none). */
export function producers(graph: Graph): (IrNode | undefined)[] {
  const byValue = new Array<IrNode | undefined>(graph.values.length);
  for (const node of graph.nodes) for (const out of node.outputs) byValue[out] = node;
  return byValue;
}

function softmaxWarning(node: IrNode, removals: Map<IrNode, TextEdit>): Diagnostic {
  const edit = removals.get(node);
  return makeDiagnostic('NN3102', node.range, [node.op], {
    fixes: edit ? [{ title: `Remove \`${node.op}\`: cross_entropy takes logits`, edits: [edit] }] : [],
  });
}

/**
 * NN3102: a softmax/log_softmax output fed to cross_entropy — the model's output when it
 * is trained with cross_entropy, or a cross_entropy call in the body.
 */
export function softmaxBeforeCrossEntropy(graph: Graph, byValue: readonly (IrNode | undefined)[], trainedWithCrossEntropy: boolean, removals: Map<IrNode, TextEdit>): Diagnostic[] {
  const found = new Set<IrNode>();
  const isSoftmax = (node: IrNode | undefined): node is IrNode => node !== undefined && (node.op === 'softmax' || node.op === 'log_softmax');
  if (trainedWithCrossEntropy && graph.output >= 0) {
    const last = byValue[graph.output];
    if (isSoftmax(last)) found.add(last);
  }
  for (const node of graph.nodes) {
    if (node.op !== 'cross_entropy') continue;
    const logits = byValue[node.inputs[0]];
    if (isSoftmax(logits)) found.add(logits);
  }
  return [...found].map((node) => softmaxWarning(node, removals));
}

/** NN3103: a Linear/Conv2d applied to another's output with only reshaping between them. */
export function stackedLinearLayers(graph: Graph, byValue: readonly (IrNode | undefined)[], inlined: Set<IrNode>): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const node of graph.nodes) {
    if (!LINEAR_LAYER_OPS.has(node.op) || inlined.has(node)) continue;
    let previous = byValue[node.inputs[0]];
    while (previous && SHAPE_ONLY_OPS.has(previous.op)) previous = byValue[previous.inputs[0]];
    if (previous && LINEAR_LAYER_OPS.has(previous.op)) out.push(makeDiagnostic('NN3103', node.range, [node.layer ?? node.op, previous.layer ?? previous.op]));
  }
  return out;
}

/** A chain of saturating activations ending at a value: their count and worst-case gradient factor. */
interface SaturatingChain {
  readonly count: number;
  readonly factor: number;
}

const NO_CHAIN: SaturatingChain = { count: 0, factor: 1 };

/** NN3104: the first activation where a chain's worst-case gradient factor drops below 1e-3. */
export function saturatingChains(graph: Graph, inlined: Set<IrNode>): Diagnostic[] {
  const chain = new Array<SaturatingChain | undefined>(graph.values.length);
  for (const node of graph.nodes) {
    let best = NO_CHAIN;
    for (const input of node.inputs) {
      const c = chain[input];
      if (c && c.factor < best.factor) best = c;
      else if (c && c.factor === best.factor && c.count > best.count) best = c;
    }
    const factor = SATURATION_FACTOR[node.op];
    if (factor !== undefined) {
      best = { count: best.count + 1, factor: best.factor * factor };
      if (best.factor < VANISHING_THRESHOLD && best.factor * (1 / factor) >= VANISHING_THRESHOLD && !inlined.has(node)) {
        return [makeDiagnostic('NN3104', node.range, [best.count, best.factor.toPrecision(2)])];
      }
    }
    for (const out of node.outputs) chain[out] = best;
  }
  return [];
}
