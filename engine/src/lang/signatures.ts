// Binds a call's arguments to a signature (an op's or layer's parameters from the registry,
// a block's hyper-parameters, a fn's inputs): positional and keyword arguments (PyTorch's
// spellings as aliases), the tensors of a variadic parameter, defaults, and each value
// checked against its parameter's kind and bounds, with a specific code for each mistake.

import { Dim, type Shape } from '../shape/dim.js';
import { boundsText, defaultOf, fitsBounds, type Param } from '../ops/def.js';
import type { Fix, RelatedInfo, TextRange } from './api.js';
import type { DiagnosticArg, MessageId } from './diagnostics.js';
import { didYouMean } from './fixes.js';
import type { Expr, Ident } from './syntax.js';
import { describeValue, isVague, type TensorValue, type Value } from './values.js';

/** One argument of a call, evaluated. */
export interface ArgIn {
  name: Ident | null;
  value: Value;
  expr: Expr | null;
  range: TextRange;
}

/** What binding needs from the checker: reporting, the text of an expression, tensors of values. */
export interface CallSite {
  report(id: MessageId, range: TextRange, args: readonly DiagnosticArg[], extras?: { related?: RelatedInfo[]; fixes?: Fix[] }): void;
  /** Counts an error already reported where the value came from (an unknown value fits anything). */
  quiet(): void;
  textOf(expr: Expr | null): string;
  /** The value as a tensor (an unknown value becomes a placeholder), or null. */
  asTensor(value: Value, range: TextRange): TensorValue | null;
}

/** A bound attribute: a number, a flag, a dim (a size) or a shape, or absent. */
export type BoundValue = number | boolean | string | Dim | Shape | readonly number[] | undefined;

export interface BoundCall {
  /** The tensor inputs in parameter order (a variadic parameter's in call order), each with its argument. */
  tensors: { value: TensorValue; arg: ArgIn }[];
  /** Every non-tensor parameter's value by name, defaults filled in. */
  attrs: Record<string, BoundValue>;
  /** The argument given for each parameter, by the parameter's index in the signature. */
  given: readonly (ArgIn | undefined)[];
}

/** The argument given for the parameter named `name`, if any. */
export function givenArg(params: readonly Param[], bound: BoundCall, name: string): ArgIn | undefined {
  return bound.given[params.findIndex((p) => p.name === name)];
}

/** Dims beyond this are refused, so dim arithmetic stays within exact integers. */
export const MAX_DIM = 2 ** 31;

export function isDimValue(n: number): boolean {
  return Number.isInteger(n) && Math.abs(n) <= MAX_DIM;
}

const FAILED = Symbol('failed');

/** What binding reads of a parameter list, worked out once per list. */
interface Signature {
  /** The index of the parameter taking any number of tensors (`concat`'s), or -1. */
  variadic: number;
  /** The indices positional arguments go to, in order (all but the variadic one). */
  positional: readonly number[];
  /** Each parameter's index by its name and by each alias. */
  byKeyword: ReadonlyMap<string, number>;
  /** Every spelling, for "did you mean". */
  spellings: readonly string[];
  /** Each parameter's default as a bound value, by index. */
  defaults: readonly BoundValue[];
  /** A default that is another parameter's value (`stride` defaults to `k`): [index, name, from]. */
  sameAs: readonly (readonly [number, string, string])[];
}

const signatures = new WeakMap<readonly Param[], Signature>();

function signatureOf(params: readonly Param[]): Signature {
  let signature = signatures.get(params);
  if (signature === undefined) {
    const byKeyword = new Map<string, number>();
    const defaults: BoundValue[] = [];
    const sameAs: [number, string, string][] = [];
    params.forEach((p, k) => {
      byKeyword.set(p.name, k);
      for (const alias of p.aliases ?? []) byKeyword.set(alias, k);
      defaults.push(defaultOf(p));
      if (p.default !== null && typeof p.default === 'object') sameAs.push([k, p.name, p.default.sameAs]);
    });
    const variadic = params.findIndex((p) => p.kind === 'tensors');
    signature = {
      variadic,
      positional: params.map((_, k) => k).filter((k) => k !== variadic),
      byKeyword,
      spellings: [...byKeyword.keys()],
      defaults,
      sameAs,
    };
    signatures.set(params, signature);
  }
  return signature;
}

/**
 * Binds `args` to `params`, reporting the first mistake at its argument. Returns null after
 * a mistake (or when an argument is an unknown value left by an earlier error). `params`
 * should be one array per signature (the registry's): what binding derives from it is kept.
 */
export function bindCall(params: readonly Param[], args: readonly ArgIn[], callee: string, range: TextRange, site: CallSite): BoundCall | null {
  const signature = signatureOf(params);
  const { variadic } = signature;
  const given: (ArgIn | undefined)[] = new Array(params.length);
  let spread: ArgIn[] | null = null;
  let positional = 0;
  for (const arg of args) {
    let index: number | undefined;
    if (arg.name === null) {
      if (variadic >= 0 && arg.value.kind !== 'number' && arg.value.kind !== 'string') {
        // `concat(a, b, 1)`, `einsum("ij,jk->ik", a, b)`: tensors (or one list of them) and the other parameters in order.
        (spread ??= []).push(arg);
        continue;
      }
      index = variadic >= 0 ? signature.positional[positional++] : positional++;
      if (index === undefined || index >= params.length) {
        site.report('NN2003/tooMany', arg.range, [callee, params.length, args.length]);
        return null;
      }
    } else {
      const key = arg.name.name;
      index = signature.byKeyword.get(key);
      if (index === undefined) {
        site.report('NN2003/unknownKeyword', arg.name.range, [callee, key, params.map((p) => p.name).join(', ')], didYouMean(arg.name.range, key, signature.spellings));
        return null;
      }
    }
    if (given[index] !== undefined) {
      site.report('NN2003/twice', arg.range, [callee, params[index].name]);
      return null;
    }
    given[index] = arg;
  }
  if (variadic >= 0 && spread !== null) {
    const items = spread.length === 1 && spread[0].value.kind === 'list' ? null : spread;
    given[variadic] = items === null ? spread[0] : {
      name: null,
      value: { kind: 'list', items: items.map((a) => a.value) },
      expr: items[0].expr,
      range: { start: items[0].range.start, end: items[items.length - 1].range.end },
    };
  }
  for (let k = 0; k < params.length; k++) {
    if (given[k] !== undefined || params[k].default !== undefined) continue;
    const missing = params.filter((p, j) => p.default === undefined && given[j] === undefined);
    site.report('NN2003/missing', range, [callee, missing.map((p) => `\`${p.name}\``).join(', ')]);
    return null;
  }

  const tensors: BoundCall['tensors'] = [];
  // Every attribute is set in parameter order: the attribute objects of one signature share a shape.
  const attrs: Record<string, BoundValue> = {};
  for (let k = 0; k < params.length; k++) {
    const arg = given[k];
    const param = params[k];
    if (param.kind === 'tensor' || param.kind === 'tensors') {
      // An optional tensor left out (attention's `mask`): the op gets fewer inputs.
      if (arg === undefined) continue;
      const items = param.kind === 'tensors' && arg.value.kind === 'list' ? arg.value.items : [arg.value];
      if (items.length === 0) {
        site.report('NN2003/kind', arg.range, [callee, param.name, 'at least one tensor', site.textOf(arg.expr)]);
        return null;
      }
      // Tensors written one by one (`concat(a, b)`) keep their own arguments, for messages about one of them.
      const written = k === variadic && spread !== null && spread.length === items.length ? spread : null;
      for (let j = 0; j < items.length; j++) {
        const item = items[j];
        const own = written?.[j] ?? arg;
        const tensor = site.asTensor(item, own.range);
        if (tensor === null) {
          if (isVague(item)) site.quiet();
          else site.report('NN2003/kind', own.range, [callee, param.name, 'a tensor', describeValue(item)]);
          return null;
        }
        tensors.push({ value: tensor, arg: own });
      }
      continue;
    }
    if (arg === undefined) {
      attrs[param.name] = signature.defaults[k];
      continue;
    }
    const value = convert(param, arg, callee, site);
    if (value === FAILED) return null;
    attrs[param.name] = value;
  }
  // `stride` defaults to `k`: copied once every parameter has its value.
  for (const [k, name, from] of signature.sameAs) if (given[k] === undefined) attrs[name] = attrs[from];
  return { tensors, attrs, given };
}

function convert(param: Param, arg: ArgIn, callee: string, site: CallSite): BoundValue | typeof FAILED {
  const v = arg.value;
  const wrongKind = (wanted: string): typeof FAILED => {
    if (isVague(v)) site.quiet();
    else site.report('NN2003/kind', arg.range, [callee, param.name, wanted, site.textOf(arg.expr)]);
    return FAILED;
  };
  switch (param.kind) {
    case 'axis':
    case 'int':
      if (v.kind === 'number' && v.dim && v.value !== null) return inRange(param, v.value, arg, callee, site);
      return wrongKind('a constant integer');
    case 'axes':
      return axisListOf(param, arg, callee, site) ?? FAILED;
    case 'size':
      if (v.kind === 'string' && param.choices?.includes(v.value)) return v.value;
      return sizeOf(param, v, arg, callee, site) ?? wrongKind('an integer');
    case 'pair': {
      if (v.kind === 'string' && param.choices?.includes(v.value)) return v.value;
      const wanted = `an integer or a pair (h, w) of integers${param.choices ? `, or ${param.choices.map((c) => `"${c}"`).join(', ')}` : ''}`;
      if (v.kind !== 'list') {
        const one = sizeOf(param, v, arg, callee, site);
        return one === null ? wrongKind(wanted) : one === FAILED ? FAILED : [one, one];
      }
      if (v.items.length !== 2) return wrongKind(wanted);
      // Each size reported at its own item where the pair was written out `(1, 0)`.
      const written = arg.expr?.kind === 'tuple' || arg.expr?.kind === 'list' ? arg.expr.items : null;
      const [h, w] = v.items.map((item, k) => {
        const expr = written?.[k] ?? arg.expr;
        return sizeOf(param, item, expr && written ? { name: null, value: item, expr, range: expr.range } : arg, callee, site);
      });
      if (h === FAILED || w === FAILED) return FAILED;
      return h === null || w === null ? wrongKind(wanted) : [h, w];
    }
    case 'number':
      if (v.kind === 'number' && v.value !== null) return inRange(param, v.value, arg, callee, site);
      // A block's hyper-parameter in the block's own check: no shape depends on a number
      // argument, and the block's own graph never runs (its instances get the value).
      if (v.kind === 'number') return NaN;
      return wrongKind('a number');
    case 'bool':
      return v.kind === 'bool' ? v.value : wrongKind('true or false');
    case 'dims':
      return dimListOf(param, arg, callee, site) ?? FAILED;
    case 'sizes':
      if (v.kind === 'number' && v.dim) {
        const value = v.dim.constant();
        return value === null || inRange(param, value, arg, callee, site) !== FAILED ? v.dim : FAILED;
      }
      if (v.kind === 'list') return dimListOf(param, arg, callee, site) ?? FAILED;
      return wrongKind('an integer or a list of integer dims');
    case 'hyper':
      if (v.kind === 'number') return v.dim ?? v.value ?? NaN;
      return wrongKind('a number');
    case 'init':
      // Read from the argument's syntax by the caller.
      return undefined;
    case 'choice': {
      const choices = param.choices ?? [];
      const wanted = `one of ${choices.map((c) => `"${c}"`).join(', ')}`;
      if (v.kind === 'string' && choices.includes(v.value)) return v.value;
      if (v.kind === 'string') {
        site.report('NN2007', arg.range, [callee, param.name, wanted, `"${v.value}"`]);
        return FAILED;
      }
      return wrongKind(wanted);
    }
    case 'string':
      return v.kind === 'string' ? v.value : wrongKind('a string');
    default:
      return wrongKind('a tensor');
  }
}

/** A size value in the parameter's bounds; FAILED once reported (out of bounds, a non-integer), null when not a number. */
function sizeOf(param: Param, v: Value, arg: ArgIn, callee: string, site: CallSite): Dim | null | typeof FAILED {
  if (v.kind === 'number' && v.dim) {
    const value = v.dim.constant();
    return value === null || inRange(param, value, arg, callee, site) !== FAILED ? v.dim : FAILED;
  }
  if (v.kind === 'number' && v.value !== null && Number.isInteger(v.value)) {
    site.report('NN2008', arg.range, [site.textOf(arg.expr)]);
    return FAILED;
  }
  return null;
}

function inRange(param: Param, value: number, arg: ArgIn, callee: string, site: CallSite): number | typeof FAILED {
  if (fitsBounds(param, value)) return value;
  site.report('NN2007', arg.range, [callee, param.name, boundsText(param), value]);
  return FAILED;
}

/** A list of dims `[B, 25]` (one `-1` where the parameter allows it). */
function dimListOf(param: Param, arg: ArgIn, callee: string, site: CallSite): Shape | null {
  const v = arg.value;
  if (v.kind !== 'list') {
    if (isVague(v)) site.quiet();
    else site.report('NN2003/kind', arg.range, [callee, param.name, 'a list of dims like [B, 25]', site.textOf(arg.expr)]);
    return null;
  }
  const out: Dim[] = [];
  for (const item of v.items) {
    if (item.kind === 'number' && item.dim) {
      out.push(item.dim);
      continue;
    }
    if (isVague(item)) site.quiet();
    else if (item.kind === 'number' && item.value !== null && Number.isInteger(item.value)) site.report('NN2008', arg.range, [String(item.value)]);
    else site.report('NN2003/kind', arg.range, [callee, param.name, 'a list of integer dims', site.textOf(arg.expr)]);
    return null;
  }
  const inferred = out.filter((d) => d.constant() === -1).length;
  if (!param.keepable && inferred > (param.inferable ? 1 : 0)) {
    if (param.inferable) site.report('NN2018', arg.range, []);
    else site.report('NN2007', arg.range, [callee, param.name, 'a list of positive dims', site.textOf(arg.expr)]);
    return null;
  }
  return out;
}

/** A list of constant integer axes `[0, 2, 1]` (negative ones count from the end; the shape rule checks them). */
function axisListOf(param: Param, arg: ArgIn, callee: string, site: CallSite): number[] | null {
  const v = arg.value;
  const out: number[] = [];
  for (const item of v.kind === 'list' ? v.items : [v]) {
    if (v.kind === 'list' && item.kind === 'number' && item.dim && item.value !== null) {
      out.push(item.value);
      continue;
    }
    if (isVague(item)) site.quiet();
    else site.report('NN2003/kind', arg.range, [callee, param.name, 'a list of constant integer axes like [0, 2, 1]', site.textOf(arg.expr)]);
    return null;
  }
  return out;
}
