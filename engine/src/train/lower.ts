// Lowering: the checked IR (api.ts's ModelIR and FnIR) becomes an executable model over the
// TS engine's ops. Parameters are created by their InitSpec with the run's seeded Rng and
// named like a PyTorch state_dict; a `fn` with a `grad` block becomes a custom autograd op
// whose backward evaluates the grad block's graph (like torch.autograd.Function).

import type { FnIR, Graph, IrNode, ModelIR, ParamInfo, ValueId } from '../lang/api.js';
import { Dim } from '../shape/dim.js';
import { Tensor, full } from '../tensor/tensor.js';
import { record, noGrad } from '../autograd/tape.js';
import { Rng } from '../random.js';
import { initTensor } from '../nn/init.js';
import * as ops from '../index.js';
import { ACTIVATION_OPS, activationStats, hasNonFinite } from './stats.js';
import type { ActivationStats } from './events.js';

export interface LoweredParam {
  name: string;
  layer: string;
  tensor: Tensor;
  info: ParamInfo;
}

/** How one forward pass runs. */
export interface ForwardMode {
  /** Dropout active. */
  dropout: boolean;
  /** Batch norm normalizes with batch statistics and updates its running ones. */
  batchNormTraining: boolean;
  /** The stream dropout masks come from. */
  rng: Rng;
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
 * and `.nn` line (`relu@12`); an op at a line used several times (a block instantiated
 * twice) gets `#1`, `#2`... in execution order.
 */
export function nodeLabels(graph: Graph, lineOf: (offset: number) => number): Map<IrNode, string> {
  const cached = labelCache.get(graph);
  if (cached && cached.lineOf === lineOf) return cached.labels;
  const base = graph.nodes.map((node) => node.layer ?? `${node.op}@${lineOf(node.range.start)}`);
  const total = new Map<string, number>();
  for (const label of base) total.set(label, (total.get(label) ?? 0) + 1);
  const seen = new Map<string, number>();
  const labels = new Map<IrNode, string>();
  graph.nodes.forEach((node, i) => {
    const count = (seen.get(base[i]) ?? 0) + 1;
    seen.set(base[i], count);
    labels.set(node, total.get(base[i])! > 1 && !node.layer ? `${base[i]}#${count}` : base[i]);
  });
  labelCache.set(graph, { lineOf, labels });
  return labels;
}

/**
 * Runs a graph on `inputs` (bound to graph.inputs in order) and returns its outputs: the
 * graph's output, or the given `outputs` values (a grad block's gradients).
 */
export function evaluateGraph(graph: Graph, inputs: readonly Tensor[], env: Map<ValueId, Tensor>, context: GraphContext, outputs: readonly ValueId[] = [graph.output]): Tensor[] {
  const dims = new Map<string, Dim>();
  const labels = nodeLabels(graph, context.lineOf);
  graph.inputs.forEach((id, i) => {
    env.set(id, inputs[i]);
    bindDims(graph.values[id].shape, inputs[i].shape, dims);
  });
  for (const node of graph.nodes) {
    const args = node.inputs.map((id) => {
      const value = env.get(id);
      if (!value) throw new LoweringError(`${node.op}: input value ${id} is not computed`);
      return value;
    });
    const result = runNode(node, args, graph, dims, context);
    node.outputs.forEach((id, i) => env.set(id, result[i]));
    const out = result[0];
    if (context.mode.activations && ACTIVATION_OPS.has(node.op) && out.shape.length > 0) {
      context.mode.activations.push(activationStats(labels.get(node)!, node.op as ActivationStats['op'], node.range, out.data, out.shape[0]));
    }
    if (context.mode.detectNonFinite && out.dtype !== 'int64' && hasNonFinite(out.data)) {
      throw new NonFiniteError(node, labels.get(node)!);
    }
  }
  return outputs.map((id) => {
    const value = env.get(id);
    if (!value) throw new LoweringError(`the graph's output value ${id} is not computed`);
    return value;
  });
}

/** Learns the values of symbolic dims (B, T...) from the actual input shapes. */
function bindDims(symbolic: readonly Dim[], actual: readonly number[], dims: Map<string, Dim>): void {
  if (symbolic.length !== actual.length) return;
  symbolic.forEach((d, i) => {
    const names = [...d.names()];
    if (d.constant() === null && names.length === 1 && d.equals(Dim.named(names[0]))) dims.set(names[0], Dim.of(actual[i]));
  });
}


function num(node: IrNode, key: string, fallback?: number): number {
  const value = node.attrs[key];
  if (typeof value === 'number') return value;
  if (fallback !== undefined) return fallback;
  throw new LoweringError(`${node.op}: attribute \`${key}\` is missing`);
}

function optionalAxis(node: IrNode): number | undefined {
  const value = node.attrs.axis;
  return typeof value === 'number' ? value : undefined;
}

/** The concrete target shape of a reshape: the checked output shape with the dims bound. */
function reshapeTarget(node: IrNode, graph: Graph, dims: ReadonlyMap<string, Dim>): number[] {
  const out = graph.values[node.outputs[0]].shape.map((d) => d.substitute(dims).constant());
  if (out.filter((d) => d === null).length <= 1) return out.map((d) => d ?? -1);
  const attr = node.attrs.shape;
  if (Array.isArray(attr)) return attr;
  throw new LoweringError(`reshape: cannot make its target shape concrete`);
}

/** An elementwise binary op, with `scalar` for a number operand (`x * 2`, `1 - x`). */
function binary(node: IrNode, args: Tensor[], fn: (a: Tensor | number, b: Tensor | number) => Tensor): Tensor {
  if (args.length === 2) return fn(args[0], args[1]);
  const scalar = num(node, 'scalar');
  return node.attrs.scalarFirst === true ? fn(scalar, args[0]) : fn(args[0], scalar);
}

function runNode(node: IrNode, args: Tensor[], graph: Graph, dims: ReadonlyMap<string, Dim>, context: GraphContext): Tensor[] {
  const [x] = args;
  const mode = context.mode;
  switch (node.op) {
    case 'add': return [binary(node, args, ops.add)];
    case 'sub': return [binary(node, args, ops.sub)];
    case 'mul': return [binary(node, args, ops.mul)];
    case 'div': return [binary(node, args, ops.div)];
    case 'pow': return [ops.pow(x, num(node, 'exponent'))];
    case 'neg': return [ops.neg(x)];
    case 'matmul': return [ops.matmul(args[0], args[1])];
    case 'relu': return [ops.relu(x)];
    case 'leaky_relu': return [ops.leakyRelu(x, num(node, 'slope', 0.01))];
    case 'sigmoid': return [ops.sigmoid(x)];
    case 'tanh': return [ops.tanh(x)];
    case 'gelu': return [ops.gelu(x)];
    case 'silu': return [ops.silu(x)];
    case 'softplus': return [ops.softplus(x)];
    case 'exp': return [ops.exp(x)];
    case 'log': return [ops.log(x)];
    case 'sqrt': return [ops.sqrt(x)];
    case 'abs': return [ops.abs(x)];
    case 'softmax': return [ops.softmax(x, num(node, 'axis', -1))];
    case 'log_softmax': return [ops.logSoftmax(x, num(node, 'axis', -1))];
    case 'sum': return [ops.sum(x, { axis: optionalAxis(node), keepdims: node.attrs.keepdims === true })];
    case 'mean': return [ops.mean(x, { axis: optionalAxis(node), keepdims: node.attrs.keepdims === true })];
    case 'max': return [ops.max(x, { axis: optionalAxis(node), keepdims: node.attrs.keepdims === true })];
    case 'transpose': return [ops.transpose(x, num(node, 'dim0'), num(node, 'dim1'))];
    case 'reshape':
    case 'flatten': return [ops.reshape(x, reshapeTarget(node, graph, dims))];
    case 'concat': return [ops.concat(args, num(node, 'axis'))];
    case 'max_pool2d': return [ops.maxPool2d(x, num(node, 'kernel'), num(node, 'stride', num(node, 'kernel')), num(node, 'padding', 0))];
    case 'avg_pool2d': return [ops.avgPool2d(x, num(node, 'kernel'), num(node, 'stride', num(node, 'kernel')), num(node, 'padding', 0))];
    case 'dropout': return [ops.dropout(x, num(node, 'p'), { training: mode.dropout, rng: mode.rng })];
    case 'detach': return [ops.detach(x)];
    case 'linear': return [ops.linear(x, args[1], args[2] ?? null)];
    case 'conv2d': return [ops.conv2d(x, args[1], args[2] ?? null, { stride: num(node, 'stride', 1), padding: num(node, 'padding', 0) })];
    case 'batch_norm1d':
    case 'batch_norm2d': {
      const [, weight, bias, runningMean, runningVar] = args;
      const options = { training: mode.batchNormTraining, eps: num(node, 'eps', 1e-5), momentum: num(node, 'momentum', 0.1) };
      return [ops.batchNorm(x, weight, bias, runningMean, runningVar, options)];
    }
    case 'layer_norm': return [ops.layerNorm(x, args[1], args[2], num(node, 'eps', 1e-5))];
    case 'embedding': return [ops.embedding(x, args[1])];
    case 'cross_entropy': return [ops.crossEntropy(args[0], args[1])];
    case 'mse': return [ops.mse(args[0], args[1])];
    case 'bce_with_logits': return [ops.bceWithLogits(args[0], args[1])];
    case 'call_fn': return [callFn(node, args, context)];
    case 'tuple': return args;
    default:
      throw new LoweringError(`the TS back end has no op \`${node.op}\``);
  }
}

/**
 * A `fn` call. Without a grad block its forward graph is recorded op by op; with one, the
 * forward runs off the tape and one custom node's backward evaluates the grad block.
 */
function callFn(node: IrNode, args: Tensor[], context: GraphContext): Tensor {
  const name = String(node.attrs.fn);
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
