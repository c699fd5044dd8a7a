// The backward pass, checked (LANGUAGE.md §7 and §8): a `grad` block's gradients against its
// fn's inputs (NN3001, NN3002), which values receive a gradient, parameters cut off from the
// output (NN3101), softmax before cross_entropy (NN3102), stacked linear layers (NN3103) and
// chains of saturating activations (NN3104).

import { formatShape, shapesEqual, type Shape } from '../shape/dim.js';
import { opDef } from '../ops/registry.js';
import type { Diagnostic, Graph, IrNode, TextEdit, TextRange, ValueId } from './api.js';
import { makeDiagnostic } from './diagnostics.js';
import { gradientSumFix } from './fixes.js';
import type { BodyResult, Frame, ShapeChecker, Signature } from './shapes.js';
import type { FnItem, Stmt } from './syntax.js';
import type { LayerInstance, TensorValue } from './values.js';
import { patternShape } from '../shape/binding.js';

const VANISHING_THRESHOLD = 1e-3;

/** A `grad` block's checked body: its gradients (one per input, in order) and their shapes. */
export type GradBlockResult = BodyResult & { gradOutputs: ValueId[]; gradShapes: (Shape | null)[] };

/**
 * Checks the `grad(g)` block of `fn` in frame `g`: the block reads the fn's inputs and the
 * upstream gradient (the output's shape) and must return one gradient per input, each of
 * exactly its input's shape (NN3001, NN3002 with the fix that sums over broadcast axes,
 * unless the signature's variadic groups were written out with a rank of the checker's choosing).
 */
export function checkGradBlock(checker: ShapeChecker, fn: FnItem, signature: Signature, inputs: readonly TensorValue[], g: Frame, offerFixes: boolean): GradBlockResult {
  const grad = fn.grad!;
  checker.bindInputs(signature, g);
  // g has the output's shape (unknown when the output is not declared).
  const upstream = signature.output ? patternShape(signature.output) : null;
  const upstreamId = g.graph.addValue(upstream, 'float32', grad.upstream.range, grad.upstream.name);
  g.graph.inputs.push(upstreamId);
  g.scope.set(grad.upstream.name, { kind: 'tensor', id: upstreamId, shape: upstream, dtype: 'float32' });
  const body = checker.evalGradBody(grad.body.stmts, g);
  const gradOutputs: ValueId[] = [];
  const gradShapes: (Shape | null)[] = [];
  const returnStmt = grad.body.stmts.find((s): s is Stmt & { kind: 'return' } => s.kind === 'return');
  if (body.returned === null || returnStmt === undefined) {
    checker.report(g, 'NN2006', grad.upstream.range, [`grad of ${fn.name.name}`]);
    return { ...body, gradOutputs, gradShapes };
  }
  if (body.returned.length !== inputs.length) {
    checker.report(g, 'NN3001', returnStmt.range, [fn.name.name, body.returned.length, inputs.length], {
      related: [{ range: fn.name.range, message: `\`${fn.name.name}\` takes ${inputs.length} input(s): ${fn.inputs.map((i) => i.name.name).join(', ')}` }],
    });
  }
  body.returned.forEach((value, k) => {
    const expr = returnStmt.values[k];
    const tensor = checker.asTensor(value, g, expr.range);
    gradShapes.push(tensor?.shape ?? null);
    if (tensor) gradOutputs.push(tensor.id);
    const input = inputs[k];
    if (!tensor || !input || tensor.shape === null || input.shape === null || shapesEqual(tensor.shape, input.shape)) return;
    const name = fn.inputs[k].name.name;
    const fix = offerFixes ? gradientSumFix(checker.ctx.text, expr, tensor.shape, input.shape) : null;
    checker.report(g, 'NN3002', expr.range, [name, formatShape(tensor.shape), formatShape(input.shape), fix ? `; sum over the broadcast axes: ${fix.newText}` : ''], {
      related: [{ range: fn.inputs[k].range, message: `\`${name}\` is declared with shape ${formatShape(input.shape)} here` }],
      fixes: fix ? [{ title: `Sum the gradient to \`${name}\`'s shape: ${fix.newText}`, edits: [fix] }] : [],
    });
  });
  return { ...body, gradOutputs, gradShapes };
}

/** The inputs of a node that a gradient flows into (not int ids, labels, buffers, or through `detach`). */
function differentiableInputs(node: IrNode): ValueId[] {
  if (node.op === 'call_fn' || node.op === 'unknown') return node.inputs;
  const chosen = opDef(node.op)?.gradInputs?.(node.inputs.length);
  return chosen ? chosen.map((k) => node.inputs[k]).filter((v) => v !== undefined) : node.inputs;
}

/** Which values a gradient reaches, as a flag per ValueId (values are numbered densely). */
export class GradientReach {
  constructor(private readonly flags: Uint8Array) {}

  has(value: ValueId): boolean {
    return this.flags[value] === 1;
  }
}

/**
 * Values with a gradient path from the graph's output: those for which dL/dvalue exists.
 * After an error the value is unknown and fits anything: an error value on the path (one that
 * lost its edges, `errorValues`) may stand for any value computed before it and left unused there,
 * so those count as reached too (a layer is not blamed for the error's cut; `detach` still cuts).
 */
export function gradientReach(graph: Graph, errorValues: readonly ValueId[] = []): GradientReach {
  const reached = new Uint8Array(graph.values.length);
  if (graph.output < 0 || graph.values[graph.output]?.dtype !== 'float32') return new GradientReach(reached);
  reached[graph.output] = 1;
  sweep(graph, reached);
  let latest = -1;
  for (const v of errorValues) if (reached[v] === 1 && v > latest) latest = v;
  if (latest < 0) return new GradientReach(reached);
  const used = new Uint8Array(graph.values.length);
  for (const node of graph.nodes) for (const input of node.inputs) used[input] = 1;
  for (const node of graph.nodes) for (const o of node.outputs) if (o < latest && used[o] === 0 && graph.values[o].dtype === 'float32') reached[o] = 1;
  sweep(graph, reached);
  return new GradientReach(reached);
}

/** Marks, from the last node back, the inputs a gradient flows into from a reached output. */
function sweep(graph: Graph, reached: Uint8Array): void {
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const node = graph.nodes[k];
    let reachesOutput = false;
    for (const o of node.outputs) if (reached[o] === 1) reachesOutput = true;
    if (!reachesOutput) continue;
    for (const input of differentiableInputs(node)) if (graph.values[input]?.dtype === 'float32') reached[input] = 1;
  }
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

/** A one-input built-in call as the checker met it: the range removing it replaces, and the input's text to keep there (none in a pipe). */
export interface CallRemoval {
  node: IrNode;
  range: TextRange;
  keep: TextRange | null;
}

function softmaxWarning(node: IrNode, removals: readonly CallRemoval[], text: string): Diagnostic {
  const removal = removals.find((r) => r.node === node);
  const edit: TextEdit | undefined = removal && { range: removal.range, newText: removal.keep ? text.slice(removal.keep.start, removal.keep.end) : '' };
  return makeDiagnostic('NN3102', node.range, [node.op], {
    fixes: edit ? [{ title: `Remove \`${node.op}\`: cross_entropy takes logits`, edits: [edit] }] : [],
  });
}

/**
 * NN3102: a softmax/log_softmax output fed to cross_entropy — the model's output when it
 * is trained with cross_entropy, or a cross_entropy call in the body.
 */
export function softmaxBeforeCrossEntropy(graph: Graph, byValue: readonly (IrNode | undefined)[], trainedWithCrossEntropy: boolean, removals: readonly CallRemoval[], text: string): Diagnostic[] {
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
  return [...found].map((node) => softmaxWarning(node, removals, text));
}

/** NN3103: a Linear/Conv2d applied to another's output with only reshaping between them. */
export function stackedLinearLayers(graph: Graph, byValue: readonly (IrNode | undefined)[], inlined: Set<IrNode>): Diagnostic[] {
  const out: Diagnostic[] = [];
  const linearity = (node: IrNode | undefined) => (node === undefined ? undefined : opDef(node.op)?.linearity);
  for (const node of graph.nodes) {
    if (linearity(node) !== 'linear-map' || inlined.has(node)) continue;
    let previous = byValue[node.inputs[0]];
    while (previous && linearity(previous) === 'shape-only') previous = byValue[previous.inputs[0]];
    if (previous && linearity(previous) === 'linear-map') out.push(makeDiagnostic('NN3103', node.range, [node.layer ?? node.op, previous.layer ?? previous.op]));
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
    const activation = opDef(node.op)?.activation;
    const factor = activation?.kind === 'saturating' ? activation.bound : undefined;
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
