// Lowering: the checked IR (api.ts's ModelIR and FnIR) becomes an executable model over the
// TS engine's ops. Parameters are created by their InitSpec with the run's seeded Rng and
// named like a PyTorch state_dict; a `fn` with a `grad` block becomes a custom autograd op
// whose backward evaluates the grad block's graph (like torch.autograd.Function); a
// checkpointed span runs through autograd/checkpoint.ts.

import type { FnIR, Graph, IrNode, ModelIR, NodeSpan, ParamInfo, ValueId } from '../lang/api.js';
import type { Shape } from '../shape/dim.js';
import { DimBinding, patternOf } from '../shape/binding.js';
import { opDef } from '../ops/registry.js';
import { constantShape, resolveAttrs, sizeOf } from '../ops/shape-rule.js';
import { Tensor, full } from '../tensor/tensor.js';
import { record, noGrad } from '../autograd/tape.js';
import { checkpoint } from '../autograd/checkpoint.js';
import { spanInputs } from '../lang/checkpoints.js';
import { Rng } from '../random.js';
import type { TsMode } from '../ops/def.js';
import { initTensor } from '../nn/init.js';
import { activationStats, hasNonFinite } from '../core/stats.js';
import type { ActivationStats } from '../core/events.js';

export interface LoweredParam {
  name: string;
  layer: string;
  tensor: Tensor;
  info: ParamInfo;
}

/** How one forward pass runs. */
export interface ForwardMode extends TsMode {
  /** When given, statistics of every activation op are appended here. */
  activations?: ActivationStats[];
  /** Check each op's output for NaN/Inf and throw NonFiniteError at the first. */
  detectNonFinite: boolean;
}

/** The first op whose output held a NaN or Inf, for NN5004. */
export class NonFiniteError extends Error {
  constructor(readonly node: IrNode, readonly where: string) {
    super(`NaN or Inf in the output of ${where}`);
  }
}

/** An IR op the TS back end cannot run (a front-end/back-end mismatch, not a user error). */
export class LoweringError extends Error {}

export interface LoweredModel {
  name: string;
  params: LoweredParam[];
  buffers: { name: string; tensor: Tensor }[];
  /** The model's output for its data inputs, recorded on the tape when params require grad. */
  forward(inputs: readonly Tensor[], mode: ForwardMode): Tensor;
}

/** Creates the parameters (in declaration order, one seeded stream) and buffers of a model. */
export function lowerModel(
  ir: ModelIR,
  fns: ReadonlyMap<string, FnIR>,
  seed: number,
  lineOf: (offset: number) => number,
  dtype: 'float32' | 'float64' = 'float32',
): LoweredModel {
  const rng = new Rng(seed);
  const graph = ir.graph;
  const params = graph.params.map(({ param }) => ({
    name: param.name,
    layer: param.layer,
    tensor: initTensor(param.init, param.shape, rng, dtype).requireGrad(),
    info: param,
  }));
  const buffers = graph.buffers.map(({ buffer }) => ({ name: buffer.name, tensor: full(buffer.shape, buffer.init === 'ones' ? 1 : 0, dtype) }));
  return {
    name: ir.name,
    params,
    buffers,
    forward(inputs, mode) {
      const env = new Map<ValueId, Tensor>();
      graph.params.forEach(({ value }, i) => env.set(value, params[i].tensor));
      graph.buffers.forEach(({ value }, i) => env.set(value, buffers[i].tensor));
      const context: GraphContext = { fns, mode, lineOf };
      return evaluateGraph(graph, inputs, env, context)[0];
    },
  };
}

export interface GraphContext {
  fns: ReadonlyMap<string, FnIR>;
  mode: ForwardMode;
  lineOf: (offset: number) => number;
}

const labelCache = new WeakMap<Graph, { lineOf: (offset: number) => number; labels: Map<IrNode, string> }>();

/**
 * How each op of a graph is named in statistics and findings: its layer (`fc1`) or its op
 * and `.nn` line (`relu (line 12)`); an op at a line used several times (two on one line, a
 * block instantiated twice) gets `#1`, `#2`... in execution order (`relu (line 12, #2)`).
 */
export function nodeLabels(graph: Graph, lineOf: (offset: number) => number): Map<IrNode, string> {
  const cached = labelCache.get(graph);
  if (cached && cached.lineOf === lineOf) return cached.labels;
  const base = graph.nodes.map((node) => node.layer ?? `${node.op} (line ${lineOf(node.range.start)}`);
  const total = new Map<string, number>();
  for (const label of base) total.set(label, (total.get(label) ?? 0) + 1);
  const seen = new Map<string, number>();
  const labels = new Map<IrNode, string>();
  graph.nodes.forEach((node, i) => {
    const count = (seen.get(base[i]) ?? 0) + 1;
    seen.set(base[i], count);
    labels.set(node, node.layer ? base[i] : total.get(base[i])! > 1 ? `${base[i]}, #${count})` : `${base[i]})`);
  });
  labelCache.set(graph, { lineOf, labels });
  return labels;
}

/**
 * Runs a graph on `inputs` (bound to graph.inputs in order) and returns its outputs: the
 * graph's output, or the given `outputs` values (a grad block's gradients).
 */
export function evaluateGraph(graph: Graph, inputs: readonly Tensor[], env: Map<ValueId, Tensor>, context: GraphContext, outputs: readonly ValueId[] = [graph.output]): Tensor[] {
  const dims = new DimBinding();
  const labels = nodeLabels(graph, context.lineOf);
  graph.inputs.forEach((id, i) => {
    env.set(id, inputs[i]);
    dims.match(patternOf(graph.values[id].shape), constantShape(inputs[i].shape));
  });
  const run: NodeRun = { graph, env, dims, labels, context };
  let from = 0;
  for (const span of graph.checkpoints ?? []) {
    runNodes(run, from, span.from);
    runCheckpointed(run, span);
    from = span.to;
  }
  runNodes(run, from, graph.nodes.length);
  return outputs.map((id) => {
    const value = env.get(id);
    if (!value) throw new LoweringError(`the graph's output value ${id} is not computed`);
    return value;
  });
}

/** What running a graph's nodes shares: their values so far and the bound dims. */
interface NodeRun {
  graph: Graph;
  env: Map<ValueId, Tensor>;
  dims: DimBinding;
  labels: Map<IrNode, string>;
  context: GraphContext;
}

/** Runs `graph.nodes[from..to)`, each output into `run.env`. */
function runNodes({ graph, env, dims, labels, context }: NodeRun, from: number, to: number): void {
  for (let k = from; k < to; k++) {
    const node = graph.nodes[k];
    const args = node.inputs.map((id) => {
      const value = env.get(id);
      if (!value) throw new LoweringError(`${node.op}: input value ${id} is not computed`);
      return value;
    });
    const out = runNode(node, args, graph, dims, context);
    env.set(node.outputs[0], out);
    const activation = context.mode.activations && node.op !== 'call_fn' && node.op !== 'unknown' ? opDef(node.op)?.activation : undefined;
    if (activation && out.shape.length > 0) {
      context.mode.activations!.push(activationStats(labels.get(node)!, node.op, activation, node.range, out.data, out.shape[0]));
    }
    if (context.mode.detectNonFinite && out.dtype !== 'int64' && hasNonFinite(out.data)) {
      throw new NonFiniteError(node, labels.get(node)!);
    }
  }
}

/**
 * Runs a checkpointed span through autograd/checkpoint.ts: its activations are not kept, and
 * the backward pass reruns it (without statistics or NaN checks, which the first run made).
 */
function runCheckpointed(run: NodeRun, span: NodeSpan): void {
  const outer = spanInputs(run.graph, span);
  let first = true;
  const segment = (...values: Tensor[]): Tensor => {
    const env = new Map(outer.map((id, i) => [id, values[i]]));
    const context = first ? run.context : { ...run.context, mode: { ...run.context.mode, activations: undefined, detectNonFinite: false } };
    first = false;
    runNodes({ ...run, env, context }, span.from, span.to);
    return env.get(span.output) as Tensor;
  };
  const inputs = outer.map((id) => {
    const value = run.env.get(id);
    if (!value) throw new LoweringError(`checkpoint: input value ${id} is not computed`);
    return value;
  });
  run.env.set(span.output, checkpoint(segment, ...inputs));
}

/** The TS kernel of one IR node. */
function runNode(node: IrNode, args: Tensor[], graph: Graph, dims: DimBinding, context: GraphContext): Tensor {
  if (node.op === 'call_fn') return callFn(node.attrs.fn, args, context);
  const def = node.op === 'unknown' ? undefined : opDef(node.op);
  if (!def) throw new LoweringError(`the TS back end has no op \`${node.op}\``);
  const outShape = graph.values[node.outputs[0]].shape;
  const concrete = (shape: Shape): number[] => dims.resolveShape(shape).map(sizeOf);
  return def.ts(args, resolveAttrs(node.attrs, (shape) => dims.resolveShape(shape)) as never, { mode: context.mode, concrete, outShape });
}

/**
 * A `fn` call. Without a grad block its forward graph is recorded op by op; with one, the
 * forward runs off the tape and one custom node's backward evaluates the grad block.
 */
function callFn(name: string, args: Tensor[], context: GraphContext): Tensor {
  const fn = context.fns.get(name);
  if (!fn) throw new LoweringError(`call_fn: no fn \`${name}\``);
  if (!fn.backward) return evaluateGraph(fn.forward, args, new Map(), context)[0];
  const backward = fn.backward;
  const output = noGrad(() => evaluateGraph(fn.forward, args, new Map(), context)[0]);
  const result = new Tensor(output.data, output.shape, output.dtype);
  return record(`fn ${name}`, result, args, (upstreamGrad) =>
    noGrad(() => evaluateGraph(backward.graph, [...args, upstreamGrad], new Map(), context, backward.gradOutputs)),
  );
}

/** 1-based line of an offset in `text`, for `.nn` line numbers in messages. */
export function lineIndex(text: string): (offset: number) => number {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}
