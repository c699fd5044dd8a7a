// A model's summary as data, like torchinfo's: one row per applied layer, op and block (in
// execution order, from the checked IR, so a pipe's stages appear once), with output and
// gradient shapes, parameters and mult-adds, and the totals `nn summary` prints (the pass
// size with activation checkpointing too).

import { opDef } from '../ops/registry.js';
import { Dim, formatShape, type Shape } from '../shape/dim.js';
import { elementCount } from '../shape/rules.js';
import type { CheckResult, Graph, IrNode, ModelIR, NodeSpan } from './api.js';
import { checkpointSpans } from './checkpoints.js';
import { bytesPerElement } from './costs.js';
import { gradientReach, type GradientReach } from './gradients.js';

export interface SummaryRow {
  /** An applied layer, an op (function or operator), a block (its rows follow), a layer never applied. */
  kind: 'layer' | 'op' | 'block' | 'unused';
  depth: number; // 1 for the model's own layers and ops, 2 inside a block, ...
  /** torchinfo's depth-index: the row's number among the rows at its depth. */
  index: number;
  /** `Conv2d`, `ReLU`, a block's model name. */
  type: string;
  /** The layer's name (`conv1`, `res1.conv1`), null for a function or operator. */
  name: string | null;
  output: Shape | null; // null: a declared layer that is never applied
  /** dL/d(output) has the output's shape; false when no gradient reaches it. */
  receivesGradient: boolean;
  params: number | null; // null: a row without parameters of its own (an op, a block)
  multAdds: Dim | null; // null: not counted (a block's are its rows')
  /** A layer whose parameters the model's `train` block freezes. */
  frozen?: boolean;
  /** Its parameters are an earlier row's (a layer or `param` applied again): torchinfo's `(recursive)`. */
  recursive?: boolean;
}

export interface ModelSummaryTable {
  model: string;
  /** The batch dim's name (the first dim of the first input), null when it has none. */
  batchDim: string | null;
  rows: SummaryRow[];
  params: number;
  /** Parameters no gradient reaches or the `train` block freezes (training leaves them as initialized). */
  untrainedParams: number;
  /** Of those, the frozen ones. */
  frozenParams: number;
  buffers: number;
  bufferBytes: number;
  paramBytes: number;
  multAdds: Dim;
  inputBytes: Dim;
  /** Every row's output, and its gradient where one reaches it (torchinfo's forward/backward pass size). */
  passBytes: Dim;
  /** With checkpointed spans (absent: none): the pass bytes kept outside them (their outputs included) and each span's own. */
  checkpointing?: { retainedBytes: Dim; spanBytes: Dim[] };
}

/**
 * The pass size with checkpointing: what is kept outside the spans, plus the largest span's
 * own activations and gradients, which exist while the backward pass recomputes it (the sum
 * of all spans', an upper bound, where a size is symbolic). `bind` binds the batch dim.
 */
export function checkpointedPassBytes(checkpointing: NonNullable<ModelSummaryTable['checkpointing']>, bind: (bytes: Dim) => Dim): Dim {
  const spans = checkpointing.spanBytes.map(bind);
  const known = spans.map((d) => d.constant());
  const largest = known.every((k) => k !== null)
    ? Dim.of(Math.max(0, ...(known as number[])))
    : spans.reduce((sum, d) => sum.add(d), Dim.of(0));
  return bind(checkpointing.retainedBytes).add(largest);
}

/** The pass bytes of one node: its output, and its gradient where one reaches it. */
function nodePassBytes(graph: Graph, node: IrNode, reach: GradientReach): Dim {
  return elementCount(graph.values[node.outputs[0]].shape).scale(4 * (reach.has(node.outputs[0]) ? 2 : 1));
}

/** Pass bytes kept outside the checkpointed spans and each span's own (its output is kept, so not its own). */
function checkpointingOf(graph: Graph, spans: readonly NodeSpan[], reach: GradientReach): ModelSummaryTable['checkpointing'] {
  if (spans.length === 0) return undefined;
  const inside = new Set<IrNode>();
  const spanBytes = spans.map((span) => {
    let bytes = Dim.of(0);
    for (const node of graph.nodes.slice(span.from, span.to)) {
      if (node.outputs[0] === span.output) continue;
      inside.add(node);
      bytes = bytes.add(nodePassBytes(graph, node, reach));
    }
    return bytes;
  });
  let retainedBytes = Dim.of(0);
  for (const node of graph.nodes) if (!inside.has(node)) retainedBytes = retainedBytes.add(nodePassBytes(graph, node, reach));
  return { retainedBytes, spanBytes };
}

/** The type a summary row names an op by: torch.nn's class (`relu` → `ReLU`), else the name in CamelCase. */
function typeName(op: string): string {
  return opDef(op)?.doc.torchClass ?? op.split('_').map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join('');
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Mult-adds of one node as torchinfo counts a layer's: the op's multiply-adds (half its FLOPs)
 * plus one per output element for a bias, so `Linear(392, 64)` on `[B, 392]` makes 64·393·B.
 */
function multAddsOf(graph: Graph, node: IrNode, hasBias: boolean): Dim | null {
  if (node.op === 'call_fn' || node.op === 'unknown') return null;
  const output = graph.values[node.outputs[0]].shape;
  const flops = opDef(node.op)?.flops?.(node.inputs.map((v) => graph.values[v].shape), output, node.attrs as never);
  const ops = flops ? flops.floorDiv(2) : Dim.of(0);
  return hasBias ? ops.add(elementCount(output)) : ops;
}

/** The constructor of a layer path (`res1.conv1`) seen from `model`, through its blocks. */
function ctorOf(result: CheckResult, model: string, path: string): string | null {
  let owner = model;
  let ctor: string | null = null;
  for (const part of path.split('.')) {
    ctor = result.layers.find((l) => l.model === owner && l.name === part)?.ctor ?? null;
    if (ctor === null) return null;
    owner = ctor;
  }
  return ctor;
}

class RowBuilder {
  readonly rows: SummaryRow[] = [];
  private readonly counters: number[] = [];
  /** The open blocks, outermost first: their layer paths and rows. */
  private readonly open: { path: string; row: SummaryRow }[] = [];

  constructor(private readonly result: CheckResult, private readonly model: string) {}

  add(row: Omit<SummaryRow, 'index'>): SummaryRow {
    this.counters[row.depth] = (this.counters[row.depth] ?? 0) + 1;
    const made = { ...row, index: this.counters[row.depth] };
    this.rows.push(made);
    return made;
  }

  /** Opens the blocks of a layer path (`res1` for `res1.conv1`), closing those it leaves. */
  enterLayer(path: string): number {
    const parts = path.split('.');
    let shared = 0;
    while (shared < this.open.length && shared < parts.length - 1 && this.open[shared].path === parts.slice(0, shared + 1).join('.')) shared++;
    this.open.length = shared;
    for (let depth = shared; depth < parts.length - 1; depth++) {
      const blockPath = parts.slice(0, depth + 1).join('.');
      const row = this.add({ kind: 'block', depth: depth + 1, type: ctorOf(this.result, this.model, blockPath) ?? 'block', name: blockPath, output: null, receivesGradient: false, params: null, multAdds: null });
      this.open.push({ path: blockPath, row });
    }
    return parts.length;
  }

  /** A function node's depth: inside the innermost open block whose source contains it. */
  enterFunction(node: IrNode): number {
    while (this.open.length > 0) {
      const ctor = this.open[this.open.length - 1].row.type;
      const block = this.result.models.find((m) => m.name === ctor);
      if (block && block.range.start <= node.range.start && node.range.end <= block.range.end) break;
      this.open.pop();
    }
    return this.open.length + 1;
  }

  /** The open blocks' rows take the latest output (a block's output is its last row's). */
  extendOpen(output: Shape, receivesGradient: boolean): void {
    for (const { row } of this.open) {
      row.output = output;
      row.receivesGradient = receivesGradient;
    }
  }
}

function nodeRows(result: CheckResult, ir: ModelIR, reach: GradientReach): SummaryRow[] {
  const graph = ir.graph;
  const builder = new RowBuilder(result, ir.name);
  const paramOf = new Map(graph.params.map((p) => [p.value, p.param]));
  const ctors = new Map(graph.layers.map((l) => [l.name, l.ctor]));
  const counted = new Set<string>();
  for (const node of graph.nodes) {
    const output = graph.values[node.outputs[0]].shape;
    const params = node.inputs.map((v) => paramOf.get(v)).filter((p) => p !== undefined);
    const receives = reach.has(node.outputs[0]);
    const recursive = params.length > 0 && params.every((p) => counted.has(p.name)) ? { recursive: true } : {};
    for (const p of params) counted.add(p.name);
    if (node.layer !== undefined && ctors.has(node.layer)) {
      const depth = builder.enterLayer(node.layer);
      const hasBias = params.some((p) => p.name.endsWith('.bias'));
      builder.add({ kind: 'layer', depth, type: ctors.get(node.layer)!, name: node.layer, output, receivesGradient: receives, params: params.reduce((sum, p) => sum + size(p.shape), 0), multAdds: multAddsOf(graph, node, hasBias), ...recursive });
    } else {
      const depth = builder.enterFunction(node);
      const own = params.reduce((sum, p) => sum + size(p.shape), 0);
      builder.add({ kind: 'op', depth, type: node.op === 'call_fn' ? node.attrs.fn : typeName(node.op), name: null, output, receivesGradient: receives, params: own > 0 ? own : null, multAdds: multAddsOf(graph, node, false), ...recursive });
    }
    builder.extendOpen(output, receives);
  }
  // Declared layers the model never applies: PyTorch still counts their parameters. A raw
  // `param` is never called, but its op's row already counts it when an op reads it.
  const read = new Set(graph.nodes.flatMap((node) => node.inputs));
  const readParams = new Set(graph.params.filter((p) => read.has(p.value)).map((p) => p.param.layer));
  for (const layer of result.layers) {
    if (layer.model !== ir.name || layer.callRanges.length > 0 || readParams.has(layer.name)) continue;
    builder.add({ kind: 'unused', depth: 1, type: layer.ctor, name: layer.name, output: null, receivesGradient: false, params: layer.paramCount, multAdds: null });
  }
  return builder.rows;
}

/** The summary of a model that checked (one with an IR), null otherwise. */
export function summarizeModel(result: CheckResult, model: string): ModelSummaryTable | null {
  const ir = result.irs.get(model);
  if (!ir) return null;
  const graph = ir.graph;
  const reach = gradientReach(graph);
  const rows = nodeRows(result, ir, reach);
  const controls = result.trains.find((t) => t.model === model)?.controls;
  const frozen = new Set(controls?.frozen ?? []);
  const frozenLayers = new Set(graph.params.filter((p) => frozen.has(p.param.name)).map((p) => p.param.layer));
  for (const row of rows) if (row.kind === 'layer' && row.name !== null && frozenLayers.has(row.name)) row.frozen = true;
  const untrained = graph.params.filter((p) => !reach.has(p.value) || frozen.has(p.param.name)).reduce((sum, p) => sum + size(p.param.shape), 0);
  const frozenParams = graph.params.filter((p) => frozen.has(p.param.name)).reduce((sum, p) => sum + size(p.param.shape), 0);
  const params = ir.params.reduce((sum, p) => sum + size(p.shape), 0);
  const buffers = ir.buffers.reduce((sum, b) => sum + size(b.shape), 0);
  let multAdds = Dim.of(0);
  let passBytes = Dim.of(0);
  for (const row of rows) {
    if (row.multAdds) multAdds = multAdds.add(row.multAdds);
    // A block row's output is already counted by its last row.
    if (row.output && row.kind !== 'block') passBytes = passBytes.add(elementCount(row.output).scale(4 * (row.receivesGradient ? 2 : 1)));
  }
  const checkpointing = checkpointingOf(graph, checkpointSpans(graph, controls), reach);
  let inputBytes = Dim.of(0);
  for (const input of graph.inputs) inputBytes = inputBytes.add(elementCount(graph.values[input].shape).scale(bytesPerElement(graph.values[input].dtype)));
  const first = graph.inputs[0] === undefined ? undefined : graph.values[graph.inputs[0]].shape[0];
  return {
    model,
    batchDim: first?.singleName() ?? null,
    rows,
    params,
    untrainedParams: untrained,
    frozenParams,
    buffers,
    bufferBytes: 4 * buffers,
    paramBytes: 4 * params,
    multAdds,
    inputBytes,
    passBytes,
    ...(checkpointing ? { checkpointing } : {}),
  };
}

/** A row's output shape as text, `--` for a layer never applied. */
export function rowShape(row: SummaryRow): string {
  return row.output ? formatShape(row.output) : '--';
}
