// Instantiating what a body declares: built-in layers (their parameters and buffers from the
// registry's LayerDef), raw `param(...)` tensors with their init, and blocks (a model used as
// a layer: its hyper-parameters bound, its own layers created under the instance's prefix).

import { concreteShape, Dim, type Shape } from '../shape/dim.js';
import { dims, number, type Param } from '../ops/def.js';
import { layerDef } from '../ops/registry.js';
import type { InitSpec, TextRange } from './api.js';
import { anonymousLayers, declarationCall } from './binder.js';
import { didYouMean } from './fixes.js';
import { bindCall, givenArg, type ArgIn, type BoundCall } from './signatures.js';
import type { Frame, ShapeChecker } from './shapes.js';
import type { Expr, ModelItem, Stmt } from './syntax.js';
import { UNKNOWN, type LayerBuffer, type LayerInstance, type LayerParam, type Value } from './values.js';

/** `param([dims], init = ...)`: a raw trainable tensor; the init is a name (or `normal(std)`), not a value. */
export const PARAM_PARAMS: readonly Param[] = [
  dims('shape', { doc: '[dims] of the tensor' }),
  { name: 'init', kind: 'init', default: null, doc: 'kaiming_uniform (default), xavier_uniform, zeros, ones or normal(std)' },
];

/** The inits a `param` may name, with what they do (PyTorch's torch.nn.init). */
export const PARAM_INITS = {
  kaiming_uniform: "PyTorch's default weight init (`a = √5`): uniform in ±√(1/fan_in)·√3·gain.",
  xavier_uniform: 'Glorot uniform init: uniform in ±√(6 / (fan_in + fan_out)).',
  zeros: 'All zeros.',
  ones: 'All ones.',
  normal: 'Normal init with standard deviation `std`: `normal(0.02)`.',
} as const;

type InitName = keyof typeof PARAM_INITS;

/** `normal`'s one argument: `normal(0.02)`. */
const NORMAL_STD = number('std', { doc: 'the standard deviation' });

/** The parameters of the inits written as a call; the others are bare names. */
export const INIT_PARAMS: { readonly [I in InitName]?: readonly Param[] } = { normal: [NORMAL_STD] };

/** Most layers carry no buffers: they share this empty list (read-only). */
const NO_BUFFERS: readonly LayerBuffer[] = Object.freeze([]);

export class Instances {
  /** Each block's hyper-parameters as parameters, one list per block (binding keeps what it derives from a list). */
  private readonly blockParams = new Map<object, Param[]>();

  constructor(private readonly checker: ShapeChecker) {}

  /** Creates the layers a body declares and its anonymous layers, before the body runs. */
  createLayers(stmts: readonly Stmt[], f: Frame): void {
    const symbols = this.checker.ctx.symbols;
    for (const stmt of stmts) {
      const call = declarationCall(symbols, stmt);
      if (call === null || stmt.kind !== 'assign') continue;
      if (f.inFn) {
        this.checker.report(f, 'NN2009', call.range, [stmt.target.name]);
        f.scope.set(stmt.target.name, UNKNOWN);
        continue;
      }
      const layer = this.createLayer(call, stmt.target.name, stmt.range, f);
      if (layer === null) f.scope.set(stmt.target.name, UNKNOWN);
      else if (layer.ctor === 'param') f.scope.set(stmt.target.name, { kind: 'tensor', id: layer.params[0].value, shape: layer.params[0].shape, dtype: 'float32' });
      else f.scope.set(stmt.target.name, { kind: 'layer', layer });
    }
    for (const [call, name] of anonymousLayers(symbols, stmts)) {
      if (call.kind !== 'call') continue;
      if (f.inFn) {
        this.checker.report(f, 'NN2009', call.range, [this.checker.textOf(call.callee)]);
        continue;
      }
      const layer = this.createLayer(call, name, call.range, f);
      if (layer) f.anonymous.set(call, layer);
    }
  }

  private hyperParamsOf(model: { hyperParams: readonly { name: string }[] }): Param[] {
    let params = this.blockParams.get(model);
    if (params === undefined) {
      params = model.hyperParams.map((hp): Param => ({ name: hp.name, kind: 'hyper' }));
      this.blockParams.set(model, params);
    }
    return params;
  }

  private createLayer(call: Expr & { kind: 'call' }, localName: string, declarationRange: TextRange, f: Frame): LayerInstance | null {
    const ctor = (call.callee as { name: string }).name;
    const layer: LayerInstance = {
      name: f.prefix + localName,
      localName,
      ctor,
      def: null,
      ctorRange: call.range,
      declarationRange,
      args: {},
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
    const args = this.checker.evalArgs(call, f, null, ctor === 'param');
    if (ctor === 'param') return this.createParam(layer, args, call, f);
    const model = this.checker.ctx.symbols.models.get(ctor);
    const def = model ? null : layerDef(ctor)!;
    const params = def ? def.params : this.hyperParamsOf(model!);
    const bound = bindCall(params, args, ctor, call.range, this.checker.site(f));
    if (bound === null) return null;
    layer.args = bound.attrs;
    bound.given.forEach((arg, k) => {
      if (arg !== undefined) layer.argRanges[params[k].name] = arg.expr?.range ?? arg.range;
    });
    if (model) return this.createBlock(layer, model, f);
    for (let k = 0; k < params.length; k++) {
      const value = bound.attrs[params[k].name];
      // A pair's two sizes (`kernel = (1, k)`) are each checked as a size.
      const sizes = value instanceof Dim ? [value] : params[k].kind === 'pair' && Array.isArray(value) ? (value as readonly Dim[]) : [];
      if (!sizes.every((size) => this.isSize(size, bound.given[k]?.range ?? call.range, ctor, params[k].name, f))) return null;
    }
    layer.def = def;
    const weights = def!.weights(bound.attrs as never);
    layer.params = weights.params.map((p) => this.addParam(`${layer.name}.${p.suffix}`, p.shape, p.init, layer, f));
    if (weights.buffers.length > 0) {
      layer.buffers = weights.buffers.map((b) => {
        const bufferName = `${layer.name}.${b.suffix}`;
        const value = f.graph.addValue(b.shape, 'float32', call.range, bufferName);
        f.graph.buffers.push({ buffer: { name: bufferName, shape: concreteOrEmpty(b.shape), init: b.init, layer: layer.name }, value });
        return { name: bufferName, shape: b.shape, init: b.init, value };
      });
    }
    f.graph.layers.push({ name: layer.name, ctor, args: bound.attrs });
    f.layers.push(layer);
    return layer;
  }

  /**
   * A layer size or `param` dim is a constant or the model's hyper-parameters: never a dim of
   * its input (`LayerNorm(W)` for `x: [B, C, H, W]`), since parameters have one shape for
   * every input. Inlined blocks were checked where their hyper-parameters got values.
   */
  private isSize(size: Dim, range: TextRange, callee: string, what: string, f: Frame): boolean {
    if (f.silent || size.constant() !== null) return true;
    const inputDim = [...size.names()].find((n) => !f.hyperParams.has(n));
    if (inputDim === undefined) return true;
    const wanted = f.hyperParams.size > 0 ? 'a constant or a hyper-parameter' : 'a constant';
    this.checker.report(f, 'NN2003/kind', range, [callee, what, `${wanted} (parameters have one shape for every input; \`${inputDim}\` is a dim of the input)`, `\`${size}\``]);
    return false;
  }

  private addParam(name: string, shape: Shape, init: InitSpec, layer: LayerInstance, f: Frame): LayerParam {
    const value = f.graph.addValue(shape, 'float32', layer.ctorRange, name);
    f.graph.params.push({ param: { name, shape: concreteOrEmpty(shape), init, range: layer.ctorRange, layer: layer.name }, value });
    return { name, shape, init, value };
  }

  private createParam(layer: LayerInstance, args: ArgIn[], call: Expr & { kind: 'call' }, f: Frame): LayerInstance | null {
    const bound = bindCall(PARAM_PARAMS, args, 'param', call.range, this.checker.site(f));
    if (bound === null) return null;
    const shape = bound.attrs.shape as Shape;
    if (!shape.every((d) => this.isSize(d, givenArg(PARAM_PARAMS, bound, 'shape')?.range ?? call.range, 'param', 'shape', f))) return null;
    const init = this.initOf(bound, shape, call, f);
    if (init === null) return null;
    layer.params.push(this.addParam(layer.name, shape, init, layer, f));
    f.layers.push(layer);
    return layer;
  }

  /** A `param`'s init spec, with PyTorch's fan-in and fan-out of its shape. */
  private initOf(bound: BoundCall, shape: Shape, call: Expr & { kind: 'call' }, f: Frame): InitSpec | null {
    const arg = givenArg(PARAM_PARAMS, bound, 'init');
    const expr = arg?.expr ?? null;
    const name = expr === null ? 'kaiming_uniform' : expr.kind === 'name' ? expr.name : expr.kind === 'call' && expr.callee.kind === 'name' ? expr.callee.name : '';
    if (!(name in PARAM_INITS)) {
      const nameRange = expr?.kind === 'name' ? expr.range : expr?.kind === 'call' ? expr.callee.range : null;
      this.checker.report(f, 'NN2015', arg?.range ?? call.range, [this.checker.textOf(expr)], nameRange ? didYouMean(nameRange, name, Object.keys(PARAM_INITS)) : undefined);
      return null;
    }
    const concrete = concreteOrEmpty(shape);
    const fanIn = concrete.length >= 2 ? concrete.slice(1).reduce((a, b) => a * b, 1) : (concrete[0] ?? 1);
    const fanOut = concrete.length >= 2 ? concrete[0] * concrete.slice(2).reduce((a, b) => a * b, 1) : (concrete[0] ?? 1);
    switch (name as InitName) {
      case 'normal': {
        const stdExpr = expr?.kind === 'call' ? expr.args[0]?.value : undefined;
        const std = stdExpr ? this.checker.evalExpr(stdExpr, f) : null;
        if (std === null || std.kind !== 'number' || std.value === null || !(std.value > 0)) {
          this.checker.report(f, 'NN2007', arg?.range ?? call.range, ['normal', NORMAL_STD.name, 'a positive number: normal(0.02)', stdExpr ? this.checker.textOf(stdExpr) : 'nothing']);
          return null;
        }
        return { kind: 'normal', std: std.value };
      }
      case 'kaiming_uniform':
        return { kind: 'kaiming_uniform', fanIn };
      case 'xavier_uniform':
        return { kind: 'xavier_uniform', fanIn, fanOut };
      case 'zeros':
        return { kind: 'zeros' };
      case 'ones':
        return { kind: 'ones' };
    }
  }

  /** A model used as a layer: its hyper-parameters bound, the layers of its body created with a prefix. */
  private createBlock(layer: LayerInstance, model: ModelItem, f: Frame): LayerInstance | null {
    if (this.checker.ctx.symbols.recursiveModels.has(model.name.name) || f.stack.includes(model.name.name)) return null;
    const hyperParams = new Map<string, Value>();
    for (const hp of model.hyperParams) hyperParams.set(hp.name, this.checker.hyperValue(layer.args[hp.name]));
    const scope = this.checker.constScope();
    for (const [k, v] of hyperParams) scope.set(k, v);
    const inner = this.checker.newFrame(model.name.name, f.graph, scope, {
      silent: true,
      prefix: `${layer.name}.`,
      stack: [...f.stack, model.name.name],
    });
    this.createLayers(model.body.stmts, inner);
    const layers = new Map<string, Value>();
    for (const stmt of model.body.stmts) {
      if (declarationCall(this.checker.ctx.symbols, stmt) && stmt.kind === 'assign') layers.set(stmt.target.name, inner.scope.get(stmt.target.name) ?? UNKNOWN);
    }
    layer.block = { model, hyperParams, layers, anonymous: inner.anonymous };
    layer.params = inner.layers.flatMap((l) => l.params);
    layer.buffers = inner.layers.flatMap((l) => l.buffers);
    f.layers.push(layer);
    if (inner.firstError) this.checker.reportInstance(f, layer, inner.firstError);
    return layer;
  }
}

function concreteOrEmpty(shape: Shape): number[] {
  return concreteShape(shape) ?? [];
}
