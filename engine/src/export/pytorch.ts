// Writes a checked model as readable PyTorch: an nn.Module whose submodules and parameters
// have the same state_dict names and layouts, each `fn` as a Python function (a
// torch.autograd.Function when it has a `grad` block), and a loader for the .safetensors
// checkpoints written in plain Python (json + struct), so no extra package is needed.

import type { FnIR, Graph, InitSpec, IrNode, LayerUse, ModelIR, OpNode, TrainIR, ValueId } from '../lang/api.js';
import { pytorchTraining } from './pytorchTraining.js';
import { checkpointedModel } from '../lang/checkpoints.js';
import { layerDef, opDef } from '../ops/registry.js';
import { uniformBound } from '../nn/init.js';

const PYTHON_KEYWORDS = new Set(['False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del', 'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield', 'self', 'torch', 'nn', 'F', 'ctx']);

/** Python names for a graph's values: the `.nn` binding name where there is one, made unique. */
class Names {
  private readonly byValue = new Map<ValueId, string>();
  private readonly taken = new Set<string>();

  constructor(reserved: readonly string[] = []) {
    reserved.forEach((r) => this.taken.add(r));
  }

  bind(id: ValueId, hint: string | undefined, fixed?: string): string {
    if (fixed) {
      this.byValue.set(id, fixed);
      return fixed;
    }
    let base = hint && /^[A-Za-z_][A-Za-z0-9_]*$/.test(hint) ? hint : 't';
    if (PYTHON_KEYWORDS.has(base)) base = `${base}_`;
    const name = this.fresh(base);
    this.byValue.set(id, name);
    return name;
  }

  /** A name of no value (a nested function's). */
  fresh(base: string): string {
    let name = base;
    for (let k = 1; this.taken.has(name); k++) name = `${base}_${k}`;
    this.taken.add(name);
    return name;
  }

  get(id: ValueId): string {
    const name = this.byValue.get(id);
    if (!name) throw new Error(`value ${id} has no Python name`);
    return name;
  }
}

/** The Python expression of one op node, by the op's PyTorch form in the registry. */
function opExpression(graph: Graph, node: OpNode, args: string[], inModule: boolean, inputDim: (name: string) => string | null): string {
  const def = opDef(node.op)!;
  const ctx = { inModule, outShape: graph.values[node.outputs[0]].shape, inShapes: node.inputs.map((id) => graph.values[id].shape), inputDim };
  return def.pytorch(args, node.attrs as never, ctx);
}

/** A parameter's init as torch.nn.init calls the same distribution (PyTorch would otherwise leave `torch.empty`). */
function initLine(target: string, init: InitSpec): string {
  const bound = uniformBound(init);
  if (bound !== null) return `nn.init.uniform_(${target}, -${bound}, ${bound})`;
  switch (init.kind) {
    case 'normal':
      return `nn.init.normal_(${target}, 0.0, ${init.std})`;
    case 'ones':
      return `nn.init.ones_(${target})`;
    default:
      return `nn.init.zeros_(${target})`;
  }
}

/** How a built-in layer is applied: `self.conv1(x)`, or the layer's own call form. */
function layerCall(use: LayerUse, node: IrNode, x: string): string {
  const def = layerDef(use.ctor)!;
  const module = `self.${use.name}`;
  return def.pytorchCall ? def.pytorchCall(module, x, use.args as never, node.attrs as never) : `${module}(${x})`;
}

/**
 * The nodes of one call of a layer with several results (`out, (h, c) = lstm(x)`): the first
 * of `nodes` and those after it of the same call, one per part in order; null unless they are all there.
 */
function allResults(nodes: readonly IrNode[], layer: LayerUse, layerOf: (node: IrNode) => LayerUse | null): { nodes: IrNode[]; shape: readonly (number | readonly number[])[] } | null {
  const shape = layerDef(layer.ctor)!.results;
  if (!shape) return null;
  const parts = shape.flat();
  const call = nodes.slice(0, parts.length);
  const same = (n: IrNode, k: number) =>
    layerOf(n) === layer && (n.attrs as { part?: number }).part === parts[k] && n.inputs.length === nodes[0].inputs.length && n.inputs.every((id, i) => id === nodes[0].inputs[i]);
  return call.length === parts.length && call.every(same) ? { nodes: call, shape } : null;
}

/**
 * The body lines of a graph (indented), binding every node output; returns the lines. A
 * checkpointed span becomes a nested function run by `torch.utils.checkpoint.checkpoint`.
 */
function bodyLines(graph: Graph, names: Names, indent: string, layerOf: (node: IrNode) => LayerUse | null, inModule: boolean): string[] {
  const lines: string[] = [];
  // Each dim name of the graph's inputs, read from the first input that has it.
  const inputDims = new Map<string, string>();
  for (const id of graph.inputs) {
    graph.values[id].shape.forEach((d, axis) => {
      const name = d.singleName();
      if (name !== null && !inputDims.has(name)) inputDims.set(name, `${names.get(id)}.shape[${axis}]`);
    });
  }
  const inputDim = (name: string) => inputDims.get(name) ?? null;
  const nodeLines = (from: number, to: number, at: string): void => {
    for (let k = from; k < to; k++) {
      const node = graph.nodes[k];
      const args = node.inputs.map((id) => names.get(id));
      if (node.op === 'unknown') throw new Error('a value an error left undetermined cannot be exported');
      const layer = layerOf(node);
      const results = layer ? allResults(graph.nodes.slice(k, to), layer, layerOf) : null;
      if (layer && results) {
        // `out, (h, c) = self.lstm(x)`: one call for the results the nodes bind.
        const hint = layer.name.split('.').pop();
        const byPart = new Map(results.nodes.map((n) => [(n.attrs as { part: number }).part, names.bind(n.outputs[0], graph.values[n.outputs[0]].name ?? hint)]));
        const target = (parts: readonly (number | readonly number[])[]): string => parts.map((p) => (typeof p === 'number' ? byPart.get(p)! : `(${target(p)})`)).join(', ');
        lines.push(`${at}${target(results.shape)} = self.${layer.name}(${args[0]})`);
        k += results.nodes.length - 1;
        continue;
      }
      const expression = layer ? layerCall(layer, node, args[0])
        : node.op === 'call_fn' ? `${node.attrs.fn}(${args.join(', ')})`
        : opExpression(graph, node, args, inModule, inputDim);
      // Unnamed values are called after their layer (`conv1`) or op (`relu`); a fn's result
      // gets a suffix so the name does not shadow the fn.
      const hint = graph.values[node.outputs[0]].name
        ?? (layer ? layer.name.split('.').pop() : node.op === 'call_fn' ? `${node.attrs.fn}_out` : node.op);
      const out = names.bind(node.outputs[0], hint);
      lines.push(`${at}${out} = ${expression}`);
    }
  };
  let from = 0;
  for (const span of graph.checkpoints ?? []) {
    nodeLines(from, span.from, indent);
    // The span's data inputs are the nested function's arguments (same names); parameters
    // (`self.fc1.weight`) are read through the closure, which non-reentrant checkpointing allows.
    const nodes = graph.nodes.slice(span.from, span.to);
    const defined = new Set(nodes.flatMap((n) => n.outputs));
    const weights = new Set([...graph.params, ...graph.buffers].map((w) => w.value));
    const inputs = [...new Set(nodes.flatMap((n) => n.inputs))].filter((id) => !defined.has(id) && !weights.has(id)).map((id) => names.get(id));
    const fn = names.fresh('checkpointed');
    lines.push(`${indent}def ${fn}(${inputs.join(', ')}):`);
    nodeLines(span.from, span.to, `${indent}    `);
    lines.push(`${indent}    return ${names.get(span.output)}`);
    lines.push(`${indent}${names.get(span.output)} = torch.utils.checkpoint.checkpoint(${[fn, ...inputs].join(', ')}, use_reentrant=False)`);
    from = span.to;
  }
  nodeLines(from, graph.nodes.length, indent);
  return lines;
}

function fnSource(fn: FnIR): string[] {
  const g = fn.forward;
  const names = new Names();
  const args = g.inputs.map((id) => names.bind(id, g.values[id].name));
  const body = bodyLines(g, names, '    ', () => null, false);
  if (!fn.backward) {
    return [`def ${fn.name}(${args.join(', ')}):`, ...body, `    return ${names.get(g.output)}`, ''];
  }
  const bg = fn.backward.graph;
  const bnames = new Names();
  const bargs = bg.inputs.map((id) => bnames.bind(id, bg.values[id].name));
  const saved = bargs.slice(0, args.length);
  const upstream = bargs[args.length];
  const bbody = bodyLines(bg, bnames, '        ', () => null, false);
  const className = `${fn.name[0].toUpperCase()}${fn.name.slice(1)}Function`;
  const forwardBody = body.map((line) => `    ${line}`);
  return [
    `class ${className}(torch.autograd.Function):`,
    `    """\`fn ${fn.name}\` with its hand-written \`grad\` block as the backward pass."""`,
    '',
    '    @staticmethod',
    `    def forward(ctx, ${args.join(', ')}):`,
    `        ctx.save_for_backward(${args.join(', ')})`,
    ...forwardBody,
    `        return ${names.get(g.output)}`,
    '',
    '    @staticmethod',
    `    def backward(ctx, ${upstream}):`,
    `        ${saved.join(', ')}${saved.length === 1 ? ',' : ''} = ctx.saved_tensors`,
    ...bbody,
    `        return ${fn.backward.gradOutputs.map((id) => bnames.get(id)).join(', ')}`,
    '',
    '',
    `def ${fn.name}(${args.join(', ')}):`,
    `    return ${className}.apply(${args.join(', ')})`,
    '',
  ];
}

const LOADER = `
def load_safetensors(path):
    """Reads a .safetensors file (8-byte header length, JSON header, raw little-endian data)."""
    dtypes = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64}
    with open(path, "rb") as f:
        (header_size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_size))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        raw = bytearray(data[start:end])
        tensors[name] = torch.frombuffer(raw, dtype=dtypes[info["dtype"]]).reshape(info["shape"]).clone()
    return tensors
`;

/**
 * The Python source of `model` (and the fns it calls); `source` names the `.nn` file. With
 * the model's `train` block, also its optimizer, schedule and clipping (pytorchTraining.ts).
 */
export function exportPytorch(checked: ModelIR, fns: ReadonlyMap<string, FnIR>, source: string, train?: TrainIR): string {
  const model = checkpointedModel(checked, train?.controls);
  const graph = model.graph;
  const className = model.name;
  const names = new Names();
  const moduleLines: string[] = [];
  const containers = new Set<string>();
  const ensureParents = (path: string): void => {
    const parts = path.split('.');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('.');
      if (!containers.has(parent)) {
        containers.add(parent);
        moduleLines.push(`        self.${parent} = nn.Module()`);
      }
    }
  };
  // Built-in layers become their torch.nn modules, applied as `self.<name>(x)`; a layer
  // without one (RMSNorm: torch 1.13 has none) keeps plain parameters and its op's functional form.
  const modules = new Map(graph.layers.filter((use) => layerDef(use.ctor)!.pytorch(use.args as never) !== null).map((use) => [use.name, use]));
  const layerOf = (node: IrNode): LayerUse | null => (node.layer !== undefined && node.op !== 'call_fn' ? modules.get(node.layer) ?? null : null);
  for (const use of modules.values()) {
    ensureParents(use.name);
    moduleLines.push(`        self.${use.name} = ${layerDef(use.ctor)!.pytorch(use.args as never)}`);
  }
  for (const { param, value } of graph.params) {
    names.bind(value, undefined, `self.${param.name}`);
    if (modules.has(param.layer)) continue;
    ensureParents(param.name);
    moduleLines.push(`        self.${param.name} = nn.Parameter(torch.empty(${param.shape.join(', ')}))`, `        ${initLine(`self.${param.name}`, param.init)}`);
  }
  for (const { buffer, value } of graph.buffers) names.bind(value, undefined, `self.${buffer.name}`);
  const inputs = graph.inputs.map((id) => names.bind(id, graph.values[id].name));
  const body = bodyLines(graph, names, '        ', (node) => layerOf(node), true);

  const usedFns = new Set<string>();
  const collect = (g: Graph): void => g.nodes.forEach((n) => {
    if (n.op === 'call_fn' && !usedFns.has(n.attrs.fn)) {
      usedFns.add(n.attrs.fn);
      const fn = fns.get(n.attrs.fn);
      if (fn) collect(fn.forward);
    }
  });
  collect(graph);
  const fnLines = [...usedFns].flatMap((name) => {
    const fn = fns.get(name);
    if (!fn) throw new Error(`the model calls the unknown fn \`${name}\``);
    return [...fnSource(fn), ''];
  });

  return [
    `# ${className}: generated by NN Studio from ${source}.`,
    '# The parameter names and layouts are those of the .nn model\'s checkpoints, so',
    `# load_model("checkpoint.safetensors") continues from an NN Studio run.`,
    'import json',
    'import struct',
    '',
    'import torch',
    ...(graph.checkpoints?.length ? ['import torch.utils.checkpoint'] : []),
    'import torch.nn as nn',
    'import torch.nn.functional as F',
    '',
    '',
    ...fnLines,
    `class ${className}(nn.Module):`,
    '    def __init__(self):',
    '        super().__init__()',
    ...(moduleLines.length ? moduleLines : ['        pass']),
    '',
    `    def forward(self, ${inputs.join(', ')}):`,
    ...body,
    `        return ${names.get(graph.output)}`,
    '',
    LOADER,
    '',
    'def load_model(path=None):',
    `    """A ${className}; with \`path\`, its weights from a .safetensors checkpoint (optimizer state is ignored)."""`,
    `    model = ${className}()`,
    '    if path is not None:',
    '        tensors = load_safetensors(path)',
    '        state = {}',
    '        for name, current in model.state_dict().items():',
    '            if name.endswith("num_batches_tracked"):',
    '                continue',
    '            if name not in tensors:',
    '                raise KeyError(f"{path} has no tensor {name!r}")',
    '            state[name] = tensors[name].to(current.dtype)',
    '        model.load_state_dict(state, strict=False)',
    '    return model',
    '',
    ...(train ? ['', ...pytorchTraining(train)] : []),
  ].join('\n');
}
