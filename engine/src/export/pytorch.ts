// Writes a checked model as readable PyTorch: an nn.Module whose submodules and parameters
// have the same state_dict names and layouts, each `fn` as a Python function (a
// torch.autograd.Function when it has a `grad` block), and a loader for the .safetensors
// checkpoints written in plain Python (json + struct), so no extra package is needed.

import type { FnIR, Graph, IrNode, ModelIR, ValueId } from '../lang/api.js';

const PYTHON_KEYWORDS = new Set(['False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del', 'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield', 'self', 'torch', 'nn', 'F', 'ctx']);

/** Layer ops: applied as `self.<module>(x)`; the module path is the weight's name minus `.weight`. */
const LAYER_OPS = new Set(['linear', 'conv2d', 'batch_norm1d', 'batch_norm2d', 'layer_norm', 'embedding']);

const UNARY: Record<string, string> = {
  relu: 'F.relu', sigmoid: 'torch.sigmoid', tanh: 'torch.tanh', gelu: 'F.gelu', silu: 'F.silu', softplus: 'F.softplus',
  exp: 'torch.exp', log: 'torch.log', sqrt: 'torch.sqrt', abs: 'torch.abs',
};

const BINARY: Record<string, string> = { add: '+', sub: '-', mul: '*', div: '/' };

function pyFloat(n: number): string {
  return Number.isInteger(n) ? `${n}.0` : String(n);
}

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
    let name = base;
    for (let k = 1; this.taken.has(name); k++) name = `${base}_${k}`;
    this.taken.add(name);
    this.byValue.set(id, name);
    return name;
  }

  get(id: ValueId): string {
    const name = this.byValue.get(id);
    if (!name) throw new Error(`value ${id} has no Python name`);
    return name;
  }
}

function attr(node: IrNode, key: string, fallback: number): number {
  const v = node.attrs[key];
  return typeof v === 'number' ? v : typeof v === 'boolean' ? (v ? 1 : 0) : fallback;
}

function axisArgs(node: IrNode): string {
  const axis = node.attrs.axis;
  const keep = node.attrs.keepdims === true;
  if (typeof axis !== 'number') return '';
  return `, dim=${axis}${keep ? ', keepdim=True' : ''}`;
}

/** The target of a reshape or flatten: the checked output shape, batch dims as -1. */
function reshapeTarget(graph: Graph, node: IrNode): string {
  const shape = graph.values[node.outputs[0]].shape;
  const symbolic = shape.filter((d) => d.constant() === null).length;
  const literal = node.attrs.shape;
  const dims = symbolic > 1 && Array.isArray(literal) ? literal : shape.map((d) => d.constant() ?? -1);
  return `(${dims.join(', ')}${dims.length === 1 ? ',' : ''})`;
}

/** The Python expression of one non-layer op. */
function opExpression(graph: Graph, node: IrNode, a: string[], inModule: boolean): string {
  const [x, y] = a;
  if (UNARY[node.op]) return `${UNARY[node.op]}(${x})`;
  if (BINARY[node.op]) {
    if (a.length === 2) return `${x} ${BINARY[node.op]} ${y}`;
    const scalar = pyFloat(attr(node, 'scalar', 0));
    return node.attrs.scalarFirst === true ? `${scalar} ${BINARY[node.op]} ${x}` : `${x} ${BINARY[node.op]} ${scalar}`;
  }
  switch (node.op) {
    case 'neg': return `-${x}`;
    case 'pow': return `${x} ** ${String(attr(node, 'exponent', 1))}`;
    case 'matmul': return `${x} @ ${y}`;
    case 'leaky_relu': return `F.leaky_relu(${x}, ${pyFloat(attr(node, 'slope', 0.01))})`;
    case 'softmax': return `F.softmax(${x}, dim=${attr(node, 'axis', -1)})`;
    case 'log_softmax': return `F.log_softmax(${x}, dim=${attr(node, 'axis', -1)})`;
    case 'sum': return `torch.sum(${x}${axisArgs(node)})`;
    case 'mean': return `torch.mean(${x}${axisArgs(node)})`;
    case 'max': return typeof node.attrs.axis === 'number' ? `torch.max(${x}${axisArgs(node)}).values` : `torch.max(${x})`;
    case 'transpose': return `${x}.transpose(${attr(node, 'dim0', 0)}, ${attr(node, 'dim1', 1)})`;
    case 'reshape':
    case 'flatten': return `${x}.reshape${reshapeTarget(graph, node)}`;
    case 'concat': return `torch.cat([${a.join(', ')}], dim=${attr(node, 'axis', 0)})`;
    case 'max_pool2d': return `F.max_pool2d(${x}, ${attr(node, 'kernel', 2)}, stride=${attr(node, 'stride', attr(node, 'kernel', 2))}, padding=${attr(node, 'padding', 0)})`;
    case 'avg_pool2d': return `F.avg_pool2d(${x}, ${attr(node, 'kernel', 2)}, stride=${attr(node, 'stride', attr(node, 'kernel', 2))}, padding=${attr(node, 'padding', 0)})`;
    case 'dropout': return `F.dropout(${x}, p=${pyFloat(attr(node, 'p', 0.5))}${inModule ? ', training=self.training' : ''})`;
    case 'detach': return `${x}.detach()`;
    case 'cross_entropy': return `F.cross_entropy(${x}, ${y})`;
    case 'mse': return `F.mse_loss(${x}, ${y})`;
    case 'bce_with_logits': return `F.binary_cross_entropy_with_logits(${x}, ${y})`;
    case 'call_fn': return `${String(node.attrs.fn)}(${a.join(', ')})`;
    default: throw new Error(`no PyTorch form for the op \`${node.op}\``);
  }
}

/** The body lines of a graph (indented), binding every node output; returns the lines. */
function bodyLines(graph: Graph, names: Names, indent: string, layerOf: (node: IrNode) => string | null, inModule: boolean): string[] {
  const lines: string[] = [];
  for (const node of graph.nodes) {
    const args = node.inputs.map((id) => names.get(id));
    if (node.op === 'tuple') {
      node.outputs.forEach((id, i) => names.bind(id, undefined, args[i]));
      continue;
    }
    const layer = layerOf(node);
    const expression = layer ? `self.${layer}(${args[0]})` : opExpression(graph, node, args, inModule);
    // Unnamed values are called after their layer (`conv1`) or op (`relu`); a fn's result
    // gets a suffix so the name does not shadow the fn.
    const hint = graph.values[node.outputs[0]].name
      ?? (layer ? layer.split('.').pop() : node.op === 'call_fn' ? `${String(node.attrs.fn)}_out` : node.op);
    const out = names.bind(node.outputs[0], hint);
    lines.push(`${indent}${out} = ${expression}`);
  }
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

/** The constructor call of a layer module, from its op and its parameters' shapes. */
function moduleConstructor(node: IrNode, graph: Graph): string {
  const shapes = node.inputs.map((id) => graph.values[id].shape.map((d) => d.constant() ?? 0));
  const hasBias = node.inputs.length > 2;
  switch (node.op) {
    case 'linear': return `nn.Linear(${shapes[1][1]}, ${shapes[1][0]}${hasBias ? '' : ', bias=False'})`;
    case 'conv2d': return `nn.Conv2d(${shapes[1][1]}, ${shapes[1][0]}, ${shapes[1][2]}, stride=${attr(node, 'stride', 1)}, padding=${attr(node, 'padding', 0)}${hasBias ? '' : ', bias=False'})`;
    case 'batch_norm1d':
    case 'batch_norm2d': return `nn.BatchNorm${node.op === 'batch_norm1d' ? '1' : '2'}d(${shapes[1][0]}, eps=${pyFloat(attr(node, 'eps', 1e-5))}, momentum=${pyFloat(attr(node, 'momentum', 0.1))})`;
    case 'layer_norm': return `nn.LayerNorm(${shapes[1][0]})`;
    case 'embedding': return `nn.Embedding(${shapes[1][0]}, ${shapes[1][1]})`;
    default: throw new Error(`no module for ${node.op}`);
  }
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

/** The Python source of `model` (and the fns it calls); `source` names the `.nn` file. */
export function exportPytorch(model: ModelIR, fns: ReadonlyMap<string, FnIR>, source: string): string {
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
  const paramByValue = new Map(graph.params.map(({ param, value }) => [value, param]));
  const modules = new Map<string, string>();
  const layerOf = (node: IrNode): string | null => {
    if (!LAYER_OPS.has(node.op)) return null;
    const weight = paramByValue.get(node.inputs[1]);
    if (!weight || !weight.name.endsWith('.weight')) return null;
    return weight.name.slice(0, -'.weight'.length);
  };
  for (const node of graph.nodes) {
    const path = layerOf(node);
    if (path && !modules.has(path)) {
      modules.set(path, moduleConstructor(node, graph));
      ensureParents(path);
      moduleLines.push(`        self.${path} = ${modules.get(path)}`);
    }
  }
  for (const { param, value } of graph.params) {
    const owner = param.name.endsWith('.weight') || param.name.endsWith('.bias') ? param.name.replace(/\.(weight|bias)$/, '') : null;
    if (owner && modules.has(owner)) {
      names.bind(value, undefined, `self.${param.name}`);
      continue;
    }
    ensureParents(param.name);
    moduleLines.push(`        self.${param.name} = nn.Parameter(torch.empty(${param.shape.join(', ')}))`);
    names.bind(value, undefined, `self.${param.name}`);
  }
  for (const { buffer, value } of graph.buffers) names.bind(value, undefined, `self.${buffer.name}`);
  const inputs = graph.inputs.map((id) => names.bind(id, graph.values[id].name));
  const body = bodyLines(graph, names, '        ', (node) => layerOf(node), true);

  const usedFns = new Set<string>();
  const collect = (g: Graph): void => g.nodes.forEach((n) => {
    if (n.op === 'call_fn' && !usedFns.has(String(n.attrs.fn))) {
      usedFns.add(String(n.attrs.fn));
      const fn = fns.get(String(n.attrs.fn));
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
  ].join('\n');
}
