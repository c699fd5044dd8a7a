// Forward shape inference over symbolic dims: evaluates model and fn bodies, binds calls
// against the op registry's signatures, applies each op's shape rule, reports shape errors
// where shapes meet, and builds the flat SSA IR (blocks inlined, hyper-parameters
// substituted) as it goes.

import { Dim, formatShape, shapesEqual, type Shape } from '../shape/dim.js';
import { DimBinding, expandGroups, patternShape, type PatternDim } from '../shape/binding.js';
import type { RuleArg, RuleError } from '../shape/rules.js';
import { outputDtypeOf, type Param, type SomeOpDef } from '../ops/def.js';
import { ALL_LAYERS, ALL_OPS, builtinFunction, layerDef, opDef, type OpName } from '../ops/registry.js';
import type { Diagnostic, Fix, IrNode, RelatedInfo, TextRange, ValueId } from './api.js';
import { arithmetic, type Symbols } from './binder.js';
import { makeDiagnostic, type DiagnosticArg, type MessageId } from './diagnostics.js';
import { LazyCallInfo } from './facts.js';
import { didYouMean, layerSizeFix } from './fixes.js';
import { checkGradBlock, type CallRemoval, type GradBlockResult } from './gradients.js';
import { Instances } from './instances.js';
import { GraphBuilder, type DType } from './ir.js';
import { sideEffectIn } from './checkpoints.js';
import { bindCall, givenArg, isDimValue, type ArgIn, type BoundValue, type CallSite } from './signatures.js';
import { type BinaryOp, type Expr, type FnItem, type Ident, type ModelItem, type ParamSyntax, type ShapeSyntax, type Stmt, type UnaryOp, type UnpackTarget } from './syntax.js';
import { describeValue, isVague, UNKNOWN, type LayerInstance, type NumberValue, type TensorValue, type TupleValue, type Value } from './values.js';

export type { PatternDim };

/** A model's or fn's signature; a pattern is null where its syntax is missing or a dim is wrong (then it fits anything). */
export interface Signature {
  inputs: { name: Ident; pattern: PatternDim[] | null; dtype: DType; syntax: ParamSyntax }[];
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

/** An error inside a block instance's inlined body: reported at the instance (NN2017) if the block checks on its own. */
export interface InstanceError {
  block: string;
  diagnostic: Diagnostic;
}

/** Facts shared by every body the checker evaluates. */
export interface CheckContext {
  symbols: Symbols;
  text: string;
  diagnostics: Diagnostic[];
  calls: LazyCallInfo[];
  /** For NN3102: the edit that removes a one-tensor call (softmax), keeping its input. */
  /** Each one-input built-in call, with what removing it would replace (made into an edit only when offered). */
  callRemovals: CallRemoval[];
  instanceErrors: InstanceError[];
}

/** The state of one body evaluation (a model, a fn, a grad block, or an inlined block). */
export interface Frame {
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
  /** The value of the tuple binding being evaluated (`out, (h, c) = lstm(x)`): the call there gives all its results. */
  unpacking: TextRange | null;
  /** The hyper-parameters of the model checked on its own: with constants, what a layer size may be named by. */
  hyperParams: ReadonlySet<string>;
  errors: number;
  /** A silent frame's first error, for NN2017 at the instance. */
  firstError: Diagnostic | null;
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

/** Shared values for small integers (values are never mutated): every layer size and axis is one. */
const SMALL_NUMBERS: NumberValue[] = [];
const SMALL_NUMBER_LIMIT = 1024;

function num(value: number): NumberValue {
  const small = Number.isInteger(value) && value >= -1 && value <= SMALL_NUMBER_LIMIT && !Object.is(value, -0);
  if (small && SMALL_NUMBERS[value + 1] !== undefined) return SMALL_NUMBERS[value + 1];
  const made: NumberValue = { kind: 'number', value, dim: isDimValue(value) ? Dim.of(value) : null };
  if (small) SMALL_NUMBERS[value + 1] = made;
  return made;
}

function symbolic(dim: Dim): NumberValue {
  return { kind: 'number', value: dim.constant(), dim };
}

type Notation<K> = Extract<NonNullable<SomeOpDef['notation']>, { kind: K }>;
type OperatorDef<K> = SomeOpDef & { readonly name: OpName; readonly notation: Notation<K> };

/** The ops written in a notation of this kind, by their registry definitions' `notation`. */
function operatorsWritten<K extends Notation<string>['kind']>(kind: K): OperatorDef<K>[] {
  return ALL_OPS.filter((op): op is OperatorDef<K> => op.notation?.kind === kind);
}

/** The op each infix operator applies. */
const INFIX_OPERATORS = Object.fromEntries(operatorsWritten('infix').map((op) => [op.notation.symbol, op])) as Record<BinaryOp, OperatorDef<'infix'>>;
/** The op each prefix operator applies. */
const PREFIX_OPERATORS = Object.fromEntries(operatorsWritten('prefix').map((op) => [op.notation.symbol, op.name])) as Record<UnaryOp, OpName>;
/** The op a subscript `x[...]` applies. */
const SUBSCRIPT = operatorsWritten('subscript')[0];

/** The shape of a number in an expression: it broadcasts like a tensor of shape `[]`. */
const SCALAR: Shape = [];

const NO_NAMES: ReadonlySet<string> = new Set();

export class ShapeChecker {
  /** The file's constants as values, built once; scopes start from a copy. */
  private readonly consts: ReadonlyMap<string, Value>;
  /** A fn's signature depends only on constants, so each is evaluated once. */
  private readonly fnSignatures = new Map<FnItem, Signature>();
  /** Each fn's inputs as parameters, one list per fn (binding keeps what it derives from a list). */
  private readonly fnParams = new Map<FnItem, Param[]>();
  private readonly sites = new WeakMap<Frame, CallSite>();
  /** A block instance's signature depends only on constants and its hyper-parameters. */
  private readonly blockSignatures = new Map<object, Signature>();
  private readonly instances = new Instances(this);

  constructor(readonly ctx: CheckContext) {
    const consts = new Map<string, Value>();
    for (const [name, value] of ctx.symbols.constValues) consts.set(name, value === null ? UNKNOWN : num(value));
    this.consts = consts;
  }

  // -- reporting -------------------------------------------------------------------------

  report(f: Frame, id: MessageId, range: TextRange, args: readonly DiagnosticArg[], extras?: { related?: RelatedInfo[]; fixes?: Fix[] }): void {
    f.errors++;
    if (!f.silent) this.ctx.diagnostics.push(makeDiagnostic(id, range, args, extras));
    else if (f.firstError === null) f.firstError = makeDiagnostic(id, range, args, extras);
  }

  /** NN2017 at a block instance whose inlined body hit an error (kept if the block checks on its own). */
  reportInstance(f: Frame, layer: LayerInstance, inner: Diagnostic): void {
    f.errors++;
    if (f.silent) return;
    const diagnostic = makeDiagnostic('NN2017', layer.ctorRange, [layer.ctor, inner.message], {
      related: [{ range: inner.range, message: `${inner.code} here, with the arguments of \`${this.textOf(null, layer.ctorRange)}\`` }],
    });
    this.ctx.instanceErrors.push({ block: layer.ctor, diagnostic });
  }

  /** What argument binding needs, for one frame (made once per frame). */
  site(f: Frame): CallSite {
    let site = this.sites.get(f);
    if (site === undefined) {
      site = {
        report: (id, range, args, extras) => this.report(f, id, range, args, extras),
        quiet: () => {
          f.errors++;
        },
        textOf: (expr) => this.textOf(expr),
        asTensor: (value, range) => this.asTensor(value, f, range),
      };
      this.sites.set(f, site);
    }
    return site;
  }

  /** The source text of an expression (or a range), on one line and at most 40 characters. */
  textOf(expr: Expr | null, range?: TextRange): string {
    const span = expr?.range ?? range;
    if (span === undefined) return 'input';
    const text = this.ctx.text.slice(span.start, span.end).replace(/\s+/g, ' ').trim();
    return text.length > 40 ? `${text.slice(0, 37)}...` : text;
  }

  // -- signatures ------------------------------------------------------------------------

  /**
   * Evaluates a signature shape: constants and the scope's names substituted, other names
   * stay symbolic. Null when a dim is wrong (reported): the shape is then unknown.
   */
  signatureShape(shape: ShapeSyntax | null, scope: Scope, f: Frame | null): PatternDim[] | null {
    if (shape === null) return null;
    const out: PatternDim[] = [];
    let wrong = false;
    for (const dim of shape.dims) {
      if (dim.kind === 'variadic') {
        out.push({ variadic: dim.name.name });
        continue;
      }
      const value = this.dimOf(dim.expr, scope, f);
      if (value === null) wrong = true;
      else out.push(value);
    }
    return wrong ? null : out;
  }

  /** A dim expression: names from the scope, free names symbolic, `/` is floor division. */
  private dimOf(expr: Expr, scope: Scope, f: Frame | null): Dim | null {
    switch (expr.kind) {
      case 'number':
        if (isDimValue(expr.value)) return Dim.of(expr.value);
        if (f) this.report(f, Number.isInteger(expr.value) ? 'NN2008' : 'NN2016', expr.range, [expr.text]);
        return null;
      case 'name': {
        const value = scope.get(expr.name);
        if (value === undefined) return Dim.named(expr.name);
        if (value.kind === 'number' && value.dim) return value.dim;
        if (value.kind === 'unknown') return null;
        if (f) this.report(f, 'NN2016', expr.range, [expr.name]);
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
        if (f) this.report(f, 'NN2016', expr.range, [this.textOf(expr)]);
        return null;
      }
      case 'error':
        return null;
      default:
        if (f) this.report(f, 'NN2016', expr.range, [this.textOf(expr)]);
        return null;
    }
  }

  signature(item: ModelItem | FnItem, scope: Scope, f: Frame | null): Signature {
    return {
      inputs: item.inputs.map((input) => ({
        name: input.name,
        pattern: this.signatureShape(input.shape, scope, f),
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

  /** A hyper-parameter's value in a block instance's scope. */
  hyperValue(bound: BoundValue): Value {
    if (bound instanceof Dim) return symbolic(bound);
    return typeof bound === 'number' ? num(bound) : UNKNOWN;
  }

  // -- models ----------------------------------------------------------------------------

  newFrame(owner: string, graph: GraphBuilder, scope: Scope, extra: Partial<Frame> = {}): Frame {
    return {
      owner,
      graph,
      scope,
      anonymous: new Map(),
      silent: false,
      prefix: '',
      stack: [owner],
      inFn: false,
      unpacking: null,
      hyperParams: NO_NAMES,
      errors: 0,
      firstError: null,
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
    this.instances.createLayers(model.body.stmts, f);
    const returned = this.evalBody(model.body.stmts, f);
    this.finishBody(model, signature.output, returned, f);
    return { graph: f.graph, bindings: f.bindings, layers: f.layers, inlined: f.inlined, errors: f.errors, returned, signature };
  }

  private result(f: Frame, returned: Value[] | null): BodyResult {
    return { graph: f.graph, bindings: f.bindings, layers: f.layers, inlined: f.inlined, errors: f.errors, returned };
  }

  /** Makes graph inputs for a signature's inputs; their free dim names become symbolic names in scope. */
  bindInputs(signature: Signature, f: Frame): TensorValue[] {
    const values: TensorValue[] = [];
    for (const input of signature.inputs) {
      const shape = input.pattern && patternShape(input.pattern);
      for (const d of shape ?? []) {
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
      values.push({ kind: 'tensor', id, shape, dtype: input.dtype });
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
      this.report(f, 'NN2014', returnStmt.values[0].range, [this.textOf(returnStmt.values[0]), describeValue(returned[0])]);
      return;
    }
    f.graph.output = value.id;
    if (returned.length > 1) this.report(f, 'NN2014', returnStmt.values[1].range, [this.textOf(returnStmt.values[1]), 'a second value']);
    if (output === null || value.shape === null) return;
    const declared = patternShape(output);
    if (!shapesEqual(value.shape, declared)) {
      this.report(f, 'NN2110', returnStmt.values[0].range, [formatShape(value.shape), formatShape(declared)], {
        related: item.output ? [{ range: item.output.range, message: `\`${item.name.name}\` declares the output shape ${formatShape(declared)} here` }] : [],
      });
    }
  }

  // -- fns -------------------------------------------------------------------------------

  /** Checks a fn's forward body and its `grad` block (NN3001, NN3002). */
  checkFn(fn: FnItem): { forward: BodyResult; backward: GradBlockResult | null; signature: Signature } {
    return this.checkFnAs(fn, null, false);
  }

  /**
   * A variadic group stands for any number of dims, so a fn with one (`x: [*S, D]`) must
   * check with the group of two dims as well as of one (`sum(x, 0)` of `[*S, D]` is `[D]`
   * only when S has one dim): the first error with two, for the fn's own check to report.
   */
  variadicError(fn: FnItem): Diagnostic | null {
    const checked = this.checkFnAs(fn, 2, true);
    return checked.forward.firstError ?? checked.backwardFrame?.firstError ?? null;
  }

  private checkFnAs(fn: FnItem, groupRank: number | null, silent: boolean): { forward: BodyResult & { firstError: Diagnostic | null }; backward: GradBlockResult | null; backwardFrame: Frame | null; signature: Signature } {
    const scope = this.constScope();
    const f = this.newFrame(fn.name.name, new GraphBuilder(), scope, { inFn: true, silent });
    const written = this.signature(fn, scope, f);
    const signature = groupRank === null ? written : expandSignature(written, groupRank);
    const inputs = this.bindInputs(signature, f);
    this.instances.createLayers(fn.body.stmts, f);
    const returned = this.evalBody(fn.body.stmts, f);
    this.finishBody(fn, signature.output, returned, f);
    const forward = { graph: f.graph, bindings: f.bindings, layers: f.layers, inlined: f.inlined, errors: f.errors, returned, firstError: f.firstError };
    if (fn.grad === null) return { forward, backward: null, backwardFrame: null, signature };
    const g = this.newFrame(fn.name.name, new GraphBuilder(), this.constScope(), { inFn: true, silent });
    return { forward, backward: checkGradBlock(this, fn, signature, inputs, g, groupRank === null), backwardFrame: g, signature };
  }

  /** Evaluates a grad block's body (see gradients.ts). */
  evalGradBody(stmts: readonly Stmt[], g: Frame): BodyResult {
    this.instances.createLayers(stmts, g);
    return this.result(g, this.evalBody(stmts, g));
  }

  // -- bodies ----------------------------------------------------------------------------

  /** Evaluates statements in order; the returned values, or null when there is no `return`. */
  private evalBody(stmts: readonly Stmt[], f: Frame): Value[] | null {
    const symbols = this.ctx.symbols;
    for (const stmt of stmts) {
      if (stmt.kind === 'assign') {
        if (isDeclaration(symbols, stmt)) continue;
        const value = this.evalExpr(stmt.value, f);
        f.scope.set(stmt.target.name, value);
        if (!f.silent && value.kind === 'tensor') {
          f.bindings.push({ owner: f.owner, name: stmt.target.name, range: stmt.target.range, hintOffset: stmt.value.range.end, value: value.id, shape: value.shape });
        }
      } else if (stmt.kind === 'unpack') {
        this.evalUnpack(stmt, f);
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

  /** `a, b = chunk(x, 2)`, `out, (h, c) = lstm(x)`: each name bound to its result; a count that differs is NN2147. */
  private evalUnpack(stmt: Stmt & { kind: 'unpack' }, f: Frame): void {
    // A layer with several results gives them all only when its call is bound this way.
    f.unpacking = stmt.value.kind === 'pipe' ? stmt.value.stage.range : stmt.value.range;
    const value = this.evalExpr(stmt.value, f);
    f.unpacking = null;
    this.bindTargets(stmt.targets, value, this.textOf(stmt.value), stmt, f);
  }

  /** Binds each target to its item of `value` (`text` names it), a group to a nested tuple. */
  private bindTargets(targets: readonly UnpackTarget[], value: Value, text: string, stmt: Stmt & { kind: 'unpack' }, f: Frame): void {
    const items = value.kind === 'tuple' ? value.items : null;
    const wrong = items === null || items.length !== targets.length;
    if (wrong) {
      if (isVague(value)) f.errors++;
      else this.report(f, 'NN2147', stmt.value.range, [targets.length, text, items === null ? describeValue(value) : `${items.length} results`]);
    }
    // After an error each name is the vague value itself, or an unknown one made of the value (the count
    // written or the value may be the mistake), which keeps the edges from the inputs.
    const fallback = isVague(value) ? value : wrong && (value.kind === 'tensor' || value.kind === 'tuple') ? this.placeholder(f, null, stmt.value.range, [value]) : UNKNOWN;
    targets.forEach((target, k) => {
      const item = items?.[k];
      if (target.kind === 'group') {
        if (wrong) for (const name of target.names) f.scope.set(name.name, fallback);
        else this.bindTargets(target.names, item!, `${/^[\w.]+\(.*\)$/s.test(text) ? text : `(${text})`}[${k}]`, stmt, f);
        return;
      }
      f.scope.set(target.name, wrong ? fallback : item!);
      if (!f.silent && !wrong && item?.kind === 'tensor') f.bindings.push({ owner: f.owner, name: target.name, range: target.range, hintOffset: stmt.value.range.end, value: item.id, shape: item.shape });
    });
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
      case 'tuple':
        return { kind: 'list', items: expr.items.map((item) => this.evalExpr(item, f)) };
      case 'name':
        return this.lookup(expr.name, expr.range, f);
      case 'unary': {
        const operand = this.evalExpr(expr.operand, f);
        if (operand.kind === 'number') return { kind: 'number', value: operand.value === null ? null : -operand.value, dim: operand.dim && operand.dim.scale(-1) };
        const tensor = this.asTensor(operand, f, expr.range);
        if (tensor === null) return this.kindError(f, expr.range, expr.op, operand, [operand]);
        return this.applyOp(f, PREFIX_OPERATORS[expr.op], [tensor], {}, expr.range, { texts: [expr.operand] });
      }
      case 'binary':
        return this.evalBinary(expr, f);
      case 'call':
        return this.evalCall(expr, null, f);
      case 'pipe':
        return this.evalPipe(expr, f);
      case 'subscript':
        return this.evalSubscript(expr, f);
      case 'error':
        f.errors++;
        return UNKNOWN;
    }
  }

  private lookup(name: string, range: TextRange, f: Frame): Value {
    const local = f.scope.get(name);
    if (local !== undefined) return local;
    const symbols = this.ctx.symbols;
    if (symbols.fns.has(name) || builtinFunction(name) !== undefined || symbols.models.has(name) || layerDef(name) !== undefined) {
      return { kind: 'callable', name };
    }
    this.report(f, 'NN2001', range, [name], didYouMean(range, name, this.visibleNames(f)));
    return UNKNOWN;
  }

  /** Every name a body can use: its scope, the file's fns and models, the built-in functions and layers. */
  private *visibleNames(f: Frame): Iterable<string> {
    yield* f.scope.names();
    yield* this.ctx.symbols.fns.keys();
    yield* this.ctx.symbols.models.keys();
    for (const op of ALL_OPS) if (builtinFunction(op.name)) yield op.name;
    for (const layer of ALL_LAYERS) yield layer.name;
    yield 'param';
  }

  /** NN2003 for an operand that is no tensor; the result keeps the edges from all the operands (`from`). */
  private kindError(f: Frame, range: TextRange, operator: string, value: Value, from: readonly Value[]): Value {
    if (!isVague(value)) this.report(f, 'NN2003/kind', range, [operator, 'operand', 'a tensor or a number', describeValue(value)]);
    return this.placeholder(f, null, range, from);
  }

  private evalBinary(expr: Expr & { kind: 'binary' }, f: Frame): Value {
    const left = this.evalExpr(expr.left, f);
    const right = this.evalExpr(expr.right, f);
    if (left.kind === 'number' && right.kind === 'number') return numberArithmetic(expr.op, left, right);
    const texts = [expr.left, expr.right];
    const def = INFIX_OPERATORS[expr.op];
    const op = def.name;
    const { operands } = def.notation;
    if (typeof operands === 'object') {
      const base = this.asTensor(left, f, expr.left.range);
      if (base === null) return this.kindError(f, expr.left.range, expr.op, left, [left, right]);
      // A number operand (`**`'s exponent) that is no number (or unknown) might have been a tensor the result broadcasts to: unknown.
      if (isVague(right)) return this.placeholder(f, null, expr.range, [base]);
      if (right.kind !== 'number' || right.value === null) {
        this.report(f, 'NN2003/kind', expr.right.range, [expr.op, operands.numberAttr, 'a number', describeValue(right)]);
        return this.placeholder(f, null, expr.range, [base, right]);
      }
      return this.recordOperator(f, expr, [base.shape, SCALAR], this.applyOp(f, op, [base], { [operands.numberAttr]: right.value }, expr.range, { texts }));
    }
    const a = this.asTensor(left, f, expr.left.range);
    const b = this.asTensor(right, f, expr.right.range);
    if (operands === 'matrices') {
      if (a === null) return this.kindError(f, expr.left.range, expr.op, left, [left, right]);
      if (b === null) return this.kindError(f, expr.right.range, expr.op, right, [left, right]);
      return this.recordOperator(f, expr, [a.shape, b.shape], this.applyOp(f, op, [a, b], {}, expr.range, { texts }));
    }
    if (a !== null && b !== null) {
      // Two masks combine as bools in PyTorch (`+` is or): one must be made a float first.
      if (a.mask && b.mask && !def.givesMask) return this.maskError(f, expr.left, expr.op, expr.range, [a, b]);
      return this.recordOperator(f, expr, [a.shape, b.shape], this.applyOp(f, op, [a, b], {}, expr.range, { texts }));
    }
    const tensor = a ?? b;
    const scalar = a === null ? left : right;
    if (tensor === null) return this.kindError(f, expr.range, expr.op, left.kind === 'number' ? right : left, [left, right]);
    // An operand that is no number (or unknown) might have been a tensor the result broadcasts to: unknown.
    if (isVague(scalar)) return this.placeholder(f, null, expr.range, [tensor]);
    if (scalar.kind !== 'number' || scalar.value === null) {
      this.report(f, 'NN2003/kind', a === null ? expr.left.range : expr.right.range, [expr.op, 'operand', 'a tensor or a number', describeValue(scalar)]);
      return this.placeholder(f, null, expr.range, [tensor]);
    }
    const attrs = a === null ? { scalar: scalar.value, scalarFirst: true } : { scalar: scalar.value };
    const result = this.applyOp(f, op, [tensor], attrs, expr.range, { texts: [a === null ? texts[1] : texts[0]] });
    return this.recordOperator(f, expr, a === null ? [SCALAR, tensor.shape] : [tensor.shape, SCALAR], result);
  }

  /** NN2140: a mask where a float tensor is needed. */
  private maskError(f: Frame, operand: Expr, needer: string, range: TextRange, from: readonly Value[]): Value {
    this.report(f, 'NN2140', operand.range, [this.textOf(operand), needer]);
    return this.placeholder(f, null, range, from);
  }

  /** An operator's application for the editor: its operands' shapes (a number's is `[]`) and its result. */
  private recordOperator(f: Frame, expr: Expr & { kind: 'binary' }, operands: (Shape | null)[], result: TensorValue): TensorValue {
    if (!f.silent) this.ctx.calls.push(new LazyCallInfo(f.owner, INFIX_OPERATORS[expr.op].name, expr.range, expr.opRange, operands, result.shape, {}));
    return result;
  }

  /**
   * `x[:, 1:T-1, ..., -1]`: the op written as a subscript, its items written as its attributes say
   * (ops/subscript.ts); a bound is an integer dim, a step a constant integer at least 1.
   * A result of several (`chunk(x, 2)[0]`) is indexed by a constant.
   */
  private evalSubscript(expr: Expr & { kind: 'subscript' }, f: Frame): Value {
    const target = this.evalExpr(expr.target, f);
    const bounds: Dim[] = [];
    const items: string[] = [];
    let broken = false;
    // Each bound written is pushed to `bounds` and marked in `items` by its initial (`i`, `s`, `e`).
    const bound = (e: Expr, what: 'index' | 'start' | 'end'): string => {
      const value = this.evalExpr(e, f);
      if (value.kind === 'number' && value.dim) bounds.push(value.dim);
      else {
        broken = true;
        if (isVague(value)) f.errors++;
        else this.report(f, 'NN2003/kind', e.range, ['[]', what, 'an integer dim', describeValue(value)]);
      }
      return what[0];
    };
    for (const item of expr.items) {
      if (item.kind === 'ellipsis') items.push('...');
      else if (item.kind === 'index') items.push(bound(item.expr, 'index'));
      else {
        const start = item.start ? bound(item.start, 'start') : '';
        const stop = item.stop ? bound(item.stop, 'end') : '';
        let step = '';
        if (item.step) {
          const value = this.evalExpr(item.step, f);
          if (value.kind === 'number' && value.value !== null && Number.isInteger(value.value) && value.value >= 1) step = value.value === 1 ? '' : `:${value.value}`;
          else {
            broken = true;
            if (isVague(value)) f.errors++;
            else this.report(f, 'NN2007', item.step.range, ['[]', 'step', 'a constant integer at least 1', this.textOf(item.step)]);
          }
        }
        items.push(`${start}:${stop}${step}`);
      }
    }
    if (target.kind === 'tuple') return this.tupleItem(target, expr, bounds, items.join(','), f);
    const tensor = this.asTensor(target, f, expr.target.range);
    if (tensor === null) return this.kindError(f, expr.target.range, '[]', target, [target]);
    if (broken) return this.placeholder(f, null, expr.range, [tensor]);
    const calleeRange = { start: expr.target.range.end, end: expr.range.end };
    const result = this.applyOp(f, SUBSCRIPT.name, [tensor], { items: items.join(','), bounds }, expr.range, {
      texts: [expr.target],
      dtype: outputDtypeOf(SUBSCRIPT, [tensor.dtype]),
      itemRanges: expr.items.map((item) => item.range),
    });
    if (!f.silent) this.ctx.calls.push(new LazyCallInfo(f.owner, SUBSCRIPT.name, expr.range, calleeRange, [tensor.shape], result.shape, {}));
    return result;
  }

  /** `chunk(x, 3)[k]` for a constant k (negative from the end). */
  private tupleItem(tuple: Value & { kind: 'tuple' }, expr: Expr & { kind: 'subscript' }, bounds: Dim[], items: string, f: Frame): Value {
    const at = bounds[0]?.constant() ?? null;
    const count = tuple.items.length;
    if (items !== 'i' || at === null) {
      this.report(f, 'NN2003/kind', expr.range, ['[]', 'index', `one constant index of the ${count} results`, this.textOf(expr)]);
      return this.placeholder(f, null, expr.range, [tuple]);
    }
    if (at < -count || at >= count) {
      this.report(f, 'NN2143', expr.items[0].range, [at, 0, count]);
      return this.placeholder(f, null, expr.range, [tuple]);
    }
    return tuple.items[at < 0 ? at + count : at];
  }

  private evalPipe(expr: Expr & { kind: 'pipe' }, f: Frame): Value {
    const input = this.evalExpr(expr.left, f);
    const piped: ArgIn = { name: null, value: input, expr: expr.left, range: expr.left.range };
    const stage = expr.stage;
    let result: Value;
    if (stage.kind === 'call' && stage.callee.kind === 'name' && !f.anonymous.has(stage) && f.scope.get(stage.callee.name)?.kind !== 'layer') {
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

  /** Calls an evaluated callee (a layer, a built-in, a fn) with already evaluated arguments. */
  private callValue(callee: Value, calleeExpr: Expr, args: ArgIn[], range: TextRange, f: Frame, pipe: (Expr & { kind: 'pipe' }) | null): Value {
    if (callee.kind === 'layer') return this.applyLayer(callee.layer, args, range, f);
    if (isVague(callee)) return this.placeholder(f, null, range, [callee, ...args]);
    if (callee.kind === 'callable') {
      const fn = this.ctx.symbols.fns.get(callee.name);
      if (fn) return this.callFn(fn, args, range, calleeExpr.range, f);
      const builtin = builtinFunction(callee.name);
      if (builtin) return this.callBuiltin(builtin, args, range, calleeExpr.range, f, pipe);
      this.report(f, 'NN2012', calleeExpr.range, [callee.name]);
      return this.placeholder(f, null, range, args);
    }
    this.report(f, 'NN2013', calleeExpr.range, [describeValue(callee)]);
    return this.placeholder(f, null, range, [callee, ...args]);
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
      if (name === 'param' || (this.ctx.symbols.models.has(name) && !f.scope.has(name)) || (layerDef(name) !== undefined && !f.scope.has(name))) {
        // A constructor outside a declaration that created no layer (its arguments were wrong, or in a fn).
        if (name === 'param' && !f.silent && !f.inFn) this.report(f, 'NN2010', call.range, []);
        else f.errors++;
        return UNKNOWN;
      }
    }
    if (callee.kind === 'name' && callee.name === 'checkpoint' && piped === null && !f.scope.has('checkpoint') && !this.ctx.symbols.fns.has('checkpoint')) {
      return this.evalCheckpoint(call, f);
    }
    const calleeValue = callee.kind === 'name' ? this.lookup(callee.name, callee.range, f) : this.evalExpr(callee, f);
    const args = this.evalArgs(call, f, piped);
    if (calleeValue.kind === 'unknown') return this.placeholder(f, null, call.range, args);
    return this.callValue(calleeValue, callee, args, call.range, f, pipe);
  }

  /**
   * Evaluates a call's arguments after `piped` (the input of a pipe stage, if any). With
   * `param`, its init argument (a name like `zeros`) is kept as syntax only.
   */
  evalArgs(call: Expr & { kind: 'call' }, f: Frame, piped: ArgIn | null = null, isParam = false): ArgIn[] {
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

  // -- layers ----------------------------------------------------------------------------

  /** Applies a layer to its arguments; the body's own applications are kept as spans, which a `train` block's `checkpoint` names. */
  private applyLayer(layer: LayerInstance, args: ArgIn[], range: TextRange, f: Frame): Value {
    const from = f.graph.nodes.length;
    const result = this.applyLayerTo(layer, args, range, f);
    if (!f.silent && result.kind === 'tensor' && f.graph.nodes.length > from) {
      f.graph.instanceCalls.push({ from, to: f.graph.nodes.length, output: result.id, range, layer: layer.name });
    }
    return result;
  }

  /**
   * `checkpoint(expr)`: the nodes of `expr` form a span whose activations the back ends do
   * not keep for the backward pass but recompute; its value is `expr`'s.
   */
  private evalCheckpoint(call: Expr & { kind: 'call' }, f: Frame): Value {
    if (call.args.length !== 1 || call.args[0].name !== null) {
      const args = call.args.map((arg) => this.evalExpr(arg.value, f));
      this.report(f, 'NN2003/tooMany', call.range, ['checkpoint', 1, call.args.length]);
      return this.placeholder(f, null, call.range, args);
    }
    const inner = call.args[0].value;
    const from = f.graph.nodes.length;
    const value = this.evalExpr(inner, f);
    if (isVague(value)) return value;
    if (value.kind !== 'tensor') {
      this.report(f, 'NN2003/kind', inner.range, ['checkpoint', 'expression', 'a tensor', describeValue(value)]);
      return this.placeholder(f, null, call.range, [value]);
    }
    const span = { from, to: f.graph.nodes.length, output: value.id, range: call.range };
    const side = sideEffectIn(f.graph.nodes, span);
    if (side) this.report(f, 'NN2190', inner.range, [this.textOf(inner), side.node.layer ?? side.node.op, side.effect]);
    else if (span.to > span.from) f.graph.checkpoints.push(span);
    return value;
  }

  /** Applies a layer to its arguments (`fc1(h)`, `h |> fc1`). */
  private applyLayerTo(layer: LayerInstance, args: ArgIn[], range: TextRange, f: Frame): Value {
    if (!f.silent) {
      // Most layers are applied once: a one-element array rather than one grown by `push`.
      if (layer.callRanges.length === 0) layer.callRanges = [range];
      else layer.callRanges.push(range);
    }
    if (layer.block) return this.applyBlock(layer, args, range, f);
    const def = layer.def!;
    const input = args.length === 1 && args[0].name === null ? this.asTensor(args[0].value, f, args[0].range) : null;
    // The op's inputs: the layer's input, then its parameters and buffers.
    const inputs: TensorValue[] = [];
    if (input !== null) inputs.push(input);
    for (const p of layer.params) inputs.push(paramTensor(p));
    for (const b of layer.buffers) inputs.push(paramTensor(b));
    if (input === null) {
      if (args.length !== 1 || args[0].name !== null) this.report(f, 'NN2003/tooMany', range, [layer.localName, 1, args.length]);
      else this.report(f, 'NN2003/kind', args[0].range, [layer.localName, 'input', 'a tensor', describeValue(args[0].value)]);
      return this.placeholder(f, null, range, [...args, ...inputs]);
    }
    const attrs = def.attrs(layer.args as never) as Record<string, BoundValue>;
    const errors = f.errors;
    const result = this.applyOp(f, def.op.name as OpName, inputs, attrs, range, { layer, texts: [args[0].expr] });
    if (!layer.applied) {
      layer.applied = true;
      layer.inShape = input.shape;
      layer.outShape = result.shape;
      layer.nodes = { from: f.graph.nodes.length - 1, to: f.graph.nodes.length };
    }
    if (!def.results || f.unpacking !== range) return result;
    // `out, (h, c) = lstm(x)`: a node per further result (part); after an error, each is the first (one mistake, one error).
    const part = (at: number): TensorValue =>
      at === 0 || f.errors > errors ? result : this.applyOp(f, def.op.name as OpName, inputs, { ...attrs, part: at }, range, { layer, texts: [args[0].expr] });
    const tuple = (parts: readonly (number | readonly number[])[]): TupleValue => ({
      kind: 'tuple',
      op: layer.localName,
      items: parts.map((at) => (typeof at === 'number' ? part(at) : tuple(at))),
    });
    return tuple(def.results);
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
    const weights = layer.params.map(paramTensor);
    if (args.length !== signature.inputs.length || args.some((a) => a.name !== null)) {
      this.report(f, 'NN2003/tooMany', range, [layer.localName, signature.inputs.length, args.length]);
      return this.placeholder(f, null, range, [...args, ...weights]);
    }
    const binding = new DimBinding();
    const inputs: TensorValue[] = [];
    let fits = true;
    let known = true;
    for (let k = 0; k < args.length; k++) {
      const tensor = this.asTensor(args[k].value, f, args[k].range);
      if (tensor === null) {
        this.report(f, 'NN2003/kind', args[k].range, [layer.localName, signature.inputs[k].name.name, 'a tensor', describeValue(args[k].value)]);
        return this.placeholder(f, null, range, [...args, ...weights]);
      }
      inputs.push(tensor);
      const pattern = signature.inputs[k].pattern;
      if (tensor.shape === null || pattern === null) known = false;
      else if (!binding.match(pattern, tensor.shape)) {
        fits = false;
        this.reportSignatureMismatch(f, model.name.name, signature.inputs[k], args[k], tensor.shape, binding);
      }
    }
    const inner = this.newFrame(model.name.name, f.graph, scope, {
      silent: true,
      prefix: `${layer.name}.`,
      stack: [...f.stack, model.name.name],
      anonymous: block.anonymous,
      inlined: f.inlined,
    });
    for (const [name, dim] of binding.entries()) if (!scope.has(name)) scope.set(name, symbolic(dim));
    signature.inputs.forEach((input, k) => scope.set(input.name.name, inputs[k]));
    for (const [name, value] of block.layers) scope.set(name, value);
    const firstNode = f.graph.nodes.length;
    const returned = this.evalBody(model.body.stmts, inner);
    const lastNode = f.graph.nodes.length;
    for (let k = firstNode; k < lastNode; k++) f.inlined.add(f.graph.nodes[k]);
    // With inputs that do not fit (NN2005 above), what goes wrong inside follows from them.
    if (inner.firstError && fits && known) this.reportInstance(f, layer, inner.firstError);
    // An input that does not fit: the block's result is unknown (its own sizes may be the mistake).
    // An input an earlier error left unknown: its declared output where the bound names give it,
    // else unknown (no follow-on error either way).
    const declared = signature.output === null || !fits ? null : known ? binding.resolve(signature.output) : binding.resolveIfBound(signature.output);
    const value = returned ? this.asTensor(returned[0], inner, range) : null;
    const shape = fits && known ? (value?.shape ?? declared) : declared;
    if (!layer.applied) {
      layer.applied = true;
      layer.inShape = inputs[0]?.shape ?? null;
      layer.outShape = shape;
      layer.nodes = { from: firstNode, to: lastNode };
    }
    if (value === null) return this.placeholder(f, declared, range, [...inputs, ...weights]);
    return { kind: 'tensor', id: value.id, shape, dtype: value.dtype };
  }

  private reportSignatureMismatch(f: Frame, callee: string, input: Signature['inputs'][number], arg: ArgIn, actual: Shape, binding: DimBinding): void {
    this.report(f, 'NN2005', arg.expr?.range ?? arg.range, [callee, input.name.name, binding.format(input.pattern ?? []), this.textOf(arg.expr), formatShape(actual)], {
      related: [{ range: input.syntax.range, message: `\`${input.name.name}\` is declared here` }],
    });
  }

  // -- fn calls --------------------------------------------------------------------------

  private callFn(fn: FnItem, args: ArgIn[], range: TextRange, calleeRange: TextRange, f: Frame): Value {
    let signature = this.fnSignatures.get(fn);
    if (signature === undefined) {
      signature = this.signature(fn, this.constScope(), null);
      this.fnSignatures.set(fn, signature);
    }
    let params = this.fnParams.get(fn);
    if (params === undefined) {
      params = fn.inputs.map((i): Param => ({ name: i.name.name, kind: 'tensor' }));
      this.fnParams.set(fn, params);
    }
    const bound = bindCall(params, args, fn.name.name, range, this.site(f));
    if (bound === null) return this.placeholder(f, null, range, args);
    const binding = new DimBinding();
    const inputs = bound.tensors.map((t) => t.value);
    let fits = true;
    let known = true;
    signature.inputs.forEach((input, k) => {
      const shape = inputs[k].shape;
      if (shape === null || input.pattern === null) known = false;
      else if (!binding.match(input.pattern, shape)) {
        fits = false;
        this.reportSignatureMismatch(f, fn.name.name, input, bound.tensors[k].arg, shape, binding);
      }
    });
    // After a mismatch the result is unknown (the argument that bound a name may be the mistake);
    // after an unknown argument it has the declared shape where the others bound its names, else
    // it is unknown (it fits anything: no follow-on error either way).
    const declared = signature.output;
    const outShape = declared === null || !fits ? null : known ? binding.resolve(declared) : binding.resolveIfBound(declared);
    const output = f.graph.addNode('call_fn', valueIds(inputs), { fn: fn.name.name }, range, outShape, 'float32', fn.name.name);
    this.recordCall(f, fn.name.name, range, calleeRange, inputs, outShape);
    return { kind: 'tensor', id: output, shape: outShape, dtype: 'float32' };
  }

  private recordCall(f: Frame, callee: string, range: TextRange, calleeRange: TextRange, inputs: readonly TensorValue[], out: Shape | null, attrs: object = {}): void {
    if (f.silent) return;
    this.ctx.calls.push(new LazyCallInfo(f.owner, callee, range, calleeRange, inputs.map((t) => t.shape), out, attrs));
  }

  // -- built-in calls --------------------------------------------------------------------

  private callBuiltin(def: SomeOpDef, args: ArgIn[], range: TextRange, calleeRange: TextRange, f: Frame, pipe: (Expr & { kind: 'pipe' }) | null): Value {
    const bound = bindCall(def.params, args, def.name, range, this.site(f));
    if (bound === null) return this.placeholder(f, null, range, args);
    const inputs = bound.tensors.map((t) => t.value);
    const texts = bound.tensors.map((t) => t.arg.expr);
    if (def.parts) return this.callWithParts(def, inputs, bound.attrs, range, calleeRange, texts, f);
    const origin = def.namesOrigin && inputs[0].shape ? { op: def.name, shape: inputs[0].shape } : undefined;
    const argumentRange = (at: NonNullable<RuleError['argument']>) => ('input' in at ? bound.tensors[at.input]?.arg.range : givenArg(def.params, bound, at.param)?.range);
    const result = this.applyOp(f, def.name as OpName, inputs, bound.attrs, range, { texts, dtype: outputDtypeOf(def, inputs.map((t) => t.dtype)), origin, argumentRange });
    if (bound.tensors.length === 1 && !f.silent) {
      // What removing the call and keeping its input needs (NN3102 offers it for softmax).
      const node = f.graph.nodes[f.graph.nodes.length - 1];
      this.ctx.callRemovals.push(pipe ? { node, range: { start: pipe.left.range.end, end: pipe.range.end }, keep: null } : { node, range, keep: bound.tensors[0].arg.range });
    }
    this.recordCall(f, def.name, range, calleeRange, inputs, result.shape, bound.attrs);
    return result;
  }

  /** An op with several results (`chunk`): a node per piece, together a tuple; unknown after an error. */
  private callWithParts(def: SomeOpDef, inputs: TensorValue[], attrs: Record<string, BoundValue>, range: TextRange, calleeRange: TextRange, texts: (Expr | null)[], f: Frame): Value {
    const shape = inputs[0].shape;
    const count = shape === null ? null : def.parts!(shape, attrs as never);
    if (count === null) {
      // The rule says why there are no pieces (or an earlier error left the shape unknown):
      // a tensor of unknown shape, which a tuple binding gives every name (no follow-on error).
      return this.applyOp(f, def.name as OpName, inputs, { ...attrs, part: 0 }, range, { texts });
    }
    const items = Array.from({ length: count }, (_, part) => this.applyOp(f, def.name as OpName, inputs, { ...attrs, part }, range, { texts, dtype: outputDtypeOf(def, inputs.map((t) => t.dtype)) }));
    this.recordCall(f, def.name, range, calleeRange, inputs, items[0]?.shape ?? null, attrs);
    return { kind: 'tuple', op: def.name, items };
  }

  // -- applying one op -------------------------------------------------------------------

  /**
   * Runs the shape rule of `op`, reports its error (with the inputs' text, related
   * information and fixes), and appends the IR node. After an error the output takes the
   * shape the rule gives whichever side is the mistake, or an unknown shape: one mistake, one error.
   */
  private applyOp(
    f: Frame,
    op: OpName,
    inputs: TensorValue[],
    attrs: Record<string, BoundValue>,
    range: TextRange,
    options: {
      /** The input expressions, named in messages (their text is taken only when reporting). */
      texts?: (Expr | null)[];
      /** The layer applied: the node is named after it, and a size error points at its declaration. */
      layer?: LayerInstance;
      dtype?: DType;
      origin?: TensorValue['origin'];
      /** The ranges of the written items a rule error may be about (a subscript's). */
      itemRanges?: TextRange[];
      /** The range of the call's argument a rule error is about. */
      argumentRange?: (at: NonNullable<RuleError['argument']>) => TextRange | undefined;
    } = {},
  ): TensorValue {
    let shape: Shape | null = null;
    const shapes: Shape[] = new Array(inputs.length);
    const dtypes: DType[] = new Array(inputs.length);
    let known = true;
    for (let k = 0; k < inputs.length; k++) {
      const s = inputs[k].shape;
      if (s === null) known = false;
      else shapes[k] = s;
      dtypes[k] = inputs[k].dtype;
    }
    const def = opOf(op);
    if (!this.elementTypesFit(f, def, op, inputs, range, options)) known = false;
    if (def.maskOrFloat && inputs[def.maskOrFloat.input]?.mask) attrs = { ...attrs, [def.maskOrFloat.attr]: true };
    if (known) {
      const result = def.shape(shapes, attrs as never, dtypes);
      if ('error' in result) {
        const args = result.error.args.map((arg) => this.ruleArg(arg, inputs, options.texts));
        const details = options.layer ? layerSizeFix(options.layer, result.error.code, shapes[0], this.ctx.text) : undefined;
        const { item, argument } = result.error;
        const at = (item !== undefined ? options.itemRanges?.[item] : argument !== undefined ? options.argumentRange?.(argument) : undefined) ?? range;
        this.report(f, result.error.code, at, args, details);
        // A shape the op could not produce (a window that does not fit) is unknown, not wrong.
        shape = result.shape && result.shape.every((d) => (d.constant() ?? 1) >= 1) ? result.shape : null;
      } else {
        shape = result.shape;
      }
    }
    const dtype = options.dtype ?? 'float32';
    const output = f.graph.addNode(op, valueIds(inputs), attrs, range, shape, dtype, options.layer?.name);
    const value: TensorValue = options.origin ? { kind: 'tensor', id: output, shape, dtype, origin: options.origin } : { kind: 'tensor', id: output, shape, dtype };
    if (def.givesMask || def.masksFrom?.every((k) => inputs[k]?.mask)) value.mask = true;
    return value;
  }

  /**
   * Masks and int64 tensors only where the op takes them: NN2140 for a mask where a float
   * tensor is needed, NN2160 for a float tensor where a mask is, NN2161 for int64 values
   * where floats are. Each is reported at the argument; an input an error left vague is not.
   */
  private elementTypesFit(f: Frame, def: SomeOpDef, op: string, inputs: readonly TensorValue[], range: TextRange, options: { texts?: (Expr | null)[]; layer?: LayerInstance }): boolean {
    const needer = options.layer?.localName ?? op;
    const at = (k: number) => options.texts?.[k] ?? null;
    const report = (id: MessageId, k: number, args: DiagnosticArg[]) => {
      this.report(f, id, at(k)?.range ?? range, [this.textOf(at(k), range), ...args]);
      return false;
    };
    const maskInputs = def.maskInputs ?? [];
    for (let k = 0; k < inputs.length; k++) {
      const input = inputs[k];
      if (maskInputs.includes(k)) {
        if (!input.mask && !isVague(input)) return report('NN2160', k, [needer, def.params.filter((p) => p.kind === 'tensor')[k]?.name ?? 'mask']);
      } else if (input.mask && !def.takesMasks && def.maskOrFloat?.input !== k) {
        return report('NN2140', k, [needer]);
      } else if (input.dtype === 'int64' && !(def.keepsDtype && k === 0) && def.ids?.input !== k) {
        return report('NN2161', k, [needer]);
      }
    }
    return true;
  }

  /** A rule error's argument for the message: input references become the inputs' text or origin. */
  private ruleArg(arg: RuleArg, inputs: readonly TensorValue[], texts: readonly (Expr | null)[] | undefined): DiagnosticArg {
    if (typeof arg !== 'object') return arg;
    if ('input' in arg) return this.textOf(texts?.[arg.input] ?? null);
    const origin = inputs[arg.origin]?.origin;
    return origin ? ` (${origin.op} of ${formatShape(origin.shape)})` : '';
  }

  /** A tensor of known or unknown shape standing for a value an error left undetermined. */
  placeholder(f: Frame, shape: Shape | null, range: TextRange, from: readonly (Value | ArgIn)[] = []): TensorValue {
    f.errors++;
    // An `unknown` node keeps the edges from the inputs, so no parameter looks unused after an error.
    // A layer passed to what an error left unknown may be applied there: its parameters count as used.
    const tensors = (v: Value): TensorValue[] =>
      v.kind === 'tensor' ? [v] : v.kind === 'layer' ? v.layer.params.map(paramTensor) : v.kind === 'tuple' || v.kind === 'list' ? v.items.flatMap(tensors) : [];
    const inputs = from.flatMap((v) => tensors('kind' in v ? v : v.value));
    if (inputs.length === 0) {
      const id = f.graph.addValue(shape, 'float32', range);
      f.graph.errorValues.push(id);
      return { kind: 'tensor', id, shape, dtype: 'float32' };
    }
    const output = f.graph.addNode('unknown', valueIds(inputs), {}, range, shape, 'float32');
    return { kind: 'tensor', id: output, shape, dtype: 'float32' };
  }

  /** The value as a tensor: unknown values become placeholders; numbers and others are not tensors. */
  asTensor(value: Value, f: Frame, range: TextRange): TensorValue | null {
    if (value.kind === 'tensor') return value;
    if (value.kind === 'unknown') return this.placeholder(f, null, range);
    return null;
  }
}

/** Names visible in a body: its own bindings over the file's constants (shared, not copied). */
export class Scope {
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

  *names(): Iterable<string> {
    yield* this.own.keys();
    yield* this.parent.keys();
  }
}

/** A signature with its variadic groups written out as `rank` dims each. */
function expandSignature(signature: Signature, rank: number): Signature {
  return {
    inputs: signature.inputs.map((input) => ({ ...input, pattern: input.pattern && expandGroups(input.pattern, rank) })),
    output: signature.output && expandGroups(signature.output, rank),
  };
}

function isDeclaration(symbols: Symbols, stmt: Stmt & { kind: 'assign' }): boolean {
  const value = stmt.value;
  if (value.kind !== 'call' || value.callee.kind !== 'name') return false;
  const ctor = value.callee.name;
  return ctor === 'param' || symbols.models.has(ctor) || layerDef(ctor) !== undefined;
}

function opOf(op: OpName): SomeOpDef {
  return opDef(op)!;
}

function numberArithmetic(op: string, a: NumberValue, b: NumberValue): Value {
  // `/` of integers is a number where a number is wanted (`lr = 1 / 1000`) and the floor
  // where a dim is (`padding = k / 2`), as in shapes; the same whether k is known or symbolic.
  if (op === '/' && a.dim && b.dim && !b.dim.equals(0)) {
    const value = a.value !== null && b.value !== null ? a.value / b.value : null;
    return { kind: 'number', value, dim: a.dim.floorDiv(b.dim) };
  }
  // Integers stay dims through `+ - *`, so a floor taken inside (`(5 - 2) / 2 + 1`) holds
  // where a dim is wanted (2) while the number is what it reads as (2.5).
  const dim = a.dim && b.dim ? (op === '+' ? a.dim.add(b.dim) : op === '-' ? a.dim.sub(b.dim) : op === '*' ? a.dim.mul(b.dim) : null) : null;
  if (a.value !== null && b.value !== null) {
    const value = arithmetic(op, a.value, b.value);
    if (value === null || !Number.isFinite(value)) return UNKNOWN;
    return dim === null || dim.constant() === value ? num(value) : { kind: 'number', value, dim };
  }
  return dim === null ? UNKNOWN : symbolic(dim);
}

function valueIds(tensors: readonly TensorValue[]): ValueId[] {
  const ids: ValueId[] = new Array(tensors.length);
  for (let k = 0; k < tensors.length; k++) ids[k] = tensors[k].id;
  return ids;
}

function paramTensor(p: { value: ValueId; shape: Shape }): TensorValue {
  return { kind: 'tensor', id: p.value, shape: p.shape, dtype: 'float32' };
}
