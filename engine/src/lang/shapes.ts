// Forward shape inference over symbolic dims: evaluates model and fn bodies, applies the
// shared shape rules, reports shape errors where shapes meet, and builds the flat SSA IR
// (blocks inlined, hyper-parameters substituted) as it goes.

import { concreteShape, Dim, formatShape, shapesEqual, type Shape } from '../shape/dim.js';
import { INPUT_TEXT_ARG, inferShape, ORIGIN_ARG, type OpAttrs, type OpName } from '../shape/rules.js';
import type { AttrValue, CallInfo, Diagnostic, Fix, InitSpec, IrNode, RelatedInfo, TextEdit, TextRange, ValueId } from './api.js';
import { anonymousLayers, arithmetic, declarationCall, type Symbols } from './binder.js';
import { builtinFunction, INITS, layerCtor, PARAM_SPEC, type FunctionSpec, type ParamSpec } from './builtins.js';
import { makeDiagnostic, type DiagnosticArg } from './diagnostics.js';
import { GraphBuilder, type DType } from './ir.js';
import { layerShapes } from './layers.js';
import type { Expr, FnItem, Ident, ModelItem, ParamSyntax, ShapeSyntax, Stmt } from './syntax.js';
import { UNKNOWN, type BlockInstance, type LayerBuffer, type LayerInstance, type NumberValue, type TensorValue, type Value } from './values.js';

/** A dim of a signature: a dim expression, or a variadic group `*S`. */
export type PatternDim = Dim | { variadic: string };

export interface Signature {
  inputs: { name: Ident; pattern: PatternDim[]; dtype: DType; syntax: ParamSyntax }[];
  output: PatternDim[] | null;
}

/** A binding seen by the editor; the gradient shape is filled in after the backward analysis. */
export interface PendingBinding {
  owner: string;
  name: string;
  range: TextRange;
  hintOffset: number;
  value: ValueId;
  shape: Shape | null;
}

/** Facts shared by every body the checker evaluates. */
export interface CheckContext {
  symbols: Symbols;
  text: string;
  diagnostics: Diagnostic[];
  calls: CallInfo[];
  /** For NN3102: the edit that removes a softmax/log_softmax call, keeping its input. */
  softmaxRemovals: Map<IrNode, TextEdit>;
}

/** The state of one body evaluation (a model, a fn, a grad block, or an inlined block). */
interface Frame {
  owner: string;
  graph: GraphBuilder;
  scope: Scope;
  anonymous: Map<Expr, LayerInstance>;
  /** Inlined blocks report nothing and record nothing for the editor: their own check does. */
  silent: boolean;
  prefix: string;
  /** Models being instantiated, outermost first (no model may use itself). */
  stack: string[];
  inFn: boolean;
  /** The hyper-parameters of the model checked on its own: with constants, what a layer size may be. */
  hyperParams: ReadonlySet<string>;
  errors: number;
  bindings: PendingBinding[];
  layers: LayerInstance[];
  /** Nodes made while inlining a block (not reported by the body-level lints). */
  inlined: Set<IrNode>;
}

export interface BodyResult {
  graph: GraphBuilder;
  bindings: PendingBinding[];
  /** Layers declared (or anonymous) at the top of this body, in source order. */
  layers: LayerInstance[];
  inlined: Set<IrNode>;
  errors: number;
  returned: Value[] | null;
}

const NO_NAMES: ReadonlySet<string> = new Set();

/** Most layers carry no buffers: they share this empty list (read-only). */
const NO_BUFFERS: readonly LayerBuffer[] = Object.freeze([]);

const SHAPE_KEEPING = new Set(['reshape', 'flatten', 'transpose', 'concat', 'detach', 'dropout']);

function isInt(n: number): boolean {
  return Number.isInteger(n);
}

/** Dims beyond this are refused, so dim arithmetic stays within exact integers. */
const MAX_DIM = 2 ** 31;

function isDimValue(n: number): boolean {
  return isInt(n) && Math.abs(n) <= MAX_DIM;
}

/** Shared values for small integers (values are never mutated): every layer size and axis is one. */
const SMALL_NUMBERS: NumberValue[] = [];
const SMALL_NUMBER_LIMIT = 1024;

function num(value: number): NumberValue {
  const small = isInt(value) && value >= -1 && value <= SMALL_NUMBER_LIMIT && !Object.is(value, -0);
  if (small && SMALL_NUMBERS[value + 1] !== undefined) return SMALL_NUMBERS[value + 1];
  const made: NumberValue = { kind: 'number', value, dim: isDimValue(value) ? Dim.of(value) : null };
  if (small) SMALL_NUMBERS[value + 1] = made;
  return made;
}

function symbolic(dim: Dim): NumberValue {
  return { kind: 'number', value: dim.constant(), dim };
}

export class ShapeChecker {
  /** The file's constants as values, built once; scopes start from a copy. */
  private readonly consts: ReadonlyMap<string, Value>;
  /** A fn's signature depends only on constants, so each is evaluated once. */
  private readonly fnSignatures = new Map<FnItem, Signature>();
  /** A block's signature depends only on constants and its hyper-parameters: evaluated at its first use. */
  private readonly blockSignatures = new Map<BlockInstance, Signature>();

  constructor(private readonly ctx: CheckContext) {
    const consts = new Map<string, Value>();
    for (const [name, value] of ctx.symbols.constValues) consts.set(name, value === null ? UNKNOWN : num(value));
    this.consts = consts;
  }

  // -- reporting -------------------------------------------------------------------------

  private report(
    f: Frame,
    code: string,
    range: TextRange,
    args: readonly DiagnosticArg[],
    extras?: { related?: RelatedInfo[]; fixes?: Fix[] },
  ): void {
    f.errors++;
    if (!f.silent) this.ctx.diagnostics.push(makeDiagnostic(code, range, args, extras));
  }

  /** The source text of an expression, on one line and at most 40 characters. */
  textOf(expr: Expr | null): string {
    if (expr === null) return 'input';
    const text = this.ctx.text.slice(expr.range.start, expr.range.end).replace(/\s+/g, ' ').trim();
    return text.length > 40 ? `${text.slice(0, 37)}...` : text;
  }

  // -- signatures ------------------------------------------------------------------------

  /** Evaluates a signature shape: constants and the scope's names substituted, other names stay symbolic. */
  signatureShape(shape: ShapeSyntax | null, scope: Scope, f: Frame | null): PatternDim[] | null {
    if (shape === null) return null;
    const out: PatternDim[] = [];
    for (const dim of shape.dims) {
      if (dim.kind === 'variadic') out.push({ variadic: dim.name.name });
      else out.push(this.dimOf(dim.expr, scope, f) ?? Dim.named(this.textOf(dim.expr)));
    }
    return out;
  }

  /** A dim expression: names from the scope, free names symbolic, `/` is floor division. */
  private dimOf(expr: Expr, scope: Scope, f: Frame | null): Dim | null {
    switch (expr.kind) {
      case 'number':
        if (isDimValue(expr.value)) return Dim.of(expr.value);
        if (f) this.report(f, 'NN2003', expr.range, ['shape', `a dim must be an integer of at most 2^31, got ${expr.text}`]);
        return null;
      case 'name': {
        const value = scope.get(expr.name);
        if (value === undefined) return Dim.named(expr.name);
        if (value.kind === 'number' && value.dim) return value.dim;
        if (value.kind === 'unknown') return null;
        if (f) this.report(f, 'NN2003', expr.range, ['shape', `\`${expr.name}\` is not an integer`]);
        return null;
      }
      case 'paren':
        return this.dimOf(expr.inner, scope, f);
      case 'unary': {
        const d = this.dimOf(expr.operand, scope, f);
        return d && d.scale(-1);
      }
      case 'binary': {
        const a = this.dimOf(expr.left, scope, f);
        const b = this.dimOf(expr.right, scope, f);
        if (a === null || b === null) return null;
        if (expr.op === '+') return a.add(b);
        if (expr.op === '-') return a.sub(b);
        if (expr.op === '*') return a.mul(b);
        if (expr.op === '/' && !b.equals(0)) return a.floorDiv(b);
        if (f) this.report(f, 'NN2003', expr.range, ['shape', `\`${expr.op}\` is not a dim operation`]);
        return null;
      }
      case 'error':
        return null;
      default:
        if (f) this.report(f, 'NN2003', expr.range, ['shape', 'a dim must be an integer expression']);
        return null;
    }
  }

  signature(item: ModelItem | FnItem, scope: Scope, f: Frame | null): Signature {
    return {
      inputs: item.inputs.map((input) => ({
        name: input.name,
        pattern: this.signatureShape(input.shape, scope, f) ?? [],
        dtype: input.shape?.isInt ? 'int64' : 'float32',
        syntax: input,
      })),
      output: this.signatureShape(item.output, scope, f),
    };
  }

  /** A scope with the file's constants. */
  constScope(): Scope {
    return new Scope(this.consts);
  }

  // -- models ----------------------------------------------------------------------------

  private newFrame(owner: string, graph: GraphBuilder, scope: Scope, extra: Partial<Frame> = {}): Frame {
    return {
      owner,
      graph,
      scope,
      anonymous: new Map(),
      silent: false,
      prefix: '',
      stack: [owner],
      inFn: false,
      hyperParams: NO_NAMES,
      errors: 0,
      bindings: [],
      layers: [],
      inlined: new Set(),
      ...extra,
    };
  }

  /** Checks a model on its own: hyper-parameters and shape names symbolic. */
  checkModel(model: ModelItem): BodyResult & { signature: Signature } {
    const scope = this.constScope();
    for (const hp of model.hyperParams) scope.set(hp.name, symbolic(Dim.named(hp.name)));
    const f = this.newFrame(model.name.name, new GraphBuilder(), scope, { hyperParams: new Set(model.hyperParams.map((hp) => hp.name)) });
    const signature = this.signature(model, scope, f);
    this.bindInputs(signature, f);
    this.createLayers(model.body.stmts, f);
    const returned = this.evalBody(model.body.stmts, f);
    this.finishBody(model, signature.output, returned, f);
    return { ...this.result(f, returned), signature };
  }

  private result(f: Frame, returned: Value[] | null): BodyResult {
    return { graph: f.graph, bindings: f.bindings, layers: f.layers, inlined: f.inlined, errors: f.errors, returned };
  }

  /** Makes graph inputs for a signature's inputs; their free dim names become symbolic names in scope. */
  private bindInputs(signature: Signature, f: Frame): TensorValue[] {
    const values: TensorValue[] = [];
    for (const input of signature.inputs) {
      const shape = input.pattern.map((d) => (d instanceof Dim ? d : Dim.named(`*${d.variadic}`)));
      for (const d of shape) {
        if (d.isConstant()) continue;
        const single = d.singleName();
        if (single !== null) {
          if (!f.scope.has(single)) f.scope.set(single, symbolic(d));
          continue;
        }
        for (const name of d.names()) if (!f.scope.has(name)) f.scope.set(name, symbolic(Dim.named(name)));
      }
      const id = f.graph.addValue(shape, input.dtype, input.syntax.range, input.name.name);
      f.graph.inputs.push(id);
      const value: TensorValue = { kind: 'tensor', id, shape, dtype: input.dtype };
      values.push(value);
    }
    signature.inputs.forEach((input, k) => f.scope.set(input.name.name, values[k]));
    return values;
  }

  /** Checks the returned value against the declared output and sets the graph output. */
  private finishBody(item: ModelItem | FnItem, output: PatternDim[] | null, returned: Value[] | null, f: Frame): void {
    if (returned === null) {
      this.report(f, 'NN2006', item.name.range, [item.name.name]);
      return;
    }
    const returnStmt = item.body.stmts.find((s): s is Stmt & { kind: 'return' } => s.kind === 'return')!;
    const value = this.asTensor(returned[0], f, returnStmt.values[0].range);
    if (value === null) {
      this.report(f, 'NN2003', returnStmt.values[0].range, ['return', 'a model or fn returns a tensor']);
      return;
    }
    f.graph.output = value.id;
    if (returned.length > 1) this.report(f, 'NN2003', returnStmt.values[1].range, ['return', 'a model or fn returns one tensor']);
    if (output === null || value.shape === null) return;
    const declared = output.map((d) => (d instanceof Dim ? d : Dim.named(`*${d.variadic}`)));
    if (!shapesEqual(value.shape, declared)) {
      this.report(f, 'NN2110', returnStmt.values[0].range, [formatShape(value.shape), formatShape(declared)], {
        related: item.output ? [{ range: item.output.range, message: `\`${item.name.name}\` declares the output shape ${formatShape(declared)} here` }] : [],
      });
    }
  }

  // -- fns -------------------------------------------------------------------------------

  /** Checks a fn's forward body and its `grad` block (NN3001, NN3002). */
  checkFn(fn: FnItem): {
    forward: BodyResult;
    backward: (BodyResult & { gradOutputs: ValueId[]; gradShapes: (Shape | null)[] }) | null;
    signature: Signature;
  } {
    const scope = this.constScope();
    const f = this.newFrame(fn.name.name, new GraphBuilder(), scope, { inFn: true });
    const signature = this.signature(fn, scope, f);
    const inputs = this.bindInputs(signature, f);
    this.createLayers(fn.body.stmts, f);
    const returned = this.evalBody(fn.body.stmts, f);
    this.finishBody(fn, signature.output, returned, f);
    const forward = this.result(f, returned);
    if (fn.grad === null) return { forward, backward: null, signature };

    const gradScope = this.constScope();
    const g = this.newFrame(fn.name.name, new GraphBuilder(), gradScope, { inFn: true });
    this.bindInputs(signature, g);
    const upstreamShape = signature.output?.map((d) => (d instanceof Dim ? d : Dim.named(`*${d.variadic}`))) ?? null;
    const upstreamId = g.graph.addValue(upstreamShape, 'float32', fn.grad.upstream.range, fn.grad.upstream.name);
    g.graph.inputs.push(upstreamId);
    g.scope.set(fn.grad.upstream.name, { kind: 'tensor', id: upstreamId, shape: upstreamShape, dtype: 'float32' });
    this.createLayers(fn.grad.body.stmts, g);
    const gradReturned = this.evalBody(fn.grad.body.stmts, g);
    const gradOutputs: ValueId[] = [];
    const gradShapes: (Shape | null)[] = [];
    const returnStmt = fn.grad.body.stmts.find((s): s is Stmt & { kind: 'return' } => s.kind === 'return');
    if (gradReturned === null || returnStmt === undefined) {
      this.report(g, 'NN2006', fn.grad.upstream.range, [`grad of ${fn.name.name}`]);
    } else {
      if (gradReturned.length !== inputs.length) {
        this.report(g, 'NN3001', returnStmt.range, [fn.name.name, gradReturned.length, inputs.length], {
          related: [{ range: fn.name.range, message: `\`${fn.name.name}\` takes ${inputs.length} input(s): ${fn.inputs.map((i) => i.name.name).join(', ')}` }],
        });
      }
      gradReturned.forEach((value, k) => {
        const expr = returnStmt.values[k];
        const tensor = this.asTensor(value, g, expr.range);
        gradShapes.push(tensor?.shape ?? null);
        if (tensor) gradOutputs.push(tensor.id);
        const input = inputs[k];
        if (!tensor || !input || tensor.shape === null || input.shape === null) return;
        if (!shapesEqual(tensor.shape, input.shape)) {
          const name = fn.inputs[k].name.name;
          const fix = this.gradientSumFix(expr, tensor.shape, input.shape);
          this.report(g, 'NN3002', expr.range, [name, formatShape(tensor.shape), formatShape(input.shape), fix ? `; sum over the broadcast axes: ${fix.newText}` : ''], {
            related: [{ range: fn.inputs[k].range, message: `\`${name}\` is declared with shape ${formatShape(input.shape)} here` }],
            fixes: fix ? [{ title: `Sum the gradient to \`${name}\`'s shape: ${fix.newText}`, edits: [fix] }] : [],
          });
        }
      });
    }
    return { forward, backward: { ...this.result(g, gradReturned), gradOutputs, gradShapes }, signature };
  }

  /** The edit that sums a gradient over the axes its input was broadcast along, when that recovers the input's shape. */
  private gradientSumFix(expr: Expr, grad: Shape, input: Shape): TextEdit | null {
    if (grad.length < input.length) return null;
    const extra = grad.length - input.length;
    let text = this.ctx.text.slice(expr.range.start, expr.range.end);
    let shape = [...grad];
    for (let k = 0; k < extra; k++) {
      text = `sum(${text}, 0)`;
      shape = shape.slice(1);
    }
    for (let k = 0; k < input.length; k++) {
      if (input[k].constant() === 1 && !shape[k].equals(1)) {
        text = `sum(${text}, ${k}, keepdims = true)`;
        shape[k] = Dim.of(1);
      }
    }
    return shapesEqual(shape, input) ? { range: expr.range, newText: text } : null;
  }

  // -- layers ----------------------------------------------------------------------------

  /** Creates the layers a body declares and its anonymous layers, before the body runs. */
  private createLayers(stmts: readonly Stmt[], f: Frame): void {
    for (const stmt of stmts) {
      const call = declarationCall(this.ctx.symbols, stmt);
      if (call === null || stmt.kind !== 'assign') continue;
      if (f.inFn) {
        this.report(f, 'NN2003', call.range, [this.textOf(call.callee), 'a fn has no parameters or layers; declare them in a model and pass them in']);
        f.scope.set(stmt.target.name, UNKNOWN);
        continue;
      }
      const layer = this.createLayer(call, stmt.target.name, stmt.range, f);
      if (layer === null) f.scope.set(stmt.target.name, UNKNOWN);
      else if (layer.ctor === 'param') f.scope.set(stmt.target.name, { kind: 'tensor', id: layer.params[0].value, shape: layer.params[0].shape, dtype: 'float32' });
      else f.scope.set(stmt.target.name, { kind: 'layer', layer });
    }
    for (const [call, name] of anonymousLayers(this.ctx.symbols, stmts)) {
      if (call.kind !== 'call') continue;
      if (f.inFn) {
        this.report(f, 'NN2003', call.range, [this.textOf(call.callee), 'a fn has no parameters or layers; declare them in a model and pass them in']);
        continue;
      }
      const layer = this.createLayer(call, name, call.range, f);
      if (layer) f.anonymous.set(call, layer);
    }
  }

  /**
   * Evaluates a call's arguments after `piped` (the input of a pipe stage, if any). With
   * `param`, its init argument (a name like `zeros`) is kept as syntax only.
   */
  private evalArgs(call: Expr & { kind: 'call' }, f: Frame, piped: ArgIn | null = null, isParam = false): ArgIn[] {
    const first = piped ? 1 : 0;
    const args: ArgIn[] = new Array(first + call.args.length);
    if (piped) args[0] = piped;
    for (let k = 0; k < call.args.length; k++) {
      const a = call.args[k];
      const unevaluated = isParam && (a.name?.name === 'init' || (a.name === null && k === 1));
      args[first + k] = { name: a.name, value: unevaluated ? UNKNOWN : this.evalExpr(a.value, f), expr: a.value, range: a.range };
    }
    return args;
  }

  private createLayer(call: Expr & { kind: 'call' }, localName: string, declarationRange: TextRange, f: Frame): LayerInstance | null {
    const ctor = (call.callee as { name: string }).name;
    const name = f.prefix + localName;
    const layer: LayerInstance = {
      name,
      localName,
      ctor,
      ctorRange: call.range,
      declarationRange,
      args: {},
      dims: {},
      argRanges: {},
      params: [],
      buffers: NO_BUFFERS,
      block: null,
      callRanges: [],
      inShape: null,
      outShape: null,
      nodes: null,
      applied: false,
    };
    const args = this.evalArgs(call, f, null, ctor === 'param');
    if (ctor === 'param') return this.createParam(layer, args, call, f);
    const model = this.ctx.symbols.models.get(ctor);
    const spec: FunctionSpec = model ? { params: model.hyperParams.map((hp) => ({ name: hp.name, kind: 'int' })) } : layerCtor(ctor)!;
    const bound = this.bindArgs(spec, args, ctor, call.range, f);
    if (bound === null) return null;
    for (const p of spec.params) {
      const arg = bound.get(p.name);
      if (arg) layer.argRanges[p.name] = arg.expr?.range ?? arg.range;
      if (p.kind === 'int') {
        const dim = this.intDim(arg, p, ctor, f);
        if (dim === null || !this.isSize(dim, arg?.range ?? call.range, ctor, p.name, f)) return null;
        layer.dims[p.name] = dim;
        const value = dim.constant();
        if (value !== null) layer.args[p.name] = value;
        const least = p.name === 'padding' ? 0 : 1;
        if (value !== null && value < least && !model) {
          this.report(f, 'NN2003', arg?.range ?? call.range, [ctor, `\`${p.name}\` must be at least ${least}, got ${value}`]);
          return null;
        }
      } else if (p.kind === 'bool') {
        const flag = this.boolOf(arg, p, ctor, f);
        if (flag === null) return null;
        layer.args[p.name] = flag;
      }
    }
    if (model) return this.createBlock(layer, model, f);
    const shapes = layerShapes(ctor, layer.dims, { bias: layer.args.bias !== false });
    layer.params = shapes.params.map((p) => this.addParam(`${name}.${p.suffix}`, p.shape, p.init, layer, f));
    if (shapes.buffers.length > 0) {
      layer.buffers = shapes.buffers.map((b) => {
        const bufferName = `${name}.${b.suffix}`;
        const value = f.graph.addValue(b.shape, 'float32', call.range, bufferName);
        f.graph.buffers.push({ buffer: { name: bufferName, shape: concreteOrEmpty(b.shape), init: b.init, layer: name }, value });
        return { name: bufferName, shape: b.shape, init: b.init, value };
      });
    }
    f.layers.push(layer);
    return layer;
  }

  /**
   * A layer size or `param` dim is a constant or the model's hyper-parameters: never a dim of
   * its input (`LayerNorm(W)` for `x: [B, C, H, W]`), since parameters have one shape for
   * every input. Inlined blocks were checked where their hyper-parameters got values.
   */
  private isSize(dim: Dim, range: TextRange, callee: string, what: string, f: Frame): boolean {
    if (f.silent) return true;
    const inputDim = [...dim.names()].find((n) => !f.hyperParams.has(n));
    if (inputDim === undefined) return true;
    this.report(f, 'NN2003', range, [callee, `\`${what}\` must be a constant${f.hyperParams.size > 0 ? ' or a hyper-parameter' : ''}, not \`${dim}\`: \`${inputDim}\` is a dim of the input, and parameters have one shape for every input`]);
    return false;
  }

  private addParam(name: string, shape: Shape, init: InitSpec, layer: LayerInstance, f: Frame): LayerInstance['params'][number] {
    const value = f.graph.addValue(shape, 'float32', layer.ctorRange, name);
    f.graph.params.push({ param: { name, shape: concreteOrEmpty(shape), init, range: layer.ctorRange, layer: layer.name }, value });
    return { name, shape, init, value };
  }

  private createParam(layer: LayerInstance, args: ArgIn[], call: Expr & { kind: 'call' }, f: Frame): LayerInstance | null {
    const bound = this.bindArgs(PARAM_SPEC, args, 'param', call.range, f);
    if (bound === null) return null;
    const shape = this.dimsOf(bound.get('shape'), 'param', call.range, f);
    if (shape === null || !shape.every((d) => this.isSize(d, bound.get('shape')?.range ?? call.range, 'param', 'shape', f))) return null;
    const initArg = bound.get('init');
    let init: InitSpec;
    const concrete = concreteOrEmpty(shape);
    const fanIn = concrete.length >= 2 ? concrete.slice(1).reduce((a, b) => a * b, 1) : (concrete[0] ?? 1);
    const fanOut = concrete.length >= 2 ? concrete[0] * concrete.slice(2).reduce((a, b) => a * b, 1) : (concrete[0] ?? 1);
    const initExpr = initArg?.expr ?? null;
    const initName = initExpr?.kind === 'name' ? initExpr.name : initExpr?.kind === 'call' && initExpr.callee.kind === 'name' ? initExpr.callee.name : 'kaiming_uniform';
    if (!INITS.has(initName)) {
      this.report(f, 'NN2003', initArg?.range ?? call.range, ['param', `unknown init \`${this.textOf(initExpr)}\`; use kaiming_uniform, xavier_uniform, zeros, ones or normal(std)`]);
      return null;
    }
    if (initName === 'normal') {
      const stdExpr = initExpr?.kind === 'call' ? initExpr.args[0]?.value : undefined;
      const std = stdExpr ? this.evalExpr(stdExpr, f) : num(1);
      if (std.kind !== 'number' || std.value === null || !(std.value > 0)) {
        this.report(f, 'NN2003', initArg?.range ?? call.range, ['normal', 'the standard deviation must be a positive number: normal(0.02)']);
        return null;
      }
      init = { kind: 'normal', std: std.value };
    } else if (initName === 'kaiming_uniform') init = { kind: 'kaiming_uniform', fanIn };
    else if (initName === 'xavier_uniform') init = { kind: 'xavier_uniform', fanIn, fanOut };
    else init = { kind: initName as 'zeros' | 'ones' };
    layer.params.push(this.addParam(layer.name, shape, init, layer, f));
    f.layers.push(layer);
    return layer;
  }

  /** A model used as a layer: its hyper-parameters bound, the layers of its body created with a prefix. */
  private createBlock(layer: LayerInstance, model: ModelItem, f: Frame): LayerInstance | null {
    if (this.ctx.symbols.recursiveModels.has(model.name.name) || f.stack.includes(model.name.name)) return null;
    const hyperParams = new Map<string, Value>();
    for (const hp of model.hyperParams) hyperParams.set(hp.name, symbolic(layer.dims[hp.name]));
    const scope = this.constScope();
    for (const [k, v] of hyperParams) scope.set(k, v);
    const inner = this.newFrame(model.name.name, f.graph, scope, {
      silent: true,
      prefix: `${layer.name}.`,
      stack: [...f.stack, model.name.name],
    });
    this.createLayers(model.body.stmts, inner);
    const layers = new Map<string, Value>();
    for (const stmt of model.body.stmts) {
      if (declarationCall(this.ctx.symbols, stmt) && stmt.kind === 'assign') layers.set(stmt.target.name, inner.scope.get(stmt.target.name) ?? UNKNOWN);
    }
    layer.block = { model, hyperParams, layers, anonymous: inner.anonymous };
    layer.params = inner.layers.flatMap((l) => l.params);
    layer.buffers = inner.layers.flatMap((l) => l.buffers);
    f.layers.push(layer);
    return layer;
  }

  /** Applies a layer to its arguments (`fc1(h)`, `h |> fc1`). */
  private applyLayer(layer: LayerInstance, args: ArgIn[], range: TextRange, f: Frame): Value {
    if (!f.silent) {
      // Most layers are applied once: a one-element array rather than one grown by `push`.
      if (layer.callRanges.length === 0) layer.callRanges = [range];
      else layer.callRanges.push(range);
    }
    if (layer.block) return this.applyBlock(layer, args, range, f);
    if (layer.ctor === 'param') {
      this.report(f, 'NN2003', range, [layer.localName, 'a `param` is a tensor, not a layer; use it in an expression']);
      return this.placeholder(f, null, range, [...args, ...layer.params.map(paramTensor)]);
    }
    if (args.length !== 1 || args[0].name !== null) {
      this.report(f, 'NN2003', range, [layer.localName, `a layer takes one input, got ${args.length}`]);
      return this.placeholder(f, null, range, [...args, ...layer.params.map(paramTensor)]);
    }
    const input = this.asTensor(args[0].value, f, args[0].range);
    if (input === null) {
      this.report(f, 'NN2003', args[0].range, [layer.localName, `its input must be a tensor, got ${describeValue(args[0].value)}`]);
      return this.placeholder(f, null, range, [...args, ...layer.params.map(paramTensor)]);
    }
    const op = layerCtor(layer.ctor)!.op as OpName;
    const inputs: TensorValue[] = new Array(1 + layer.params.length + layer.buffers.length);
    inputs[0] = input;
    for (let k = 0; k < layer.params.length; k++) inputs[1 + k] = paramTensor(layer.params[k]);
    for (let k = 0; k < layer.buffers.length; k++) inputs[1 + layer.params.length + k] = paramTensor(layer.buffers[k]);
    if (layer.ctor === 'Embedding' && input.dtype !== 'int64' && input.shape !== null) {
      this.report(f, 'NN2111', args[0].range, ['Embedding', 'int token ids (declare the input as `int[...]`)', this.textOf(args[0].expr), formatShape(input.shape)]);
    }
    const result = this.applyOp(f, op, inputs, layerAttrs(layer), range, { layer, texts: [args[0].expr], dtype: 'float32' });
    if (!layer.applied) {
      layer.applied = true;
      layer.inShape = input.shape;
      layer.outShape = result.shape;
      layer.nodes = { from: f.graph.nodes.length - 1, to: f.graph.nodes.length };
    }
    return result;
  }

  /** For NN2103/NN2104 at a layer: where its input size is declared, and the fix that makes it fit. */
  private layerSizeDetails(layer: LayerInstance, code: string, shape: Shape | null): { related?: RelatedInfo[]; fixes?: Fix[] } {
    const argRange = layer.argRanges.in ?? layer.argRanges.c ?? layer.argRanges.f;
    const normSize = code === 'NN2111' && (layer.ctor === 'LayerNorm' || layer.ctor === 'BatchNorm1d');
    if ((code !== 'NN2103' && code !== 'NN2104' && !normSize) || argRange === undefined || shape === null) return {};
    const actual = code === 'NN2103' || layer.ctor === 'LayerNorm' ? shape[shape.length - 1] : shape[1];
    const what = code === 'NN2103' ? 'in_features' : layer.ctor === 'Conv2d' ? 'in_channels' : layer.ctor === 'LayerNorm' ? 'normalized_shape' : 'num_features';
    const declared = this.ctx.text.slice(argRange.start, argRange.end);
    const related = [{ range: argRange, message: `\`${layer.localName}\` is declared with ${what} ${declared} here` }];
    const value = actual?.constant();
    const fixes: Fix[] = value !== null && value !== undefined ? [{ title: `Change ${what} to ${value}`, edits: [{ range: argRange, newText: String(value) }] }] : [];
    return { related, fixes };
  }

  private applyBlock(layer: LayerInstance, args: ArgIn[], range: TextRange, f: Frame): Value {
    const block = layer.block!;
    const model = block.model;
    const scope = this.constScope();
    for (const [k, v] of block.hyperParams) scope.set(k, v);
    let signature = this.blockSignatures.get(block);
    if (signature === undefined) {
      signature = this.signature(model, scope, null);
      this.blockSignatures.set(block, signature);
    }
    if (args.length !== signature.inputs.length || args.some((a) => a.name !== null)) {
      this.report(f, 'NN2003', range, [layer.localName, `\`${model.name.name}\` takes ${signature.inputs.length} input(s), got ${args.length}`]);
      return this.placeholder(f, null, range, [...args, ...layer.params.map(paramTensor)]);
    }
    const bindings = new Map<string, Dim>();
    const variadics = new Map<string, Dim[]>();
    const inputs: TensorValue[] = [];
    let fits = true;
    for (let k = 0; k < args.length; k++) {
      const tensor = this.asTensor(args[k].value, f, args[k].range);
      if (tensor === null) {
        this.report(f, 'NN2003', args[k].range, [layer.localName, `its input must be a tensor, got ${describeValue(args[k].value)}`]);
        return this.placeholder(f, null, range, [...args, ...layer.params.map(paramTensor)]);
      }
      inputs.push(tensor);
      if (tensor.shape === null) fits = false;
      else if (!unify(signature.inputs[k].pattern, tensor.shape, bindings, variadics)) {
        fits = false;
        this.reportSignatureMismatch(f, model.name.name, signature.inputs[k], args[k], tensor.shape, bindings, variadics);
      }
    }
    const inner = this.newFrame(model.name.name, f.graph, scope, {
      silent: true,
      prefix: `${layer.name}.`,
      stack: [...f.stack, model.name.name],
      anonymous: block.anonymous,
      inlined: f.inlined,
    });
    for (const [name, dim] of bindings) if (!scope.has(name)) scope.set(name, symbolic(dim));
    signature.inputs.forEach((input, k) => scope.set(input.name.name, inputs[k]));
    for (const [name, value] of block.layers) scope.set(name, value);
    const firstNode = f.graph.nodes.length;
    const returned = this.evalBody(model.body.stmts, inner);
    const lastNode = f.graph.nodes.length;
    for (let k = firstNode; k < lastNode; k++) f.inlined.add(f.graph.nodes[k]);
    // An input that is unknown or does not fit: the block gives its declared output where the
    // inputs bound its names, else an unknown shape (no follow-on error either way).
    const declared = signature.output === null ? null : fits ? substitutePattern(signature.output, bindings, variadics) : boundShape(signature.output, bindings, variadics);
    const value = returned ? this.asTensor(returned[0], inner, range) : null;
    const shape = fits ? (value?.shape ?? declared) : declared;
    if (!layer.applied) {
      layer.applied = true;
      layer.inShape = inputs[0]?.shape ?? null;
      layer.outShape = shape;
      layer.nodes = { from: firstNode, to: lastNode };
    }
    if (value === null) return this.placeholder(f, declared, range);
    return { kind: 'tensor', id: value.id, shape, dtype: value.dtype };
  }

  private reportSignatureMismatch(
    f: Frame,
    callee: string,
    input: Signature['inputs'][number],
    arg: ArgIn,
    actual: Shape,
    bindings: Map<string, Dim>,
    variadics: Map<string, Dim[]>,
  ): void {
    const expected = formatPattern(input.pattern, bindings, variadics);
    this.report(f, 'NN2005', arg.expr?.range ?? arg.range, [callee, input.name.name, expected, this.textOf(arg.expr), formatShape(actual)], {
      related: [{ range: input.syntax.range, message: `\`${input.name.name}\` is declared here` }],
    });
  }

  // -- bodies ----------------------------------------------------------------------------

  /** Evaluates statements in order; the returned values, or null when there is no `return`. */
  private evalBody(stmts: readonly Stmt[], f: Frame): Value[] | null {
    for (const stmt of stmts) {
      if (stmt.kind === 'assign') {
        if (declarationCall(this.ctx.symbols, stmt)) continue;
        const value = this.evalExpr(stmt.value, f);
        f.scope.set(stmt.target.name, value);
        if (!f.silent && value.kind === 'tensor') {
          f.bindings.push({ owner: f.owner, name: stmt.target.name, range: stmt.target.range, hintOffset: stmt.value.range.end, value: value.id, shape: value.shape });
        }
      } else if (stmt.kind === 'return') {
        return stmt.values.map((v) => this.evalExpr(v, f));
      } else if (stmt.kind === 'expr') {
        this.evalExpr(stmt.expr, f);
      } else {
        f.errors++;
      }
    }
    return null;
  }

  // -- expressions -----------------------------------------------------------------------

  evalExpr(expr: Expr, f: Frame): Value {
    switch (expr.kind) {
      case 'number':
        return num(expr.value);
      case 'string':
        return { kind: 'string', value: expr.value };
      case 'bool':
        return { kind: 'bool', value: expr.value };
      case 'paren':
        return this.evalExpr(expr.inner, f);
      case 'list':
        return { kind: 'list', items: expr.items.map((item) => this.evalExpr(item, f)) };
      case 'name':
        return this.lookup(expr.name, expr.range, f);
      case 'unary': {
        const operand = this.evalExpr(expr.operand, f);
        if (operand.kind === 'number') return { kind: 'number', value: operand.value === null ? null : -operand.value, dim: operand.dim && operand.dim.scale(-1) };
        const tensor = this.asTensor(operand, f, expr.range);
        if (tensor === null) return this.kindError(f, expr.range, '-', operand);
        return this.applyOp(f, 'neg', [tensor], {}, expr.range, { texts: [expr.operand] });
      }
      case 'binary':
        return this.evalBinary(expr, f);
      case 'call':
        return this.evalCall(expr, null, f);
      case 'pipe':
        return this.evalPipe(expr, f);
      case 'error':
        f.errors++;
        return UNKNOWN;
    }
  }

  private lookup(name: string, range: TextRange, f: Frame): Value {
    const local = f.scope.get(name);
    if (local !== undefined) return local;
    const symbols = this.ctx.symbols;
    if (symbols.fns.has(name) || builtinFunction(name) !== undefined || symbols.models.has(name) || layerCtor(name) !== undefined) {
      return { kind: 'callable', name };
    }
    this.report(f, 'NN2001', range, [name]);
    return UNKNOWN;
  }

  private kindError(f: Frame, range: TextRange, what: string, value: Value): Value {
    if (!isVague(value)) this.report(f, 'NN2003', range, [what, `expected a tensor or a number, got ${describeValue(value)}`]);
    return UNKNOWN;
  }

  private evalBinary(expr: Expr & { kind: 'binary' }, f: Frame): Value {
    const left = this.evalExpr(expr.left, f);
    const right = this.evalExpr(expr.right, f);
    if (left.kind === 'number' && right.kind === 'number') return numberArithmetic(expr.op, left, right);
    const texts = [expr.left, expr.right];
    if (expr.op === '**') {
      const base = this.asTensor(left, f, expr.left.range);
      if (base === null) return this.kindError(f, expr.left.range, '**', left);
      if (right.kind === 'unknown') return this.placeholder(f, base.shape, expr.range);
      if (right.kind !== 'number' || right.value === null) {
        this.report(f, 'NN2003', expr.right.range, ['**', 'the exponent must be a number']);
        return this.placeholder(f, base.shape, expr.range);
      }
      return this.applyOp(f, 'pow', [base], { exponent: right.value }, expr.range, { texts });
    }
    const op = ({ '+': 'add', '-': 'sub', '*': 'mul', '/': 'div', '@': 'matmul' } as const)[expr.op];
    const a = this.asTensor(left, f, expr.left.range);
    const b = this.asTensor(right, f, expr.right.range);
    if (op === 'matmul') {
      if (a === null) return this.kindError(f, expr.left.range, '@', left);
      if (b === null) return this.kindError(f, expr.right.range, '@', right);
      return this.applyOp(f, 'matmul', [a, b], {}, expr.range, { texts });
    }
    if (a !== null && b !== null) return this.applyOp(f, op, [a, b], {}, expr.range, { texts });
    const tensor = a ?? b;
    const scalar = a === null ? left : right;
    if (tensor === null) return this.kindError(f, expr.range, expr.op, left.kind === 'number' ? right : left);
    if (scalar.kind === 'unknown') return this.placeholder(f, tensor.shape, expr.range);
    if (scalar.kind !== 'number' || scalar.value === null) {
      this.report(f, 'NN2003', a === null ? expr.left.range : expr.right.range, [expr.op, `expected a tensor or a number, got ${describeValue(scalar)}`]);
      return this.placeholder(f, tensor.shape, expr.range);
    }
    const attrs: Record<string, AttrValue> = { scalar: scalar.value };
    if (a === null) attrs.scalarFirst = true;
    return this.applyOp(f, op, [tensor], attrs, expr.range, { texts: [a === null ? texts[1] : texts[0]] });
  }

  private evalPipe(expr: Expr & { kind: 'pipe' }, f: Frame): Value {
    const input = this.evalExpr(expr.left, f);
    const piped: ArgIn = { name: null, value: input, expr: expr.left, range: expr.left.range };
    const stage = expr.stage;
    let result: Value;
    if (stage.kind === 'call' && stage.callee.kind === 'name' && !f.anonymous.has(stage) && !this.isLocalLayer(stage.callee.name, f)) {
      result = this.evalCall(stage, piped, f, expr);
    } else {
      const callee = this.evalExpr(stage, f);
      result = this.callValue(callee, stage, [piped], stage.range, f, expr);
    }
    if (!f.silent && result.kind === 'tensor') {
      f.bindings.push({ owner: f.owner, name: this.textOf(stage), range: stage.range, hintOffset: stage.range.end, value: result.id, shape: result.shape });
    }
    return result;
  }

  private isLocalLayer(name: string, f: Frame): boolean {
    return f.scope.get(name)?.kind === 'layer';
  }

  /** Calls an evaluated callee (a layer, a built-in, a fn) with already evaluated arguments. */
  private callValue(callee: Value, calleeExpr: Expr, args: ArgIn[], range: TextRange, f: Frame, pipe: (Expr & { kind: 'pipe' }) | null): Value {
    if (callee.kind === 'layer') return this.applyLayer(callee.layer, args, range, f);
    if (isVague(callee)) return this.placeholder(f, null, range, [callee, ...args]);
    if (callee.kind === 'callable') {
      if (this.ctx.symbols.fns.has(callee.name)) return this.callFn(this.ctx.symbols.fns.get(callee.name)!, args, range, calleeExpr.range, f);
      const builtin = builtinFunction(callee.name);
      if (builtin) return this.callBuiltin(callee.name, builtin, args, range, calleeExpr.range, f, pipe);
      this.report(f, 'NN2003', calleeExpr.range, [callee.name, `\`${callee.name}\` is a layer constructor: call it with its arguments first, e.g. \`${callee.name}(...)\``]);
      return this.placeholder(f, null, range, args);
    }
    if (!isVague(callee)) this.report(f, 'NN2003', calleeExpr.range, [this.textOf(calleeExpr), `${describeValue(callee)} cannot be called`]);
    return this.placeholder(f, null, range, args);
  }

  private evalCall(call: Expr & { kind: 'call' }, piped: ArgIn | null, f: Frame, pipe: (Expr & { kind: 'pipe' }) | null = null): Value {
    const anonymous = f.anonymous.get(call);
    if (anonymous) {
      // `Linear(2, 16)` as a value (applied by an outer call or a pipe).
      if (piped) return this.applyLayer(anonymous, [piped], pipe?.stage.range ?? call.range, f);
      return { kind: 'layer', layer: anonymous };
    }
    const callee = call.callee;
    if (callee.kind === 'name') {
      const name = callee.name;
      if (name === 'param' || (this.ctx.symbols.models.has(name) && !f.scope.has(name)) || (layerCtor(name) !== undefined && !f.scope.has(name))) {
        // A constructor outside a declaration that created no layer (its arguments were wrong, or in a fn).
        if (name === 'param' && !f.silent && !f.inFn) this.report(f, 'NN2003', call.range, ['param', 'declare a parameter with a binding: `W = param([dims])`']);
        else f.errors++;
        return UNKNOWN;
      }
    }
    const calleeValue = callee.kind === 'name' ? this.lookup(callee.name, callee.range, f) : this.evalExpr(callee, f);
    const args = this.evalArgs(call, f, piped);
    if (calleeValue.kind === 'unknown') return this.placeholder(f, null, call.range, args);
    return this.callValue(calleeValue, callee, args, call.range, f, pipe);
  }

  // -- fn calls --------------------------------------------------------------------------

  private callFn(fn: FnItem, args: ArgIn[], range: TextRange, calleeRange: TextRange, f: Frame): Value {
    let signature = this.fnSignatures.get(fn);
    if (signature === undefined) {
      signature = this.signature(fn, this.constScope(), null);
      this.fnSignatures.set(fn, signature);
    }
    const spec: FunctionSpec = { params: fn.inputs.map((i) => ({ name: i.name.name, kind: 'tensor' })) };
    const bound = this.bindArgs(spec, args, fn.name.name, range, f);
    const declared = signature.output;
    if (bound === null) return this.placeholder(f, null, range, args);
    const bindings = new Map<string, Dim>();
    const variadics = new Map<string, Dim[]>();
    const inputs: TensorValue[] = [];
    let fits = true;
    let known = true;
    for (const input of signature.inputs) {
      const arg = bound.get(input.name.name)!;
      const tensor = this.asTensor(arg.value, f, arg.range);
      if (tensor === null) {
        if (!isVague(arg.value)) this.report(f, 'NN2003', arg.range, [fn.name.name, `\`${input.name.name}\` must be a tensor, got ${describeValue(arg.value)}`]);
        return this.placeholder(f, null, range, args);
      }
      inputs.push(tensor);
      if (tensor.shape === null) known = false;
      else if (!unify(input.pattern, tensor.shape, bindings, variadics)) {
        fits = false;
        this.reportSignatureMismatch(f, fn.name.name, input, arg, tensor.shape, bindings, variadics);
      }
    }
    // After a mismatch or an unknown argument the result has the declared shape where the
    // arguments bound its names, else it is unknown (it fits anything: no follow-on error).
    const outShape = declared === null ? null : fits && known ? substitutePattern(declared, bindings, variadics) : boundShape(declared, bindings, variadics);
    const output = f.graph.addNode('call_fn', valueIds(inputs), { fn: fn.name.name }, range, outShape, 'float32', fn.name.name);
    this.recordCall(f, fn.name.name, range, calleeRange, inputs, outShape);
    return { kind: 'tensor', id: output, shape: outShape, dtype: 'float32' };
  }

  private recordCall(f: Frame, callee: string, range: TextRange, calleeRange: TextRange, inputs: TensorValue[], out: Shape | null): void {
    if (f.silent) return;
    const shapes: (Shape | null)[] = new Array(inputs.length);
    for (let k = 0; k < inputs.length; k++) shapes[k] = inputs[k].shape;
    this.ctx.calls.push(new LazyCallInfo(f.owner, callee, range, calleeRange, shapes, out));
  }

  // -- built-in calls --------------------------------------------------------------------

  private callBuiltin(name: string, spec: FunctionSpec, args: ArgIn[], range: TextRange, calleeRange: TextRange, f: Frame, pipe: (Expr & { kind: 'pipe' }) | null): Value {
    const bound = this.bindArgs(spec, args, name, range, f);
    if (bound === null) return this.placeholder(f, null, range, args);
    const tensorArgs = tensorParams(spec);
    const inputs: TensorValue[] = [];
    const texts: (Expr | null)[] = [];
    for (const p of tensorArgs) {
      const arg = bound.get(p.name)!;
      const list = spec.variadicTensors && arg.value.kind === 'list' ? arg.value.items : null;
      for (let k = 0; k < (list ? list.length : 1); k++) {
        const item = list ? list[k] : arg.value;
        const tensor = this.asTensor(item, f, arg.range);
        if (tensor === null) {
          if (!isVague(item)) this.report(f, 'NN2003', arg.range, [name, `\`${p.name}\` must be a tensor, got ${describeValue(item)}`]);
          return this.placeholder(f, null, range, args);
        }
        inputs.push(tensor);
        texts.push(arg.expr);
      }
    }
    const attrs: Record<string, AttrValue> = {};
    let origin: TensorValue['origin'];
    switch (name) {
      case 'leaky_relu': {
        const slope = this.numberOf(bound.get('slope'), paramSpec(spec, 'slope'), name, f);
        if (slope === null || slope === undefined) return this.placeholder(f, inputs[0].shape, range, args);
        attrs.slope = slope;
        break;
      }
      case 'softmax':
      case 'log_softmax':
      case 'concat': {
        const axis = this.intOf(bound.get('axis'), paramSpec(spec, 'axis'), name, f);
        if (axis === null || axis === undefined) return this.placeholder(f, null, range, args);
        attrs.axis = axis;
        break;
      }
      case 'sum':
      case 'mean':
      case 'max': {
        const axis = this.intOf(bound.get('axis'), paramSpec(spec, 'axis'), name, f);
        if (axis === null) return this.placeholder(f, null, range, args);
        if (axis !== undefined) attrs.axis = axis;
        const keepdims = this.boolOf(bound.get('keepdims'), spec.params[2], name, f);
        if (keepdims === null) return this.placeholder(f, null, range, args);
        attrs.keepdims = keepdims;
        break;
      }
      case 'transpose': {
        const a = this.intOf(bound.get('a'), paramSpec(spec, 'a'), name, f);
        const b = this.intOf(bound.get('b'), paramSpec(spec, 'b'), name, f);
        if (a === null || b === null || a === undefined || b === undefined) return this.placeholder(f, null, range, args);
        Object.assign(attrs, { dim0: a, dim1: b });
        break;
      }
      case 'reshape': {
        const shape = this.dimsOf(bound.get('shape'), 'reshape', range, f);
        if (shape === null) return this.placeholder(f, null, range, args);
        if (shape.filter((d) => d.constant() === -1).length > 1) {
          this.report(f, 'NN2003', bound.get('shape')!.range, ['reshape', 'at most one dim may be -1']);
          return this.placeholder(f, null, range, args);
        }
        return this.applyReshape(inputs[0], shape, range, texts, f);
      }
      case 'flatten': {
        const start = this.intOf(bound.get('start'), paramSpec(spec, 'start'), name, f);
        const end = this.intOf(bound.get('end'), paramSpec(spec, 'end'), name, f);
        if (start === null || end === null || start === undefined || end === undefined) return this.placeholder(f, null, range, args);
        Object.assign(attrs, { start, end });
        if (inputs[0].shape) origin = { op: 'flatten', shape: inputs[0].shape };
        break;
      }
      case 'max_pool2d':
      case 'avg_pool2d': {
        const kernel = this.intOf(bound.get('k'), paramSpec(spec, 'k'), name, f);
        const stride = this.intOf(bound.get('stride'), paramSpec(spec, 'stride'), name, f);
        const padding = this.intOf(bound.get('padding'), paramSpec(spec, 'padding'), name, f);
        if (kernel === null || kernel === undefined || stride === null || padding === null || padding === undefined) return this.placeholder(f, null, range, args);
        for (const [key, v] of [['k', kernel], ['stride', stride ?? kernel]] as const) {
          if (v < 1) {
            this.report(f, 'NN2003', bound.get(key)?.range ?? range, [name, `\`${key}\` must be at least 1, got ${v}`]);
            return this.placeholder(f, null, range, args);
          }
        }
        Object.assign(attrs, { kernel, stride: stride ?? kernel, padding });
        break;
      }
      case 'dropout': {
        const p = this.numberOf(bound.get('p'), paramSpec(spec, 'p'), name, f);
        if (p === null || p === undefined) return this.placeholder(f, inputs[0].shape, range, args);
        if (p < 0 || p >= 1) {
          this.report(f, 'NN2003', bound.get('p')!.range, ['dropout', `\`p\` must be in [0, 1), got ${p}`]);
          return this.placeholder(f, inputs[0].shape, range, args);
        }
        attrs.p = p;
        break;
      }
      case 'cross_entropy':
        if (inputs[1].dtype !== 'int64' && inputs[1].shape !== null && inputs[0].shape !== null && inputs[1].shape.length !== inputs[0].shape.length) {
          this.report(f, 'NN2111', bound.get('labels')!.range, ['cross_entropy', 'int class labels', this.textOf(texts[1]), formatShape(inputs[1].shape)]);
        }
        break;
      default:
        break;
    }
    const dtype: DType = SHAPE_KEEPING.has(name) ? inputs[0].dtype : 'float32';
    const result = this.applyOp(f, name as OpName, inputs, attrs, range, { texts, dtype, origin });
    if ((name === 'softmax' || name === 'log_softmax') && !f.silent) {
      const node = f.graph.nodes[f.graph.nodes.length - 1];
      const x = bound.get('x')!;
      const edit: TextEdit = pipe
        ? { range: { start: pipe.left.range.end, end: pipe.range.end }, newText: '' }
        : { range, newText: this.ctx.text.slice(x.range.start, x.range.end) };
      this.ctx.softmaxRemovals.set(node, edit);
    }
    this.recordCall(f, name, range, calleeRange, inputs, result.kind === 'tensor' ? result.shape : null);
    return result;
  }

  private applyReshape(input: TensorValue, shape: Shape, range: TextRange, texts: (Expr | null)[], f: Frame): Value {
    // The IR keeps constant dims; a symbolic dim becomes -1 (inferred) when it is the only
    // unknown one, else 0 (copy the input's dim at that index, as ONNX Reshape does).
    const symbolicCount = shape.filter((d) => !d.isConstant()).length + shape.filter((d) => d.constant() === -1).length;
    const dims = shape.map((d, k) => {
      const value = d.constant();
      if (value !== null) return value;
      return symbolicCount === 1 ? -1 : input.shape && input.shape[k]?.equals(d) ? 0 : -1;
    });
    const origin: TensorValue['origin'] = input.shape ? { op: 'reshape', shape: input.shape } : undefined;
    return this.applyOp(f, 'reshape', [input], { dims, shape: formatShape(shape) }, range, { texts, dtype: input.dtype, origin, ruleAttrs: { shape } });
  }

  // -- applying one op -------------------------------------------------------------------

  /**
   * Runs the shape rule of `op`, reports its error (with the input's text, related
   * information and fixes), and appends the IR node. After an error the output takes the
   * shape the op would have produced, or an unknown shape: one mistake, one error.
   */
  private applyOp(
    f: Frame,
    op: OpName,
    inputs: TensorValue[],
    attrs: Record<string, AttrValue>,
    range: TextRange,
    options: {
      /** The input expressions, named in messages (their text is taken only when reporting). */
      texts?: (Expr | null)[];
      /** The layer applied: the node is named after it, and a size error points at its declaration. */
      layer?: LayerInstance;
      dtype?: DType;
      origin?: TensorValue['origin'];
      ruleAttrs?: Record<string, unknown>;
    } = {},
  ): TensorValue {
    let shape: Shape | null = null;
    const shapes: Shape[] = new Array(inputs.length);
    let known = true;
    for (let k = 0; k < inputs.length; k++) {
      const s = inputs[k].shape;
      if (s === null) known = false;
      else shapes[k] = s;
    }
    if (known) {
      const result = inferShape(op, shapes, (options.ruleAttrs ?? attrs) as OpAttrs[typeof op]);
      if ('error' in result) {
        const args = [...result.error.args];
        const textIndex = INPUT_TEXT_ARG[result.error.code];
        if (textIndex !== undefined) args[textIndex] = args[textIndex] === 'labels' ? this.textOf(options.texts?.[1] ?? null) : this.textOf(options.texts?.[0] ?? null);
        const originIndex = ORIGIN_ARG[result.error.code];
        const origin = inputs[0].origin;
        if (originIndex !== undefined && origin) args[originIndex] = ` (${origin.op} of ${formatShape(origin.shape)})`;
        this.report(f, result.error.code, range, args, options.layer && this.layerSizeDetails(options.layer, result.error.code, shapes[0]));
        shape = result.shape ?? null;
      } else {
        shape = result.shape;
      }
    }
    const dtype = options.dtype ?? 'float32';
    const output = f.graph.addNode(op, valueIds(inputs), attrs, range, shape, dtype, options.layer?.name);
    return options.origin ? { kind: 'tensor', id: output, shape, dtype, origin: options.origin } : { kind: 'tensor', id: output, shape, dtype };
  }

  /** A tensor of known or unknown shape standing for a value an error left undetermined. */
  private placeholder(f: Frame, shape: Shape | null, range: TextRange, from: readonly (Value | ArgIn)[] = []): TensorValue {
    f.errors++;
    // An `unknown` node keeps the edges from the inputs, so no parameter looks unused after an error.
    const inputs = from.map((v) => ('kind' in v ? v : v.value)).filter((v): v is TensorValue => v.kind === 'tensor');
    if (inputs.length === 0) return { kind: 'tensor', id: f.graph.addValue(shape, 'float32', range), shape, dtype: 'float32' };
    const output = f.graph.addNode('unknown', valueIds(inputs), {}, range, shape, 'float32');
    return { kind: 'tensor', id: output, shape, dtype: 'float32' };
  }

  /** The value as a tensor: unknown values become placeholders; numbers and others are not tensors. */
  private asTensor(value: Value, f: Frame, range: TextRange): TensorValue | null {
    if (value.kind === 'tensor') return value;
    if (value.kind === 'unknown') return this.placeholder(f, null, range);
    return null;
  }

  // -- argument binding ------------------------------------------------------------------

  /** Binds positional and keyword arguments to a spec's parameters (NN2003 on a mismatch). */
  private bindArgs(spec: FunctionSpec, args: ArgIn[], callee: string, range: TextRange, f: Frame): BoundArgs | null {
    const bound = new BoundArgs(spec.params);
    const params = spec.params;
    let positional = 0;
    const variadic: ArgIn[] = [];
    for (const arg of args) {
      if (arg.name === null) {
        if (spec.variadicTensors) {
          // `concat(a, b, 1)`: tensors (or one list of them) then the axis.
          if (arg.value.kind !== 'number') variadic.push(arg);
          else if (bound.has(params[1].name)) {
            this.report(f, 'NN2003', arg.range, [callee, `\`${params[1].name}\` is given twice`]);
            return null;
          } else bound.set(params[1].name, arg);
          continue;
        }
        const param = params[positional++];
        if (param === undefined) {
          this.report(f, 'NN2003', arg.range, [callee, `expected at most ${params.length} argument(s), got ${args.length}`]);
          return null;
        }
        if (bound.has(param.name)) {
          this.report(f, 'NN2003', arg.range, [callee, `\`${param.name}\` is given twice`]);
          return null;
        }
        bound.set(param.name, arg);
      } else {
        const key = arg.name.name;
        const param = params.find((p) => p.name === key || p.aliases?.includes(key));
        if (param === undefined) {
          this.report(f, 'NN2003', arg.name.range, [callee, `no argument named \`${key}\` (it takes ${params.map((p) => p.name).join(', ')})`]);
          return null;
        }
        if (bound.has(param.name)) {
          this.report(f, 'NN2003', arg.range, [callee, `\`${param.name}\` is given twice`]);
          return null;
        }
        bound.set(param.name, arg);
      }
    }
    if (spec.variadicTensors) {
      if (variadic.length === 1 && variadic[0].value.kind === 'list') bound.set(params[0].name, variadic[0]);
      else if (variadic.length > 0) {
        bound.set(params[0].name, { name: null, value: { kind: 'list', items: variadic.map((a) => a.value) }, expr: variadic[0].expr, range: { start: variadic[0].range.start, end: variadic[variadic.length - 1].range.end } });
      }
    }
    const missing = params.filter((p) => p.default === undefined && !bound.has(p.name));
    if (missing.length > 0) {
      this.report(f, 'NN2003', range, [callee, `missing ${missing.map((p) => `\`${p.name}\``).join(', ')}`]);
      return null;
    }
    return bound;
  }

  /** An integer dim argument (layer sizes may be symbolic hyper-parameters). */
  private intDim(arg: ArgIn | undefined, spec: ParamSpec, callee: string, f: Frame): Dim | null {
    if (arg === undefined) return typeof spec.default === 'number' ? Dim.of(spec.default) : null;
    const v = arg.value;
    if (v.kind === 'number' && v.dim) return v.dim;
    if (v.kind === 'number' && v.value !== null && isInt(v.value)) {
      this.report(f, 'NN2003', arg.range, [callee, `\`${spec.name}\` is too large: ${this.textOf(arg.expr)} (a dim is at most 2^31)`]);
    } else if (!isVague(v)) this.report(f, 'NN2003', arg.range, [callee, `\`${spec.name}\` must be an integer, got ${this.textOf(arg.expr)}`]);
    else f.errors++;
    return null;
  }

  /** A constant integer argument; undefined when optional and absent, null after an error. */
  private intOf(arg: ArgIn | undefined, spec: ParamSpec, callee: string, f: Frame): number | null | undefined {
    if (arg === undefined) return typeof spec.default === 'number' ? spec.default : undefined;
    const v = arg.value;
    if (v.kind === 'number' && v.dim && v.value !== null) return v.value;
    if (!isVague(v)) this.report(f, 'NN2003', arg.range, [callee, `\`${spec.name}\` must be a constant integer, got ${this.textOf(arg.expr)}`]);
    else f.errors++;
    return null;
  }

  private numberOf(arg: ArgIn | undefined, spec: ParamSpec, callee: string, f: Frame): number | null | undefined {
    if (arg === undefined) return typeof spec.default === 'number' ? spec.default : undefined;
    const v = arg.value;
    if (v.kind === 'number' && v.value !== null) return v.value;
    if (!isVague(v)) this.report(f, 'NN2003', arg.range, [callee, `\`${spec.name}\` must be a number, got ${this.textOf(arg.expr)}`]);
    else f.errors++;
    return null;
  }

  private boolOf(arg: ArgIn | undefined, spec: ParamSpec, callee: string, f: Frame): boolean | null {
    if (arg === undefined) return typeof spec.default === 'boolean' ? spec.default : false;
    if (arg.value.kind === 'bool') return arg.value.value;
    if (!isVague(arg.value)) this.report(f, 'NN2003', arg.range, [callee, `\`${spec.name}\` must be true or false, got ${this.textOf(arg.expr)}`]);
    else f.errors++;
    return null;
  }

  /** A list of dims `[B, 25]` (`-1` allowed). */
  private dimsOf(arg: ArgIn | undefined, callee: string, range: TextRange, f: Frame): Shape | null {
    if (arg === undefined) {
      this.report(f, 'NN2003', range, [callee, 'missing the shape `[dims]`']);
      return null;
    }
    if (arg.value.kind === 'unknown') return null;
    if (arg.value.kind !== 'list') {
      this.report(f, 'NN2003', arg.range, [callee, `the shape must be a list of dims like [B, 25], got ${this.textOf(arg.expr)}`]);
      return null;
    }
    const dims: Dim[] = [];
    for (const item of arg.value.items) {
      if (item.kind === 'number' && item.dim) dims.push(item.dim);
      else {
        if (!isVague(item)) this.report(f, 'NN2003', arg.range, [callee, 'every dim must be an integer']);
        return null;
      }
    }
    return dims;
  }
}

/** Names visible in a body: its own bindings over the file's constants (shared, not copied). */
class Scope {
  private readonly own = new Map<string, Value>();

  constructor(private readonly parent: ReadonlyMap<string, Value>) {}

  get(name: string): Value | undefined {
    return this.own.get(name) ?? this.parent.get(name);
  }

  has(name: string): boolean {
    return this.own.has(name) || this.parent.has(name);
  }

  set(name: string, value: Value): void {
    this.own.set(name, value);
  }
}

/** Arguments bound to a spec's parameters, by parameter name (a spec has a handful). */
class BoundArgs {
  private readonly args: (ArgIn | undefined)[];

  constructor(private readonly params: readonly ParamSpec[]) {
    this.args = new Array(params.length);
  }

  get(name: string): ArgIn | undefined {
    for (let k = 0; k < this.params.length; k++) if (this.params[k].name === name) return this.args[k];
    return undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  set(name: string, arg: ArgIn): void {
    for (let k = 0; k < this.params.length; k++) if (this.params[k].name === name) this.args[k] = arg;
  }
}

interface ArgIn {
  name: Ident | null;
  value: Value;
  expr: Expr | null;
  range: TextRange;
}

function numberArithmetic(op: string, a: NumberValue, b: NumberValue): Value {
  if (a.value !== null && b.value !== null) {
    const value = arithmetic(op, a.value, b.value);
    return value === null || !Number.isFinite(value) ? UNKNOWN : num(value);
  }
  if (a.dim && b.dim) {
    if (op === '+') return symbolic(a.dim.add(b.dim));
    if (op === '-') return symbolic(a.dim.sub(b.dim));
    if (op === '*') return symbolic(a.dim.mul(b.dim));
    if (op === '/' && !b.dim.equals(0)) return symbolic(a.dim.floorDiv(b.dim));
  }
  return UNKNOWN;
}

function paramSpec(spec: FunctionSpec, name: string): ParamSpec {
  return spec.params.find((s) => s.name === name)!;
}

const tensorParamsOf = new WeakMap<FunctionSpec, ParamSpec[]>();

/** A built-in's tensor parameters, found once per spec (every call of the built-in needs them). */
function tensorParams(spec: FunctionSpec): ParamSpec[] {
  let params = tensorParamsOf.get(spec);
  if (params === undefined) {
    params = spec.params.filter((p) => p.kind === 'tensor');
    tensorParamsOf.set(spec, params);
  }
  return params;
}

/** A call for the editor, its shapes formatted on first read (see the binding facts in program.ts). */
class LazyCallInfo implements CallInfo {
  private formattedInputs: string[] | null = null;

  constructor(
    readonly model: string,
    readonly callee: string,
    readonly range: TextRange,
    readonly calleeRange: TextRange,
    private readonly inputs: readonly (Shape | null)[],
    private readonly out: Shape | null,
  ) {}

  /** Made once, so readers share the array. */
  get inShapes(): string[] {
    return (this.formattedInputs ??= this.inputs.map((s) => (s ? formatShapeOnce(s) : '?')));
  }

  get outShape(): string {
    return this.out ? formatShapeOnce(this.out) : '?';
  }

  toJSON(): CallInfo {
    const { model, callee, range, calleeRange, inShapes, outShape } = this;
    return { model, callee, range, calleeRange, inShapes, outShape };
  }
}

const formattedShapes = new WeakMap<Shape, string>();

/**
 * formatShape, remembered per shape array: the checker never mutates a shape once a value
 * has it, and one value's shape is shown for its binding and for every call it feeds.
 */
export function formatShapeOnce(shape: Shape): string {
  let text = formattedShapes.get(shape);
  if (text === undefined) {
    text = formatShape(shape);
    formattedShapes.set(shape, text);
  }
  return text;
}

/** An unknown value, or a tensor an earlier error left without a shape: it fits anything, so nothing is reported about it. */
function isVague(value: Value): boolean {
  return value.kind === 'unknown' || (value.kind === 'tensor' && value.shape === null);
}

function describeValue(value: Value): string {
  switch (value.kind) {
    case 'tensor':
      return value.shape ? `a tensor of shape ${formatShape(value.shape)}` : 'a tensor';
    case 'number':
      return 'a number';
    case 'bool':
      return 'a flag';
    case 'string':
      return 'a string';
    case 'list':
      return 'a list';
    case 'layer':
      return `the layer \`${value.layer.localName}\``;
    case 'callable':
      return `\`${value.name}\``;
    case 'unknown':
      return 'an unknown value';
  }
}

/** A layer's attributes in the IR (its resolved constructor arguments, in ONNX's words). */
function layerAttrs(layer: LayerInstance): Record<string, AttrValue> {
  const args = layer.args;
  switch (layer.ctor) {
    case 'Conv2d':
      return { stride: args.stride, padding: args.padding, kernel: args.kernel ?? 0, inChannels: args.in ?? 0, outChannels: args.out ?? 0, bias: args.bias !== false };
    case 'Linear':
      return { inFeatures: args.in ?? 0, outFeatures: args.out ?? 0, bias: args.bias !== false };
    case 'Embedding':
      return { numEmbeddings: args.n ?? 0, embeddingDim: args.d ?? 0 };
    case 'LayerNorm':
      return { eps: 1e-5 };
    default:
      return layer.ctor.startsWith('BatchNorm') ? { eps: 1e-5, momentum: 0.1 } : {};
  }
}

function valueIds(tensors: readonly TensorValue[]): ValueId[] {
  const ids: ValueId[] = new Array(tensors.length);
  for (let k = 0; k < tensors.length; k++) ids[k] = tensors[k].id;
  return ids;
}

function paramTensor(p: { value: ValueId; shape: Shape }): TensorValue {
  return { kind: 'tensor', id: p.value, shape: p.shape, dtype: 'float32' };
}

function concreteOrEmpty(shape: Shape): number[] {
  return concreteShape(shape) ?? [];
}

/** Matches a signature pattern against an actual shape, binding free names and variadic groups. */
export function unify(pattern: PatternDim[], actual: Shape, bindings: Map<string, Dim>, variadics: Map<string, Dim[]>): boolean {
  const v = pattern.findIndex((d) => !(d instanceof Dim));
  let pairs: [Dim, Dim][];
  if (v < 0) {
    if (pattern.length !== actual.length) return false;
    pairs = (pattern as Dim[]).map((d, k) => [d, actual[k]]);
  } else {
    const suffix = pattern.length - v - 1;
    if (actual.length < pattern.length - 1) return false;
    const group = actual.slice(v, actual.length - suffix);
    const name = (pattern[v] as { variadic: string }).variadic;
    const previous = variadics.get(name);
    if (previous && !shapesEqual(previous, group)) return false;
    variadics.set(name, group);
    pairs = [
      ...(pattern.slice(0, v) as Dim[]).map((d, k): [Dim, Dim] => [d, actual[k]]),
      ...(pattern.slice(v + 1) as Dim[]).map((d, k): [Dim, Dim] => [d, actual[actual.length - suffix + k]]),
    ];
  }
  for (const [p, a] of pairs) {
    const name = p.singleName();
    if (name !== null && !bindings.has(name)) bindings.set(name, a);
  }
  return pairs.every(([p, a]) => p.substitute(bindings).equals(a));
}

export function substitutePattern(pattern: PatternDim[], bindings: Map<string, Dim>, variadics: Map<string, Dim[]>): Shape {
  return pattern.flatMap((d) => (d instanceof Dim ? [d.substitute(bindings)] : (variadics.get(d.variadic) ?? [Dim.named(`*${d.variadic}`)])));
}

function formatPattern(pattern: PatternDim[], bindings: Map<string, Dim>, variadics: Map<string, Dim[]>): string {
  return `[${pattern.map((d) => (d instanceof Dim ? d.substitute(bindings).toString() : variadics.has(d.variadic) ? variadics.get(d.variadic)!.join(', ') : `*${d.variadic}`)).join(', ')}]`;
}

/** A signature's shape with its names and groups bound, or null when one of them is not. */
function boundShape(pattern: PatternDim[], bindings: Map<string, Dim>, variadics: Map<string, Dim[]>): Shape | null {
  for (const d of pattern) {
    if (d instanceof Dim ? [...d.names()].some((n) => !bindings.has(n)) : !variadics.has(d.variadic)) return null;
  }
  return substitutePattern(pattern, bindings, variadics);
}
