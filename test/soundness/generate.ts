// The generator of well-typed `.nn` programs (a Csmith for the language): a `train`ed model
// `Net` over a data set of every kind, built op by op from the generator's own shape rules
// (oracle.ts), with consts, blocks with hyper-parameters, `fn`s with and without `grad`,
// `param`s, pipes and every built-in of docs/language.md; and its mutants, each one dim,
// axis, argument or target changed, with the code and line the checker must report.

import { add, constantOf, dimText, div, evalDim, isConstant, mul, name, namesOf, num, product, shapeText, sub, type D } from './dims.js';
import { Choices } from './choices.js';
import { DATA_KINDS, planData, type DataPlan } from './data.js';
import { FN_TEMPLATES, type FnTemplate } from './fns.js';
import * as rule from './oracle.js';

export interface Line {
  text: string;
  tag?: string;
}

/** A binding whose shape the oracle knows: `shape` over the dims of its model, at `env`. */
export interface Binding {
  model: string;
  tag: string;
  name: string;
  shape: D[];
  env: ReadonlyMap<string, number>;
}

/** One change that must make the checker report `codes` at the line `at`, and nothing else. */
export interface Mutant {
  kind: string;
  /** The line replaced, and its new text. */
  tag: string;
  text: string;
  /** The line the error belongs on (where the shapes meet, LANGUAGE.md §10). */
  at: string;
  codes: string[];
  /** A line the error's related information must point at (the declaration), if any. */
  related?: string;
}

export type Loss = 'cross_entropy' | 'mse' | 'bce_with_logits';

export interface Case {
  text: string;
  lines: Line[];
  files: Record<string, Buffer | string>;
  model: string;
  /** Runtime values of the trained model's dim names (`B` is the batch size). */
  env: Map<string, number>;
  /** Bindings of the trained model (compared with the checker and both back ends). */
  bindings: Binding[];
  /** Bindings of blocks and fns (compared with the checker's symbolic shapes at their env). */
  symbolic: Binding[];
  /** The program's integer consts (the oracle's dims may name them). */
  consts: Map<string, number>;
  mutants: Mutant[];
  features: string[];
  data: DataPlan;
  loss: Loss;
  batch: number;
  /** Some dropout with p > 0 is active in training. */
  dropout: boolean;
  /** The trained model has symbolic dims besides the batch (the ONNX path may not lower it). */
  symbolicDims: boolean;
  backend: 'auto' | 'ts' | 'onnx';
}

interface Val {
  ref: string;
  shape: D[];
  dtype: 'float' | 'int';
}

const OPTIMIZERS = ['SGD', 'Adam', 'AdamW', 'RMSprop'] as const;

class Program {
  readonly c: Choices;
  readonly features = new Set<string>();
  readonly mutants: Mutant[] = [];
  readonly symbolic: Binding[] = [];
  readonly consts: Line[] = [];
  readonly items: Line[][] = [];
  readonly fns = new Map<string, FnTemplate>();
  readonly constValues = new Map<string, number>();
  private blockCount = 0;
  private tagCount = 0;
  dropout = false;
  /** The data's int ids lie below this (an op reading them as indices needs that many rows or classes). */
  idsBelow = 0;

  constructor(values: readonly number[]) {
    this.c = new Choices(values);
  }

  tag(): string {
    return `t${this.tagCount++}`;
  }

  feature(f: string): void {
    this.features.add(f);
  }

  /** A const for `value` (a new one, or one already made with that value), or the literal. */
  constFor(value: number, hint: string): D {
    if (!this.c.oneIn(4)) return num(value);
    for (const [n, v] of this.constValues) if (v === value && n.startsWith(hint)) return name(n);
    const constName = `${hint}${this.constValues.size}`;
    this.constValues.set(constName, value);
    const form = value % 2 === 0 && value > 2 && this.c.oneIn(2) ? `${value / 2} * 2` : String(value);
    this.consts.push({ text: `const ${constName} = ${form}`, tag: this.tag() });
    this.feature('const');
    return name(constName);
  }

  /** Adds a fn item once; returns its template. */
  useFn(t: FnTemplate): FnTemplate {
    if (!this.fns.has(t.name)) {
      this.fns.set(t.name, t);
      const tags = t.lines.map(() => this.tag());
      this.items.push(t.lines.map((text, k) => ({ text, tag: tags[k] })));
      const env = new Map(Object.entries(t.dims));
      for (const b of t.bindings) this.symbolic.push({ model: t.name, tag: tags[b.line], name: b.name, shape: b.shape, env });
      for (const m of t.mutants) this.mutants.push({ kind: `fn-${m.kind}`, tag: tags[m.line], text: m.text, at: tags[m.line], codes: m.codes });
    }
    this.feature(`fn:${t.name}`);
    this.feature(t.hasGrad ? (t.variadic ? 'fn:grad-variadic' : 'fn:grad-fixed') : t.variadic ? 'fn:variadic' : 'fn:fixed');
    return t;
  }

  newBlockName(): string {
    return `Blk${this.blockCount++}`;
  }
}

/** The statements of one model body, with the names it has bound. */
class Body {
  readonly lines: Line[] = [];
  readonly bindings: Binding[] = [];
  readonly history: Val[] = [];
  private readonly counters = new Map<string, number>();
  sigmoids = 0;

  constructor(
    readonly p: Program,
    readonly model: string,
    readonly env: Map<string, number>,
    readonly batchName: string,
    /** Hyper-parameters: with consts, the names a layer size may use (a size never depends on an input's dims). */
    readonly hyperNames: ReadonlySet<string> = new Set(),
  ) {}

  /** A dim a layer or parameter may take as its size: constants, consts and hyper-parameters only. */
  isSize(d: D): boolean {
    return [...namesOf(d)].every((n) => this.hyperNames.has(n) || this.p.constValues.has(n));
  }

  get c(): Choices {
    return this.p.c;
  }

  fresh(prefix: string): string {
    const n = (this.counters.get(prefix) ?? 0) + 1;
    this.counters.set(prefix, n);
    return `${prefix}${n}`;
  }

  ev(d: D): number {
    return evalDim(d, new Map([...this.env, ...this.p.constValues]));
  }

  /** `a, b = expr` (a tuple binding), each name recorded as a binding of its shape. */
  bindTuple(expr: string, shapes: D[][]): (Val & { tag: string })[] {
    const refs = shapes.map(() => this.fresh('h'));
    const tag = this.line(`${refs.join(', ')} = ${expr}`);
    return shapes.map((shape, k) => {
      this.bindings.push({ model: this.model, tag, name: refs[k], shape, env: this.env });
      const v = { ref: refs[k], shape, dtype: 'float' as const, tag };
      this.history.push(v);
      return v;
    });
  }

  /** A line of the body; returns its tag. */
  line(text: string): string {
    const tag = this.p.tag();
    this.lines.push({ text: `  ${text}`, tag });
    return tag;
  }

  /** `name = expr`, recorded as a binding of `shape`. */
  bind(expr: string, shape: D[], dtype: 'float' | 'int' = 'float'): Val & { tag: string } {
    const ref = this.fresh('h');
    const tag = this.line(`${ref} = ${expr}`);
    this.bindings.push({ model: this.model, tag, name: ref, shape, env: this.env });
    const v = { ref, shape, dtype, tag };
    this.history.push(v);
    return v;
  }

  /** A declared layer line; returns its name and tag. */
  declare(prefix: string, ctor: string): { ref: string; tag: string } {
    const ref = this.fresh(prefix);
    return { ref, tag: this.line(`${ref} = ${ctor}`) };
  }

  mutant(m: Mutant): void {
    this.p.mutants.push(m);
  }
}

const ACTIVATIONS = ['relu', 'tanh', 'sigmoid', 'gelu', 'silu', 'softplus', 'abs', 'leaky_relu', 'elu', 'hardswish', 'clamp', 'selu', 'mish', 'hardtanh'] as const;

/** A size for a new layer output. */
function width(b: Body): D {
  return b.p.constFor(b.c.pick([4, 3, 2, 6, 8]), 'hidden');
}

/** The dim as text, with the value's own dims where they are names. */
const t = dimText;

/** A non-batch axis of a rank-`rank` tensor, written non-negative or negative. */
function axisOf(b: Body, rank: number): { axis: number; text: string } {
  const axis = b.c.between(1, rank - 1);
  const negative = b.c.oneIn(3);
  return { axis, text: String(negative ? axis - rank : axis) };
}

/** The dim after one floor division and window arithmetic, in the generator's simplest true form. */
function simplified(b: Body, size: D, kernel: number, stride: number, padding: number): D {
  const exact = rule.window(size, num(kernel), num(stride), num(padding));
  if (!b.c.oneIn(2) || isConstant(size)) return exact;
  // (x + 2p - k) / s + 1 written the short way where it is the same for every integer x.
  if (padding === 0 && kernel === stride) return div(size, kernel);
  if (stride === 1) return add(size, 2 * padding - kernel + 1);
  return exact;
}

/** An op the generator can apply; `weight` makes it likelier among the applicable ones (1 by default). */
type Op = { name: string; weight?: number; when: (v: Val, b: Body) => boolean; run: (b: Body, v: Val) => Val };

const rank = (v: Val) => v.shape.length;
const last = (v: Val) => v.shape[v.shape.length - 1];
const isFloat = (v: Val) => v.dtype === 'float';

/** The axis ops (unsqueeze, squeeze, permute, stack, expand, repeat), the batch axis kept first. */
const AXIS_OPS: Op[] = [
  {
    name: 'unsqueeze',
    when: (v) => isFloat(v) && rank(v) <= 3,
    run(b, v) {
      const at = b.c.between(1, rank(v));
      const dim = b.c.oneIn(3) ? at - rank(v) - 1 : at;
      const call = (d: number) => (b.c.oneIn(2) ? `unsqueeze(${v.ref}, dim = ${d})` : `unsqueeze(${v.ref}, ${d})`);
      b.p.feature('op:unsqueeze');
      const use = b.bind(call(dim), rule.unsqueeze(v.shape, dim));
      b.mutant({ kind: 'unsqueeze-axis', tag: use.tag, text: `  ${use.ref} = ${call(rank(v) + 1)}`, at: use.tag, codes: ['NN2109'] });
      return use;
    },
  },
  {
    name: 'squeeze',
    weight: 2,
    when: (v) => isFloat(v) && v.shape.some((d, k) => k > 0 && isConstant(d) && constantOf(d) === 1),
    run(b, v) {
      const at = b.c.pick(v.shape.map((_, k) => k).filter((k) => k > 0 && isConstant(v.shape[k]) && constantOf(v.shape[k]) === 1));
      const dim = b.c.oneIn(3) ? at - rank(v) : at;
      b.p.feature('op:squeeze');
      const use = b.bind(`squeeze(${v.ref}, ${dim})`, rule.squeeze(v.shape, dim));
      // An axis of another size, symbolic or not, is NN2150.
      const wide = v.shape.map((_, k) => k).filter((k) => k > 0 && b.ev(v.shape[k]) >= 2);
      if (wide.length > 0) b.mutant({ kind: 'squeeze-size', tag: use.tag, text: `  ${use.ref} = squeeze(${v.ref}, dim = ${b.c.pick(wide)})`, at: use.tag, codes: ['NN2150'] });
      return use;
    },
  },
  {
    name: 'permute',
    when: (v) => isFloat(v) && rank(v) >= 3,
    run(b, v) {
      const rest = Array.from({ length: rank(v) - 1 }, (_, k) => k + 1);
      const order = [0];
      while (rest.length > 0) order.push(rest.splice(b.c.int(rest.length), 1)[0]);
      const written = order.map((a) => (a > 0 && b.c.oneIn(3) ? a - rank(v) : a));
      b.p.feature('op:permute');
      const use = b.bind(`permute(${v.ref}, [${written.join(', ')}])`, rule.permute(v.shape, written));
      const twice = [...written.slice(0, -1), written[0]];
      b.mutant({ kind: 'permute-twice', tag: use.tag, text: `  ${use.ref} = permute(${v.ref}, [${twice.join(', ')}])`, at: use.tag, codes: ['NN2151'] });
      return use;
    },
  },
  {
    name: 'stack',
    when: (v) => isFloat(v) && rank(v) <= 3,
    run(b, v) {
      const partners = b.history.filter((u) => u !== v && isFloat(u) && sameShape(b, u, v));
      const others = [v, ...partners].slice(0, 3);
      const picked = [v, ...Array.from({ length: b.c.int(2) + 1 }, () => b.c.pick(others))];
      const dim = b.c.between(1, rank(v));
      const refs = picked.map((u) => u.ref).join(', ');
      const text = b.c.oneIn(2) ? `stack(${refs}, dim = ${dim})` : b.c.oneIn(2) ? `stack([${refs}], ${dim})` : `stack(${refs}, ${dim})`;
      b.p.feature('op:stack');
      const use = b.bind(text, rule.stack(v.shape, picked.length, dim));
      const mismatched = [v.ref, `unsqueeze(${v.ref}, 1)`, ...picked.slice(2).map((u) => u.ref)];
      b.mutant({ kind: 'stack-shapes', tag: use.tag, text: `  ${use.ref} = stack(${mismatched.join(', ')}, dim = ${dim})`, at: use.tag, codes: ['NN2152'] });
      return use;
    },
  },
  {
    name: 'expand',
    when: (v) => isFloat(v) && rank(v) <= 3,
    run(b, v) {
      // A size-1 axis the value has, or one unsqueezed for it in the same expression.
      const ones = v.shape.map((_, k) => k).filter((k) => k > 0 && isConstant(v.shape[k]) && constantOf(v.shape[k]) === 1);
      const [source, shape] = ones.length > 0 && !b.c.oneIn(3) ? [v.ref, v.shape] : [`unsqueeze(${v.ref}, 1)`, rule.unsqueeze(v.shape, 1)];
      const grown = ones.length > 0 && source === v.ref ? b.c.pick(ones) : 1;
      const size = b.c.between(2, 3);
      const sizes = shape.map((_, k) => (k === grown ? size : -1 as const));
      const written = sizes.map((s, k) => (s === -1 && isConstant(shape[k]) && b.c.oneIn(2) ? String(constantOf(shape[k])) : String(s)));
      b.p.feature('op:expand');
      const use = b.bind(`expand(${source}, [${written.join(', ')}])`, rule.expand(shape, sizes));
      const wide = v.shape.map((_, k) => k).filter((k) => k > 0 && b.ev(v.shape[k]) >= 2);
      if (wide.length > 0) {
        const at = b.c.pick(wide);
        const other = v.shape.map((_, k) => (k === at ? String(b.ev(v.shape[k]) + 1) : '-1'));
        b.mutant({ kind: 'expand-size', tag: use.tag, text: `  ${use.ref} = expand(${v.ref}, [${other.join(', ')}])`, at: use.tag, codes: ['NN2154'] });
      }
      return use;
    },
  },
  {
    name: 'repeat',
    when: (v) => isFloat(v) && rank(v) >= 2 && rank(v) <= 3,
    run(b, v) {
      const tiled = b.c.between(1, rank(v) - 1);
      const counts = v.shape.map((_, k) => (k === tiled ? 2 : 1));
      b.p.feature('op:repeat');
      const use = b.bind(`repeat(${v.ref}, [${counts.join(', ')}])`, rule.repeat(v.shape, counts));
      b.mutant({ kind: 'repeat-counts', tag: use.tag, text: `  ${use.ref} = repeat(${v.ref}, [${counts.slice(1).join(', ')}])`, at: use.tag, codes: ['NN2153'] });
      return use;
    },
  },
];

const OPS: Op[] = [
  {
    name: 'activation',
    weight: 3,
    when: isFloat,
    run(b, v) {
      let f: string = b.c.pick(ACTIVATIONS);
      if (f === 'sigmoid' && b.sigmoids >= 3) f = 'tanh';
      if (f === 'sigmoid') b.sigmoids++;
      b.p.feature(`op:${f}`);
      if (f === 'leaky_relu') {
        const form = b.c.int(4);
        const text = [`leaky_relu(${v.ref}, 0.2)`, `leaky_relu(${v.ref}, slope = 0.1)`, `leaky_relu(${v.ref}, negative_slope = 0.05)`, `${v.ref} |> leaky_relu(slope = 0.3)`][form];
        if (form === 3) b.p.feature('pipe');
        return b.bind(text, v.shape);
      }
      if (f === 'elu' || f === 'clamp') {
        const forms = f === 'elu'
          ? [`elu(${v.ref})`, `elu(${v.ref}, 0.5)`, `elu(${v.ref}, alpha = 2)`, `${v.ref} |> elu(alpha = 0.3)`]
          : [`clamp(${v.ref}, -1, 1)`, `clamp(${v.ref}, min = 0)`, `clamp(${v.ref}, max = 0.5)`, `${v.ref} |> clamp(-2, 2)`];
        const form = b.c.int(4);
        if (form === 3) b.p.feature('pipe');
        return b.bind(forms[form], v.shape);
      }
      if (f === 'hardtanh') {
        const forms = (low: number) => [`hardtanh(${v.ref})`, `hardtanh(${v.ref}, ${low}, 2)`, `hardtanh(${v.ref}, min_val = ${low}, max_val = 0.5)`, `${v.ref} |> hardtanh(min = ${low})`];
        const form = b.c.int(4);
        if (form === 3) b.p.feature('pipe');
        const use = b.bind(forms(-0.5)[form], v.shape);
        if (form === 1 || form === 2) b.mutant({ kind: 'hardtanh-bounds', tag: use.tag, text: `  ${use.ref} = ${forms(3)[form]}`, at: use.tag, codes: ['NN2007'] });
        return use;
      }
      if (b.c.oneIn(3)) {
        b.p.feature('pipe');
        return b.bind(`${v.ref} |> ${f}`, v.shape);
      }
      return b.bind(`${f}(${v.ref})`, v.shape);
    },
  },
  {
    name: 'math',
    when: isFloat,
    run(b, v) {
      const forms: [string, string[]][] = [
        [`exp(tanh(${v.ref}))`, ['exp', 'tanh']],
        [`log(sigmoid(${v.ref}))`, ['log', 'sigmoid']],
        [`sqrt(${v.ref} * ${v.ref} + 1)`, ['sqrt']],
        [`${v.ref} ** 2`, ['pow']],
        [`-${v.ref}`, ['neg']],
        [`log(exp(${v.ref}) + 1)`, ['log', 'exp']],
        [`cos(${v.ref}) + sin(${v.ref})`, ['cos', 'sin']],
        [`log1p(sigmoid(${v.ref}))`, ['log1p', 'sigmoid']],
      ];
      const [text, ops] = b.c.pick(forms);
      if (ops.includes('sigmoid')) b.sigmoids++;
      ops.forEach((o) => b.p.feature(`op:${o}`));
      return b.bind(text, v.shape);
    },
  },
  {
    name: 'scalar',
    when: isFloat,
    run(b, v) {
      const text = b.c.pick([`${v.ref} * 0.5`, `0.5 * ${v.ref}`, `${v.ref} + 1`, `1 - ${v.ref}`, `${v.ref} / 2`, `2 * ${v.ref} - 1`, `${v.ref} / (${v.ref} * ${v.ref} + 1)`]);
      b.p.feature('op:scalar');
      return b.bind(text, v.shape);
    },
  },
  {
    name: 'param',
    when: (v) => isFloat(v) && rank(v) >= 2 && isConstant(last(v)),
    run(b, v) {
      const image = rank(v) === 4 && isConstant(v.shape[1]);
      const shape: D[] = image && b.c.oneIn(2) ? [v.shape[1], num(1), num(1)] : [last(v)];
      const inits = ['', ', init = zeros', ', init = ones', ', init = xavier_uniform', ', init = normal(0.02)', ', init = kaiming_uniform', ', zeros'];
      const init = b.c.pick(inits);
      b.p.feature(`init:${init.replace(/[^a-z_]/g, '').replace(/^init/, '') || 'default'}`);
      const decl = b.declare('w', `param(${shapeText(shape)}${init})`);
      const opText = b.c.pick(['+', '*', '-']);
      const left = b.c.oneIn(3);
      const use = b.bind(left ? `${decl.ref} ${opText} ${v.ref}` : `${v.ref} ${opText} ${decl.ref}`, v.shape);
      // A size that fits no broadcast: not 1, and not the dim it meets.
      const wrong = [...shape];
      const at = b.ev(wrong[0]) === 1 ? wrong.length - 1 : 0;
      const meets = v.shape[rank(v) - wrong.length + at];
      wrong[at] = num(b.ev(meets) + 1);
      if (b.ev(meets) !== 1) b.mutant({ kind: 'broadcast', tag: decl.tag, text: `  ${decl.ref} = param(${shapeText(wrong)}${init})`, at: use.tag, codes: ['NN2101'] });
      b.p.feature('param');
      return use;
    },
  },
  {
    name: 'residual',
    when: (v, b) => isFloat(v) && b.history.some((u) => u !== v && u.dtype === 'float' && sameShape(b, u, v)),
    run(b, v) {
      const u = b.c.pick(b.history.filter((w) => w !== v && w.dtype === 'float' && sameShape(b, w, v)));
      b.p.feature('residual');
      return b.bind(`${v.ref} ${b.c.pick(['+', '*', '-'])} ${u.ref}`, v.shape);
    },
  },
  {
    name: 'linear',
    when: (v, b) => isFloat(v) && rank(v) >= 2 && rank(v) <= 3 && b.isSize(last(v)),
    run(b, v) {
      const n = last(v);
      const m = b.c.oneIn(3) ? n : width(b);
      const out = rule.linear(v.shape, m);
      const form = b.c.int(6);
      b.p.feature('layer:Linear');
      const args = (inF: D) =>
        form === 3 ? `Linear(in_features = ${t(inF)}, out_features = ${t(m)})` : form === 4 ? `Linear(${t(inF)}, ${t(m)}, bias = false)` : `Linear(${t(inF)}, ${t(m)})`;
      if (form === 1 || form === 2) {
        // Inline: the layer is made where it is applied.
        const pipe = form === 2;
        if (pipe) b.p.feature('pipe');
        const text = (inF: D) => (pipe ? `${v.ref} |> ${args(inF)}` : `${args(inF)}(${v.ref})`);
        const use = b.bind(text(n), out);
        b.mutant({ kind: 'in_features', tag: use.tag, text: `  ${use.ref} = ${text(add(n, 1))}`, at: use.tag, codes: ['NN2103'] });
        return use;
      }
      const decl = b.declare('fc', args(n));
      // Applied twice (shared weights) where its output size is its input size for every instance.
      const twice = form !== 5 && dimText(m) === dimText(n);
      const apply = form === 5 ? `${v.ref} |> ${decl.ref}` : twice ? `${decl.ref}(${decl.ref}(${v.ref}))` : `${decl.ref}(${v.ref})`;
      if (twice) b.p.feature('shared-layer');
      const use = b.bind(apply, out);
      b.mutant({ kind: 'in_features', tag: decl.tag, text: `  ${decl.ref} = ${args(add(n, 1))}`, at: use.tag, codes: ['NN2103'], related: decl.tag });
      return use;
    },
  },
  {
    name: 'matmul',
    when: (v) => isFloat(v) && rank(v) >= 2 && rank(v) <= 3 && isConstant(last(v)),
    run(b, v) {
      if (rank(v) === 3 && b.c.oneIn(3)) {
        // Attention-like: softmax(h @ hᵀ) @ h.
        b.p.feature('op:matmul');
        b.p.feature('op:softmax');
        b.p.feature('op:transpose');
        return b.bind(`softmax(${v.ref} @ transpose(${v.ref}, 1, 2), -1) @ ${v.ref}`, v.shape);
      }
      const m = width(b);
      const decl = b.declare('w', `param([${t(last(v))}, ${t(m)}])`);
      const use = b.bind(`${v.ref} @ ${decl.ref}`, rule.matmul(v.shape, [last(v), m]));
      b.mutant({ kind: 'matmul-inner', tag: decl.tag, text: `  ${decl.ref} = param([${t(add(last(v), 1))}, ${t(m)}])`, at: use.tag, codes: ['NN2102'] });
      b.p.feature('op:matmul');
      b.p.feature('param');
      return use;
    },
  },
  {
    name: 'layer_norm',
    when: (v, b) => isFloat(v) && rank(v) >= 2 && b.isSize(last(v)),
    run(b, v) {
      b.p.feature('layer:LayerNorm');
      return normLayer(b, v, 'LayerNorm', last(v), 'NN2111');
    },
  },
  {
    name: 'batch_norm1d',
    when: (v, b) => isFloat(v) && (rank(v) === 2 || rank(v) === 3) && b.isSize(v.shape[1]),
    run(b, v) {
      b.p.feature('layer:BatchNorm1d');
      return normLayer(b, v, 'BatchNorm1d', v.shape[1], 'NN2111');
    },
  },
  {
    name: 'batch_norm2d',
    weight: 2,
    when: (v, b) => isFloat(v) && rank(v) === 4 && b.isSize(v.shape[1]),
    run(b, v) {
      b.p.feature('layer:BatchNorm2d');
      return normLayer(b, v, 'BatchNorm2d', v.shape[1], 'NN2104');
    },
  },
  {
    name: 'softmax',
    when: (v) => isFloat(v) && rank(v) >= 2,
    run(b, v) {
      const f = b.c.pick(['softmax', 'log_softmax']);
      const { axis, text } = axisOf(b, rank(v));
      const form = b.c.int(4);
      const call = (a: string) => [`${f}(${v.ref})`, `${f}(${v.ref}, axis = ${a})`, `${f}(${v.ref}, dim = ${a})`, `${f}(${v.ref}, ${a})`][form];
      b.p.feature(`op:${f}`);
      if (form === 0 && axis !== rank(v) - 1) return b.bind(`${f}(${v.ref}, ${text})`, v.shape);
      const use = b.bind(call(text), v.shape);
      if (form !== 0) b.mutant({ kind: 'axis', tag: use.tag, text: `  ${use.ref} = ${call(String(rank(v)))}`, at: use.tag, codes: ['NN2109'] });
      return use;
    },
  },
  {
    name: 'normalize',
    when: (v) => isFloat(v) && rank(v) >= 2,
    run(b, v) {
      const { text } = axisOf(b, rank(v));
      const form = b.c.int(3);
      const f = ['mean', 'sum', 'max'][form];
      const expr = (a: string) =>
        [`${v.ref} - mean(${v.ref}, ${a}, keepdims = true)`, `${v.ref} / (sum(abs(${v.ref}), ${a}, keepdim = true) + 1)`, `${v.ref} - max(${v.ref}, axis = ${a}, keepdims = true)`][form];
      b.p.feature(`op:${f}`);
      b.p.feature('keepdims');
      const use = b.bind(expr(text), v.shape);
      b.mutant({ kind: 'axis', tag: use.tag, text: `  ${use.ref} = ${expr(String(-rank(v) - 1))}`, at: use.tag, codes: ['NN2109'] });
      return use;
    },
  },
  {
    name: 'global',
    when: isFloat,
    run(b, v) {
      const form = b.c.int(3);
      b.p.feature(['op:mean', 'op:max', 'op:sum'][form]);
      b.p.feature('reduce-all');
      return b.bind([`${v.ref} - mean(${v.ref})`, `${v.ref} / (max(abs(${v.ref})) + 1)`, `${v.ref} * sum(${v.ref} * 0 + 1) * 0.1`][form], v.shape);
    },
  },
  {
    name: 'reduce',
    when: (v) => isFloat(v) && rank(v) >= 3,
    run(b, v) {
      const { axis, text } = axisOf(b, rank(v));
      const f = b.c.pick(['mean', 'sum', 'max']);
      const form = b.c.int(3);
      const call = (a: string) => [`${f}(${v.ref}, ${a})`, `${f}(${v.ref}, axis = ${a})`, `${f}(${v.ref}, dim = ${a}, keepdim = false)`][form];
      b.p.feature(`op:${f}`);
      const use = b.bind(call(text), rule.reduce(v.shape, axis, false));
      b.mutant({ kind: 'axis', tag: use.tag, text: `  ${use.ref} = ${call(String(rank(v)))}`, at: use.tag, codes: ['NN2109'] });
      return use;
    },
  },
  {
    name: 'transpose',
    when: (v) => isFloat(v) && rank(v) >= 3,
    run(b, v) {
      const a = b.c.between(1, rank(v) - 1);
      let c2 = b.c.between(1, rank(v) - 1);
      if (c2 === a) c2 = a === 1 ? 2 : 1;
      const form = b.c.int(2);
      const call = (x: number, y: number) => (form === 0 ? `transpose(${v.ref}, ${x}, ${y})` : `transpose(${v.ref}, dim0 = ${x}, dim1 = ${y})`);
      b.p.feature('op:transpose');
      const use = b.bind(call(a, c2), rule.transpose(v.shape, a, c2));
      b.mutant({ kind: 'axis', tag: use.tag, text: `  ${use.ref} = ${call(a, rank(v) + 1)}`, at: use.tag, codes: ['NN2109'] });
      return use;
    },
  },
  {
    // One entry for the six, so that together they are about as likely as one other op.
    name: 'axes',
    weight: 1,
    when: (v, b) => AXIS_OPS.some((op) => op.when(v, b)),
    run: (b, v) => b.c.pick(AXIS_OPS.filter((op) => op.when(v, b))).run(b, v),
  },
  {
    name: 'split',
    when: (v, b) => isFloat(v) && rank(v) === 2 && isConstant(last(v)) && factor(b.ev(last(v))) !== null,
    run(b, v) {
      const n = b.ev(last(v));
      const f = factor(n)!;
      const form = b.c.int(2);
      const batch = form === 0 ? b.batchName : '-1';
      b.p.feature('op:reshape');
      const use = b.bind(`reshape(${v.ref}, [${batch}, ${f}, ${n / f}])`, [v.shape[0], num(f), num(n / f)]);
      b.mutant({ kind: 'reshape-count', tag: use.tag, text: `  ${use.ref} = reshape(${v.ref}, [${batch}, ${f}, ${n / f + 1}])`, at: use.tag, codes: ['NN2106'] });
      return use;
    },
  },
  {
    name: 'flatten',
    when: (v) => isFloat(v) && rank(v) >= 3,
    run(b, v) {
      const allConstant = v.shape.slice(1).every(isConstant);
      const forms = [`flatten(${v.ref}, 1)`, `flatten(${v.ref})`, `${v.ref} |> flatten`, `flatten(${v.ref}, start_dim = 1)`];
      if (allConstant) forms.push(`reshape(${v.ref}, [${b.batchName}, -1])`, `reshape(${v.ref}, [-1, ${b.ev(product(v.shape.slice(1)))}])`);
      if (rank(v) === 4) forms.push(`flatten(${v.ref}, 2)`, `flatten(${v.ref}, 1, 2)`);
      const text = b.c.pick(forms);
      b.p.feature(text.includes('reshape') ? 'op:reshape' : 'op:flatten');
      if (text.includes('|>')) b.p.feature('pipe');
      const shape = text.endsWith(', 1, 2)') ? rule.flatten(v.shape, 1, 2) : text.endsWith(', 2)') ? rule.flatten(v.shape, 2, -1) : rule.flatten(v.shape, 1, -1);
      return b.bind(text, shape);
    },
  },
  {
    name: 'concat',
    when: (v, b) => isFloat(v) && rank(v) >= 2 && concatAxes(b, v, v).length > 0,
    run(b, v) {
      const partners = b.history.filter((u) => u.dtype === 'float' && rank(u) === rank(v) && concatAxes(b, u, v).length > 0);
      const u = partners.length > 0 && !b.c.oneIn(3) ? b.c.pick(partners) : v;
      const axes = concatAxes(b, u, v);
      const axis = b.c.pick(axes);
      const form = b.c.int(3);
      const call = (a: number) => [`concat(${v.ref}, ${u.ref}, axis = ${a})`, `concat(${v.ref}, ${u.ref}, ${a})`, `concat(${v.ref}, ${u.ref}, dim = ${a})`][form];
      b.p.feature('op:concat');
      const use = b.bind(call(axis), rule.concat([v.shape, u.shape], axis));
      // Along another axis the inputs differ at this one (NN2107), when they do.
      const differ = b.ev(u.shape[axis]) !== b.ev(v.shape[axis]);
      const other = axes.length === 1 && differ ? Array.from({ length: rank(v) - 1 }, (_, k) => k + 1).find((k) => k !== axis) : undefined;
      if (other !== undefined) b.mutant({ kind: 'concat-axis', tag: use.tag, text: `  ${use.ref} = ${call(other)}`, at: use.tag, codes: ['NN2107'] });
      return use;
    },
  },
  {
    name: 'dropout',
    when: isFloat,
    run(b, v) {
      const rate = b.c.pick([0, 0.25, 0.1, 0.5]);
      const form = b.c.int(4);
      if (rate > 0) b.p.dropout = true;
      const p = rate === 0.5 ? '' : rate === 0 ? '0.0' : String(rate);
      const texts = (r: string) => [r ? `dropout(${v.ref}, ${r})` : `dropout(${v.ref})`, `dropout(${v.ref}, p = ${r || 0.5})`, `${v.ref} |> dropout(p = ${r || 0.5})`, `dropout(${v.ref}, ${r || 0.5})`][form];
      b.p.feature('op:dropout');
      const use = b.bind(texts(p), v.shape);
      b.mutant({ kind: 'dropout-rate', tag: use.tag, text: `  ${use.ref} = ${texts('1.5')}`, at: use.tag, codes: ['NN2007'] });
      return use;
    },
  },
  {
    name: 'loss',
    weight: 2,
    when: isFloat,
    run(b, v) {
      // A loss called in a body: a scalar that broadcasts.
      const ids = b.history.find((u) => u.dtype === 'int' && rank(v) === rank(u) + 1 && u.shape.every((d, k) => dimText(d) === dimText(v.shape[k])));
      const classes = [...namesOf(last(v))].every((n) => b.p.constValues.has(n)) ? evalDim(last(v), b.p.constValues) : null;
      // Labels at hand are rare: a class loss takes them every other time.
      const labels = ids !== undefined && classes !== null && classes >= b.p.idsBelow && b.c.oneIn(2);
      const f = b.c.pick(labels ? ['nll', 'cross_entropy'] : ['mse', 'bce_with_logits', 'huber', 'smooth_l1', 'kl_div']);
      b.p.feature(`op:${f}`);
      const texts: Record<string, string> = {
        mse: `${v.ref} + mse(${v.ref}, ${v.ref} * 0.5) * 0.1`,
        bce_with_logits: `${v.ref} * bce_with_logits(${v.ref}, sigmoid(${v.ref}))`,
        huber: `${v.ref} + huber(${v.ref}, ${v.ref} * 0.5, delta = 0.5) * 0.1`,
        smooth_l1: `${v.ref} - smooth_l1(${v.ref} * 0.5, ${v.ref}) * 0.1`,
        kl_div: `${v.ref} + kl_div(log_softmax(${v.ref}, -1), softmax(${v.ref} * 0.5, -1)) * 0.1`,
        nll: `${v.ref} + nll(log_softmax(${v.ref}, -1), ${ids?.ref}) * 0.1`,
        cross_entropy: `${v.ref} + cross_entropy(${v.ref}, ${ids?.ref}, label_smoothing = 0.1) * 0.1`,
      };
      if (f === 'kl_div' || f === 'nll') b.p.feature('op:log_softmax');
      // Labels read from the int input: the input made float is then wrong at two lines, not one.
      if ((f === 'nll' || f === 'cross_entropy') && ids?.ref === 'x') b.p.mutants.splice(0, Infinity, ...b.p.mutants.filter((m) => m.kind !== 'embedding-float'));
      return b.bind(texts[f], v.shape);
    },
  },
  {
    name: 'subscript',
    weight: 2,
    when: (v, b) => isFloat(v) && rank(v) >= 2 && v.shape.slice(1).some((d) => b.ev(d) >= 2),
    run(b, v) {
      const axis = b.c.pick(v.shape.map((_, k) => k).filter((k) => k > 0 && b.ev(v.shape[k]) >= 2));
      const d = v.shape[axis];
      const n = b.ev(d);
      const lead = axis === rank(v) - 1 && b.c.oneIn(2) ? '..., ' : ':, '.repeat(axis);
      const at = (item: string) => `${v.ref}[${lead}${item}]`;
      const cut = (size: D) => v.shape.map((e, k) => (k === axis ? size : e));
      const forms: [string, D[]][] = [[at(':-1'), cut(sub(d, 1))], [at('1:'), cut(sub(d, 1))]];
      if (isConstant(d)) {
        const start = b.c.int(n - 1);
        const stop = b.c.between(start + 1, n);
        forms.push([at(`${start}:${stop}`), cut(num(stop - start))], [at('::2'), cut(num(Math.ceil(n / 2)))], [at(`1::2`), cut(num(Math.floor(n / 2)))]);
      }
      // An index drops its axis (kept off rank-2 values, whose last axis the head needs).
      const index = isConstant(d) ? b.c.between(-n, n - 1) : b.c.pick([0, -1]);
      if (rank(v) >= 3) forms.push([at(String(index)), v.shape.filter((_, k) => k !== axis)]);
      const [text, shape] = b.c.pick(forms);
      b.p.feature('op:subscript');
      const use = b.bind(text, shape);
      if (rank(v) >= 3 && isConstant(d) && text === at(String(index))) b.mutant({ kind: 'index-range', tag: use.tag, text: `  ${use.ref} = ${at(String(n))}`, at: use.tag, codes: ['NN2143'] });
      b.mutant({ kind: 'too-many-indices', tag: use.tag, text: `  ${use.ref} = ${v.ref}[${':, '.repeat(rank(v))}0]`, at: use.tag, codes: ['NN2142'] });
      return use;
    },
  },
  {
    name: 'pieces',
    when: (v, b) => isFloat(v) && rank(v) >= 2 && v.shape.slice(1).some((d) => isConstant(d) && b.ev(d) >= 2),
    run(b, v) {
      const axis = b.c.pick(v.shape.map((_, k) => k).filter((k) => k > 0 && isConstant(v.shape[k]) && b.ev(v.shape[k]) >= 2));
      const n = b.ev(v.shape[axis]);
      const dim = b.c.oneIn(2) ? String(axis) : String(axis - rank(v));
      let sizes: number[];
      let text: string;
      if (b.c.oneIn(2)) {
        const chunks = b.c.between(2, Math.min(n, 3));
        const each = Math.ceil(n / chunks);
        sizes = Array.from({ length: Math.ceil(n / each) }, (_, k) => Math.min(each, n - k * each));
        text = `chunk(${v.ref}, ${chunks}, dim = ${dim})`;
        b.p.feature('op:chunk');
      } else {
        const first = b.c.between(1, n - 1);
        const listed = b.c.oneIn(2);
        sizes = listed ? [first, n - first] : Array.from({ length: Math.ceil(n / first) }, (_, k) => Math.min(first, n - k * first));
        text = `split(${v.ref}, ${listed ? `[${first}, ${n - first}]` : first}, ${b.c.oneIn(2) ? `dim = ${dim}` : dim})`;
        b.p.feature('op:split');
      }
      b.p.feature('tuple-binding');
      const pieces = b.bindTuple(text, sizes.map((size) => v.shape.map((e, k) => (k === axis ? num(size) : e))));
      const names = pieces.map((p) => p.ref);
      b.mutant({ kind: 'tuple-count', tag: pieces[0].tag, text: `  ${[...names, 'extra'].join(', ')} = ${text}`, at: pieces[0].tag, codes: ['NN2147'] });
      return b.c.pick(pieces);
    },
  },
  {
    name: 'mask',
    when: isFloat,
    run(b, v) {
      const [symbol, op] = b.c.pick([['>', 'gt'], ['<', 'lt'], ['>=', 'ge'], ['<=', 'le'], ['!=', 'ne'], ['==', 'eq']] as const);
      const threshold = b.c.pick(['0', '0.5', '-0.25']);
      const mask = `(${v.ref} ${symbol} ${threshold})`;
      const text = b.c.pick([`${v.ref} * ${mask}`, `${mask} * ${v.ref}`, `${v.ref} - ${mask} * 0.5`, `${v.ref} * (${v.ref} * 0.5 ${symbol} ${v.ref})`]);
      b.p.feature(`op:${op}`);
      b.p.feature('mask');
      const use = b.bind(text, v.shape);
      b.mutant({ kind: 'mask-as-float', tag: use.tag, text: `  ${use.ref} = tanh${mask} + ${v.ref}`, at: use.tag, codes: ['NN2140'] });
      return use;
    },
  },
  {
    name: 'select',
    when: isFloat,
    run(b, v) {
      const x = v.ref;
      // Thresholds off the round values a constant or one-hot entry takes, so no back end's rounding flips a comparison.
      const keepdims = rank(v) >= 2 ? [`where(mean(${x}, -1, keepdims = true) > 0.0625, ${x}, -${x})`] : [];
      const forms: [string, string][] = [
        [`where(${x} > 0.375, ${x}, ${x} * 0.5)`, 'where'],
        [`where(cond = ${x} < 0.625, input = ${x} * 2, other = ${x})`, 'where'],
        ...keepdims.map((text): [string, string] => [text, 'where']),
        [`masked_fill(${x}, ${x} < -0.5625, 0)`, 'masked_fill'],
        [`masked_fill(${x}, mask = ${x} > 1.3125, value = -1)`, 'masked_fill'],
      ];
      const [text, op] = b.c.pick(forms);
      b.p.feature(`op:${op}`);
      b.p.feature('mask');
      if (text.includes('mean(')) b.p.feature('op:mean');
      const use = b.bind(text, v.shape);
      const wrong = op === 'where' ? `where(${x} * 0.5, ${x}, ${x})` : `masked_fill(${x}, ${x} * 0.5, 0)`;
      b.mutant({ kind: 'float-as-mask', tag: use.tag, text: `  ${use.ref} = ${wrong}`, at: use.tag, codes: ['NN2160'] });
      return use;
    },
  },
  {
    name: 'triangle',
    when: (v) => isFloat(v) && rank(v) >= 3,
    run(b, v) {
      const f = b.c.pick(['tril', 'triu']);
      const forms = [`${f}(${v.ref})`, `${f}(${v.ref}, 1)`, `${f}(${v.ref}, diagonal = -1)`, `${f}(input = ${v.ref}, diagonal = 0)`];
      b.p.feature(`op:${f}`);
      const use = b.bind(`${b.c.pick(forms)} + ${v.ref} * 0.5`, v.shape);
      b.mutant({ kind: 'triangle-rank', tag: use.tag, text: `  ${use.ref} = ${f}(sum(${v.ref})) + ${v.ref}`, at: use.tag, codes: ['NN2108'] });
      return use;
    },
  },
  {
    name: 'moments',
    when: (v, b) => isFloat(v) && rank(v) >= 2 && v.shape.slice(1).some((d) => b.ev(d) >= 2),
    run(b, v) {
      const axes = v.shape.map((_, k) => k).filter((k) => k > 0 && b.ev(v.shape[k]) >= 2);
      const axis = b.c.pick(axes);
      const a = b.c.oneIn(2) ? String(axis) : String(axis - rank(v));
      const x = v.ref;
      // std's gradient divides by it: a ramp along the axis (cumsum of ones) keeps its entries apart.
      const ramped = `${x} + cumsum(${x} * 0 + 1, dim = ${a})`;
      const forms: [(axisText: string) => string, string[]][] = [
        [(t2) => `${x} * var(${x}, ${t2}, keepdims = true)`, ['var']],
        [(t2) => `${x} - var(${x}, dim = ${t2}, keepdim = true, correction = 0)`, ['var']],
        [(t2) => `(${x} - mean(${x}, ${t2}, keepdims = true)) / (std(${ramped}, dim = ${t2}, keepdim = true) + 1)`, ['std', 'mean', 'cumsum']],
        [(t2) => `${x} - min(${x}, ${t2}, keepdims = true)`, ['min']],
        [(t2) => `${x} + cumsum(${x}, dim = ${t2}) * 0.5`, ['cumsum']],
      ];
      const [form, ops] = b.c.pick(forms);
      ops.forEach((o) => b.p.feature(`op:${o}`));
      b.p.feature('keepdims');
      const use = b.bind(form(a), v.shape);
      if (!ops.includes('std')) b.mutant({ kind: 'axis', tag: use.tag, text: `  ${use.ref} = ${form(String(rank(v)))}`, at: use.tag, codes: ['NN2109'] });
      return use;
    },
  },
  {
    name: 'moments-reduce',
    when: (v) => isFloat(v) && rank(v) >= 3,
    run(b, v) {
      const { axis, text } = axisOf(b, rank(v));
      const f = b.c.pick(['var', 'min']);
      // A variance over a single entry divides by 0 (correction 1): the population one then.
      const correction = f === 'var' && b.ev(v.shape[axis]) < 2 ? ', correction = 0' : '';
      const call = (a: string) => `${f}(${v.ref}, dim = ${a}${correction})`;
      b.p.feature(`op:${f}`);
      const use = b.bind(call(text), rule.reduce(v.shape, axis, false));
      b.mutant({ kind: 'axis', tag: use.tag, text: `  ${use.ref} = ${call(String(rank(v)))}`, at: use.tag, codes: ['NN2109'] });
      return use;
    },
  },
  {
    name: 'argmax',
    when: (v) => isFloat(v) && rank(v) >= 2 && isConstant(last(v)),
    run(b, v) {
      const n = dimText(last(v));
      const form = b.c.int(3);
      const text = [`${v.ref} * one_hot(argmax(${v.ref}, -1), ${n})`, `${v.ref} + one_hot(argmax(${v.ref}, dim = -1, keepdim = false), num_classes = ${n})`, `one_hot(ids = argmax(input = ${v.ref}, axis = ${rank(v) - 1}), num_classes = ${n}) - ${v.ref}`][form];
      b.p.feature('op:argmax');
      b.p.feature('op:one_hot');
      const use = b.bind(text, v.shape);
      b.mutant({ kind: 'int-as-float', tag: use.tag, text: `  ${use.ref} = ${v.ref} * relu(argmax(${v.ref}, -1))`, at: use.tag, codes: ['NN2161'] });
      return use;
    },
  },
  {
    name: 'narrow',
    when: (v) => isFloat(v) && rank(v) >= 2 && v.shape.slice(1).some((d) => isConstant(d) && evalDim(d, new Map()) >= 2),
    run(b, v) {
      const axes = v.shape.map((_, k) => k).filter((k) => k > 0 && isConstant(v.shape[k]) && b.ev(v.shape[k]) >= 2);
      const axis = b.c.pick(axes);
      const size = b.ev(v.shape[axis]);
      const start = b.c.int(size - 1);
      const length = b.c.between(1, size - start);
      const dimText2 = b.c.oneIn(2) ? String(axis) : String(axis - rank(v));
      const call = (first: number) => (b.c.oneIn(4) ? `narrow(${v.ref}, dim = ${dimText2}, start = ${first}, length = ${length})` : `narrow(${v.ref}, ${dimText2}, ${first}, ${length})`);
      b.p.feature('op:narrow');
      const use = b.bind(call(start), v.shape.map((d, k) => (k === axis ? num(length) : d)));
      b.mutant({ kind: 'narrow-range', tag: use.tag, text: `  ${use.ref} = ${call(size - length + 1)}`, at: use.tag, codes: ['NN2007'] });
      return use;
    },
  },
  {
    name: 'einsum',
    // Rank 3 and more: the batch axis stays first, and a reduction leaves the head its last axis.
    when: (v) => isFloat(v) && rank(v) >= 3,
    run(b, v) {
      const n = rank(v);
      const swapped = [...v.shape.slice(0, -2), v.shape[n - 1], v.shape[n - 2]];
      const forms: [string, D[]][] = [[`einsum("...ij->...ji", ${v.ref})`, swapped], [`einsum("...ij,...ij->...i", ${v.ref}, ${v.ref})`, v.shape.slice(0, -1)]];
      const [text, shape] = b.c.pick(forms);
      b.p.feature('op:einsum');
      const use = b.bind(text, shape);
      b.mutant({ kind: 'einsum-operands', tag: use.tag, text: `  ${use.ref} = einsum("...ij,jk->...ik", ${v.ref})`, at: use.tag, codes: ['NN2171'] });
      return use;
    },
  },
  {
    name: 'attention',
    weight: 2,
    when: (v) => isFloat(v) && rank(v) === 3 && isConstant(last(v)),
    run(b, v) {
      const d = b.ev(last(v));
      if (b.c.oneIn(2)) {
        const forms = [`scaled_dot_product_attention(${v.ref}, ${v.ref}, ${v.ref})`, `scaled_dot_product_attention(${v.ref}, ${v.ref}, ${v.ref}, causal = true)`, `scaled_dot_product_attention(q = ${v.ref}, k = ${v.ref} * 0.5, v = ${v.ref}, scale = 0.5)`];
        b.p.feature('op:scaled_dot_product_attention');
        return b.bind(b.c.pick(forms), v.shape);
      }
      const heads = b.c.pick(Array.from({ length: d }, (_, k) => k + 1).filter((h) => d % h === 0));
      const causal = b.c.oneIn(2) ? ', causal = true' : '';
      b.p.feature('layer:MultiheadAttention');
      const decl = b.declare('attn', `MultiheadAttention(${d}, ${heads}${causal})`);
      const use = b.bind(`${decl.ref}(${v.ref})`, v.shape);
      b.mutant({ kind: 'heads', tag: decl.tag, text: `  ${decl.ref} = MultiheadAttention(${d}, ${d + 1}${causal})`, at: use.tag, codes: ['NN2130'] });
      return use;
    },
  },
  {
    name: 'group_norm',
    when: (v) => isFloat(v) && rank(v) >= 2 && v.shape.slice(1).every(isConstant),
    run(b, v) {
      const channels = b.ev(v.shape[1]);
      const image = rank(v) === 4 && b.ev(v.shape[2]) * b.ev(v.shape[3]) > 1;
      const kind = b.c.int(image ? 3 : 2);
      if (kind === 1) {
        b.p.feature('layer:Identity');
        const decl = b.declare('skip', 'Identity()');
        return b.bind(`${decl.ref}(${v.ref})`, v.shape);
      }
      if (kind === 2) {
        b.p.feature('layer:InstanceNorm2d');
        const affine = b.c.oneIn(2) ? ', affine = true' : '';
        const decl = b.declare('inorm', `InstanceNorm2d(${channels}${affine})`);
        const use = b.bind(`${decl.ref}(${v.ref})`, v.shape);
        b.mutant({ kind: 'norm-size', tag: decl.tag, text: `  ${decl.ref} = InstanceNorm2d(${channels + 1}${affine})`, at: use.tag, codes: ['NN2104'], related: decl.tag });
        return use;
      }
      const groups = b.c.pick(Array.from({ length: channels }, (_, k) => k + 1).filter((g) => channels % g === 0));
      b.p.feature('layer:GroupNorm');
      const decl = b.declare('gn', `GroupNorm(${groups}, ${channels})`);
      const use = b.bind(`${decl.ref}(${v.ref})`, v.shape);
      if (channels > 1) b.mutant({ kind: 'groups', tag: decl.tag, text: `  ${decl.ref} = GroupNorm(${channels + 1}, ${channels})`, at: use.tag, codes: ['NN2007'] });
      return use;
    },
  },
  {
    name: 'rms_norm',
    when: (v, b) => isFloat(v) && rank(v) >= 2 && b.isSize(last(v)),
    run(b, v) {
      b.p.feature('layer:RMSNorm');
      return normLayer(b, v, 'RMSNorm', last(v), 'NN2111');
    },
  },
  {
    name: 'conv1d',
    weight: 2,
    when: (v, b) => isFloat(v) && rank(v) === 3 && b.isSize(v.shape[1]),
    run(b, v) {
      const [, cin, length] = v.shape;
      const dilation = b.c.pick([1, 1, 2]);
      const kernel = b.c.between(1, 3);
      // A symbolic length may be short in another instance: padded so every window fits.
      const padding = !isConstant(length) || dilation * (kernel - 1) > b.ev(length) - 1 ? dilation * (kernel - 1) : b.c.int(2);
      const stride = b.c.pick([1, 2, 1]);
      const out = b.p.constFor(b.c.pick([2, 3, 4]), 'ch');
      // padding = "same" keeps the length: stride 1 and an odd window.
      const same = stride === 1 && (dilation * (kernel - 1)) % 2 === 0 && b.c.oneIn(3);
      const paddingText = same ? ', padding = "same"' : padding !== 0 ? `, padding = ${padding}` : '';
      const extra = (stride !== 1 ? `, stride = ${stride}` : '') + paddingText + (dilation !== 1 ? `, dilation = ${dilation}` : '');
      const decl = b.declare('conv', `Conv1d(${t(cin)}, ${t(out)}, ${kernel}${extra})`);
      const reach = dilation * (kernel - 1) + 1;
      const use = b.bind(`${decl.ref}(${v.ref})`, [v.shape[0], out, same ? length : rule.window(length, num(reach), num(stride), num(padding))]);
      b.p.feature('layer:Conv1d');
      b.mutant({ kind: 'in_channels', tag: decl.tag, text: `  ${decl.ref} = Conv1d(${t(add(cin, 1))}, ${t(out)}, ${kernel}${extra})`, at: use.tag, codes: ['NN2104'], related: decl.tag });
      return use;
    },
  },
  {
    name: 'recurrent',
    when: (v, b) => isFloat(v) && rank(v) === 3 && b.isSize(last(v)) && isConstant(v.shape[1]) && evalDim(v.shape[1], new Map()) <= 6,
    run(b, v) {
      const ctor = b.c.pick(['LSTM', 'GRU']);
      const hidden = width(b);
      const extra = b.c.pick(['', ', layers = 2', ', bidirectional = true', ', num_layers = 2, bidirectional = true', ', bias = false']);
      const directions = extra.includes('bidirectional') ? 2 : 1;
      b.p.feature(`layer:${ctor}`);
      const decl = b.declare(ctor.toLowerCase(), `${ctor}(${t(last(v))}, ${t(hidden)}${extra})`);
      const use = b.bind(`${decl.ref}(${v.ref})`, [v.shape[0], v.shape[1], mul(hidden, directions)]);
      b.mutant({ kind: 'input_size', tag: decl.tag, text: `  ${decl.ref} = ${ctor}(${t(add(last(v), 1))}, ${t(hidden)}${extra})`, at: use.tag, codes: ['NN2111'], related: decl.tag });
      return use;
    },
  },
  {
    name: 'resample',
    when: (v) => isFloat(v) && rank(v) === 4 && isConstant(v.shape[2]) && isConstant(v.shape[3]),
    run(b, v) {
      const [n, ch, h, w] = v.shape;
      if (b.c.oneIn(2)) {
        const size = b.c.between(1, Math.min(b.ev(h), b.ev(w)));
        b.p.feature('op:adaptive_avg_pool2d');
        return b.bind(b.c.oneIn(2) ? `adaptive_avg_pool2d(${v.ref}, ${size})` : `adaptive_avg_pool2d(${v.ref}, output_size = ${size})`, [n, ch, num(size), num(size)]);
      }
      const scale = b.c.pick([2, 3]);
      const mode = b.c.pick(['nearest', 'bilinear']);
      const call = (m: string) => (m === 'nearest' && b.c.oneIn(2) ? `upsample(${v.ref}, ${scale})` : `upsample(${v.ref}, scale = ${scale}, mode = "${m}")`);
      b.p.feature('op:upsample');
      const use = b.bind(call(mode), [n, ch, mul(h, scale), mul(w, scale)]);
      b.mutant({ kind: 'upsample-mode', tag: use.tag, text: `  ${use.ref} = upsample(${v.ref}, scale = ${scale}, mode = "cubic")`, at: use.tag, codes: ['NN2007'] });
      return use;
    },
  },
  {
    name: 'conv_transpose2d',
    when: (v, b) => isFloat(v) && rank(v) === 4 && b.isSize(v.shape[1]),
    run(b, v) {
      const [n, cin, h, w] = v.shape;
      const kernel = b.c.between(1, 3);
      const stride = b.c.pick([1, 2]);
      const out = b.p.constFor(b.c.pick([2, 3]), 'ch');
      const extra = stride !== 1 ? `, stride = ${stride}` : '';
      const decl = b.declare('up', `ConvTranspose2d(${t(cin)}, ${t(out)}, ${kernel}${extra})`);
      const grow = (d: D) => add(mul(sub(d, 1), stride), kernel);
      const use = b.bind(`${decl.ref}(${v.ref})`, [n, out, grow(h), grow(w)]);
      b.p.feature('layer:ConvTranspose2d');
      b.mutant({ kind: 'in_channels', tag: decl.tag, text: `  ${decl.ref} = ConvTranspose2d(${t(add(cin, 1))}, ${t(out)}, ${kernel}${extra})`, at: use.tag, codes: ['NN2104'], related: decl.tag });
      return use;
    },
  },
  {
    name: 'detach',
    when: isFloat,
    run(b, v) {
      b.p.feature('op:detach');
      return b.bind(`${v.ref} + detach(${v.ref}) * 0.5`, v.shape);
    },
  },
  {
    name: 'fn',
    weight: 2,
    when: (v, b) => isFloat(v) && FN_TEMPLATES.some((f) => fnFits(b, f, v)),
    run(b, v) {
      const f = b.p.useFn(b.c.pick(FN_TEMPLATES.filter((x) => fnFits(b, x, v))));
      if (f.second === 'none') {
        if (b.c.oneIn(3)) {
          b.p.feature('pipe');
          return b.bind(`${v.ref} |> ${f.name}`, v.shape);
        }
        return b.bind(`${f.name}(${v.ref})`, v.shape);
      }
      if (f.second === 'same') {
        const u = b.c.pick(b.history.filter((w) => w.dtype === 'float' && sameShape(b, w, v)));
        return b.bind(`${f.name}(${v.ref}, ${u.ref})`, v.shape);
      }
      const m = width(b);
      const pShape = f.second === 'vector' ? [last(v)] : [last(v), m];
      const decl = b.declare('w', `param(${shapeText(pShape)}${f.second === 'vector' ? ', init = ones' : ''})`);
      const use = b.bind(`${f.name}(${v.ref}, ${decl.ref})`, f.second === 'vector' ? v.shape : rule.matmul(v.shape, pShape));
      const wrong = [...pShape];
      wrong[0] = add(wrong[0], 1);
      b.mutant({ kind: 'fn-argument', tag: decl.tag, text: `  ${decl.ref} = param(${shapeText(wrong)}${f.second === 'vector' ? ', init = ones' : ''})`, at: use.tag, codes: ['NN2005'] });
      b.p.feature('param');
      return use;
    },
  },
  {
    name: 'conv2d',
    weight: 5,
    when: (v, b) => isFloat(v) && rank(v) === 4 && b.isSize(v.shape[1]),
    run(b, v) {
      const [, cin, h, w] = v.shape;
      const size = Math.min(b.ev(h), b.ev(w));
      const padding = b.c.int(2);
      const kernel = Math.min(b.c.between(1, 3), size + 2 * padding);
      const stride = b.c.pick([1, 2, 1]);
      const out = b.p.constFor(b.c.pick([2, 3, 4]), 'ch');
      const form = b.c.int(5);
      const extra = (stride !== 1 ? `, stride = ${stride}` : '') + (padding !== 0 ? `, padding = ${padding}` : '');
      const ctor = (inC: D, k: number) =>
        form === 1 ? `Conv2d(in_channels = ${t(inC)}, out_channels = ${t(out)}, kernel_size = ${k}${extra})` : form === 2 ? `Conv2d(${t(inC)}, ${t(out)}, ${k}${extra}, bias = false)` : `Conv2d(${t(inC)}, ${t(out)}, ${k}${extra})`;
      const shape = [v.shape[0], out, simplified(b, h, kernel, stride, padding), simplified(b, w, kernel, stride, padding)];
      b.p.feature('layer:Conv2d');
      if (stride !== 1) b.p.feature('conv:stride');
      if (padding !== 0) b.p.feature('conv:padding');
      if (form >= 3) {
        const pipe = form === 4;
        if (pipe) b.p.feature('pipe');
        const text = (inC: D, k: number) => (pipe ? `${v.ref} |> ${ctor(inC, k)}` : `${ctor(inC, k)}(${v.ref})`);
        const use = b.bind(text(cin, kernel), shape);
        b.mutant({ kind: 'in_channels', tag: use.tag, text: `  ${use.ref} = ${text(add(cin, 1), kernel)}`, at: use.tag, codes: ['NN2104'] });
        if (isConstant(h) && isConstant(w)) {
          b.mutant({ kind: 'window', tag: use.tag, text: `  ${use.ref} = ${text(cin, Math.max(b.ev(h), b.ev(w)) + 2 * padding + 1)}`, at: use.tag, codes: ['NN2105'] });
        }
        return use;
      }
      const decl = b.declare('conv', ctor(cin, kernel));
      const use = b.bind(`${decl.ref}(${v.ref})`, shape);
      b.mutant({ kind: 'in_channels', tag: decl.tag, text: `  ${decl.ref} = ${ctor(add(cin, 1), kernel)}`, at: use.tag, codes: ['NN2104'], related: decl.tag });
      return use;
    },
  },
  {
    name: 'pool',
    weight: 3,
    when: (v) => isFloat(v) && rank(v) === 4,
    run(b, v) {
      const [, , h, w] = v.shape;
      const size = Math.min(b.ev(h), b.ev(w));
      const f = b.c.pick(['max_pool2d', 'avg_pool2d']);
      const kernel = Math.min(b.c.between(1, 3), size);
      const stride = b.c.pick([kernel, 1, 2]);
      const padding = b.c.int(Math.floor(kernel / 2) + 1);
      const form = b.c.int(4);
      const args = (k: number) =>
        [
          stride === k && padding === 0 ? `${k}` : `${k}, stride = ${stride}${padding ? `, padding = ${padding}` : ''}`,
          `kernel_size = ${k}, stride = ${stride}, padding = ${padding}`,
          `${k}, ${stride}, ${padding}`,
          `k = ${k}${stride !== k ? `, stride = ${stride}` : ''}`,
        ][form];
      const pipe = form === 3 && padding === 0;
      const text = (k: number) => (pipe ? `${v.ref} |> ${f}(${args(k)})` : `${f}(${v.ref}, ${form === 3 ? args(k) + (padding ? `, padding = ${padding}` : '') : args(k)})`);
      b.p.feature(`op:${f}`);
      if (pipe) b.p.feature('pipe');
      const shape = [v.shape[0], v.shape[1], simplified(b, h, kernel, stride, padding), simplified(b, w, kernel, stride, padding)];
      const use = b.bind(text(kernel), shape);
      if (isConstant(h) && isConstant(w) && !(form === 0 && stride === kernel && padding === 0)) {
        b.mutant({ kind: 'window', tag: use.tag, text: `  ${use.ref} = ${text(Math.max(b.ev(h), b.ev(w)) + 2 * padding + 1)}`, at: use.tag, codes: ['NN2105'] });
      }
      return use;
    },
  },
  {
    name: 'block',
    weight: 2,
    when: (v, b) => isFloat(v) && rank(v) >= 2 && rank(v) <= 4 && b.model === 'Net',
    run: applyBlock,
  },
];

function sameShape(b: Body, u: Val, v: Val): boolean {
  return rank(u) === rank(v) && u.shape.every((d, k) => dimText(d) === dimText(v.shape[k]) || (isConstant(d) && isConstant(v.shape[k]) && b.ev(d) === b.ev(v.shape[k])));
}

/** Non-batch axes along which `u` and `v` may be concatenated (every other dim equal). */
function concatAxes(b: Body, u: Val, v: Val): number[] {
  const known = (d: D) => isConstant(d) || b.isSize(d);
  const same = (k: number) => dimText(u.shape[k]) === dimText(v.shape[k]) || (b.ev(u.shape[k]) === b.ev(v.shape[k]) && known(u.shape[k]) && known(v.shape[k]));
  const axes: number[] = [];
  if (!same(0)) return axes;
  for (let k = 1; k < rank(v); k++) {
    if (!known(v.shape[k]) || !known(u.shape[k])) continue;
    if (Array.from({ length: rank(v) }, (_, j) => j).every((j) => j === k || same(j))) axes.push(k);
  }
  return axes;
}

/** A factor f of n with 1 < f < n, else null. */
function factor(n: number): number | null {
  for (let f = 2; f * f <= n; f++) if (n % f === 0) return f;
  return null;
}

function fnFits(b: Body, f: FnTemplate, v: Val): boolean {
  if (f.ranks && !f.ranks.includes(rank(v))) return false;
  if ((f.second === 'vector' || f.second === 'matrix') && !isConstant(last(v))) return false;
  if (f.second === 'same') return b.history.some((w) => w.dtype === 'float' && sameShape(b, w, v));
  return true;
}

/** A norm layer over `size` features (declared, inline or piped), with its size mutant. */
function normLayer(b: Body, v: Val, ctor: string, size: D, code: string): Val {
  const form = b.c.int(3);
  if (form > 0) {
    const pipe = form === 2;
    if (pipe) b.p.feature('pipe');
    const text = (n: D) => (pipe ? `${v.ref} |> ${ctor}(${t(n)})` : `${ctor}(${t(n)})(${v.ref})`);
    const use = b.bind(text(size), v.shape);
    b.mutant({ kind: 'norm-size', tag: use.tag, text: `  ${use.ref} = ${text(add(size, 1))}`, at: use.tag, codes: [code] });
    return use;
  }
  const decl = b.declare(ctor === 'LayerNorm' ? 'ln' : 'bn', `${ctor}(${t(size)})`);
  const use = b.bind(`${decl.ref}(${v.ref})`, v.shape);
  b.mutant({ kind: 'norm-size', tag: decl.tag, text: `  ${decl.ref} = ${ctor}(${t(add(size, 1))})`, at: use.tag, codes: [code], related: decl.tag });
  return use;
}

/** Ops applicable to `v`, then one picked (with at most `budget` more ops in blocks). */
function step(b: Body, v: Val, allowed: (op: Op) => boolean = () => true): Val {
  const ops = OPS.filter((op) => allowed(op) && op.when(v, b));
  const total = ops.reduce((n, op) => n + (op.weight ?? 1), 0);
  let at = b.c.int(total);
  for (const op of ops) {
    at -= op.weight ?? 1;
    if (at < 0) return op.run(b, v);
  }
  return ops[0].run(b, v);
}

// -- blocks ------------------------------------------------------------------------------

/**
 * A model used as a layer: a block over the value's rank with hyper-parameters for its
 * sizes (and, sometimes, its kernel or its dropout rate), checked on its own with symbolic
 * dims, then instantiated in `Net`.
 */
function applyBlock(b: Body, v: Val): Val {
  const p = b.p;
  const blockName = p.newBlockName();
  const r = rank(v);
  const hyper: { name: string; value: string; dim: D | null }[] = [];
  // The block's names take the instance's values; the outer model's names keep theirs (a dim like `H * W`).
  const env = new Map<string, number>([...b.env, ['B', b.ev(v.shape[0])]]);
  // The block's input pattern: the batch, then names for the dims it may leave symbolic.
  const inputDims: D[] = [name('B')];
  const substitution = new Map<string, D>([['B', v.shape[0]]]);
  const channelAxis = r === 4 ? 1 : r - 1;
  // Its own names for the dims it leaves symbolic, none a name of a dim it takes as it is.
  const kept = new Set<string>();
  if (!isConstant(v.shape[channelAxis])) namesOf(v.shape[channelAxis], kept);
  const spatialNames = (r === 4 ? ['H', 'W', 'P', 'Q'] : r === 3 ? ['T', 'L'] : []).filter((n) => !kept.has(n));
  let spatial = 0;
  for (let k = 1; k < r; k++) {
    const dim = v.shape[k];
    if (k === channelAxis && isConstant(dim) && !p.c.oneIn(3)) {
      hyper.push({ name: 'c', value: String(b.ev(dim)), dim });
      inputDims.push(name('c'));
      env.set('c', b.ev(dim));
      substitution.set('c', dim);
    } else if (k !== channelAxis) {
      const n = spatialNames[spatial++];
      inputDims.push(name(n));
      env.set(n, b.ev(dim));
      substitution.set(n, dim);
    } else {
      inputDims.push(dim);
    }
  }
  // A hyper-parameter as a window: a kernel, a stride, a padding or a pool size.
  // (Its conv takes the channels as a size: a constant, not a dim of the outer input.)
  const windowHyper = r === 4 && isConstant(v.shape[channelAxis]) && b.ev(v.shape[2]) >= 3 && b.ev(v.shape[3]) >= 3 && p.c.oneIn(2) ? p.c.pick(['kernel', 'stride', 'padding', 'pool'] as const) : null;
  const rateHyper = p.c.oneIn(6);
  const windowName = { kernel: 'k', stride: 's', padding: 'pad', pool: 'k' } as const;
  const windowValue = { kernel: 3, stride: 2, padding: 1, pool: 2 } as const;
  if (windowHyper) {
    const n = windowName[windowHyper];
    hyper.push({ name: n, value: String(windowValue[windowHyper]), dim: num(windowValue[windowHyper]) });
    env.set(n, windowValue[windowHyper]);
    p.feature('block:hyper-kernel');
    p.feature(`block:hyper-${windowHyper}`);
  }
  if (rateHyper) {
    hyper.push({ name: 'rate', value: '0.0', dim: null });
    p.feature('block:hyper-rate');
  }
  const inner = new Body(p, blockName, env, 'B', new Set(hyper.map((h) => h.name)));
  let x: Val = { ref: 'x', shape: inputDims, dtype: 'float' };
  inner.history.push(x);
  if (windowHyper) {
    const [batchDim, cin, h, w] = inputDims;
    const k = name('k');
    // The output size, written exactly or in a shorter form equal for every integer size.
    const short = p.c.oneIn(2);
    const size = (d: D): D =>
      windowHyper === 'kernel' ? add(sub(d, k), 1)
        : windowHyper === 'stride' ? add(div(sub(d, 3), name('s')), 1)
          : windowHyper === 'padding' ? (short ? add(d, sub(mul(name('pad'), 2), 2)) : add(sub(add(d, mul(name('pad'), 2)), 3), 1))
            : short ? div(d, k) : add(div(sub(d, k), k), 1);
    const ctor = windowHyper === 'kernel' ? `Conv2d(${t(cin)}, ${t(cin)}, k)` : windowHyper === 'stride' ? `Conv2d(${t(cin)}, ${t(cin)}, 3, stride = s)` : `Conv2d(${t(cin)}, ${t(cin)}, 3, padding = pad)`;
    if (windowHyper === 'pool') {
      x = inner.bind(`${p.c.pick(['max_pool2d', 'avg_pool2d'])}(${x.ref}, k)`, [batchDim, cin, size(h), size(w)]);
    } else {
      const decl = inner.declare('conv', ctor);
      x = inner.bind(`${decl.ref}(${x.ref})`, [batchDim, cin, size(h), size(w)]);
    }
  }
  const steps = p.c.between(1, 3);
  for (let k = 0; k < steps; k++) x = step(inner, x, (op) => op.name !== 'block' && op.name !== 'split' && op.name !== 'dropout');
  if (rateHyper) x = inner.bind(`dropout(${x.ref}, rate)`, x.shape);
  const out = x;
  const header = `model ${blockName}${hyper.length ? `[${hyper.map((h) => h.name).join(', ')}]` : ''}(x: ${shapeText(inputDims)}) -> ${shapeText(out.shape)} {`;
  p.items.push([{ text: header, tag: p.tag() }, ...inner.lines, { text: `  return ${out.ref}`, tag: p.tag() }, { text: '}', tag: p.tag() }]);
  for (const binding of inner.bindings) p.symbolic.push(binding);
  p.feature(hyper.length > 0 ? 'block:hyper' : 'block');

  // Instantiated in Net: the hyper-parameters' values and the input's dims substituted.
  const args = hyper.map((h) => h.value).join(', ');
  const shape = out.shape.map((d) => substitute(d, substitution, hyper));
  const form = p.c.int(3);
  if (form === 0) {
    const decl = b.declare('blk', `${blockName}(${args})`);
    return b.bind(`${decl.ref}(${v.ref})`, shape);
  }
  if (form === 1) p.feature('pipe');
  return b.bind(form === 1 ? `${v.ref} |> ${blockName}(${args})` : `${blockName}(${args})(${v.ref})`, shape);
}

/** A block's dim with its names replaced by the instance's dims. */
function substitute(d: D, names: ReadonlyMap<string, D>, hyper: readonly { name: string; dim: D | null }[]): D {
  if (d.k === 'n') return d;
  if (d.k === 'v') return names.get(d.name) ?? hyper.find((h) => h.name === d.name)?.dim ?? d;
  const a = substitute(d.a, names, hyper);
  const b = substitute(d.b, names, hyper);
  return { k: 'op', op: d.op, a, b };
}

// -- the trained model -------------------------------------------------------------------

/** Brings `v` to [B, n] with n constant: flatten constant dims, average symbolic ones away. */
function toFeatures(b: Body, v: Val): Val {
  let x = v;
  while (rank(x) > 2 && !x.shape.slice(1).every(isConstant)) {
    let axis = rank(x) - 1;
    while (isConstant(x.shape[axis])) axis--;
    const f = b.c.pick(['mean', 'sum', 'max']);
    b.p.feature(`op:${f}`);
    x = b.bind(`${f}(${x.ref}, ${axis})`, rule.reduce(x.shape, axis, false));
  }
  if (rank(x) > 2) {
    b.p.feature('op:flatten');
    x = b.bind(`flatten(${x.ref}, 1)`, rule.flatten(x.shape, 1, -1));
  }
  if (rank(x) === 1) {
    b.p.feature('op:reshape');
    x = b.bind(`reshape(${x.ref}, [${b.batchName}, 1])`, [x.shape[0], num(1)]);
  }
  if (!isConstant(last(x))) {
    // A symbolic feature count (an average over it leaves the batch).
    b.p.feature('op:mean');
    x = b.bind(`reshape(mean(${x.ref}, 1), [${b.batchName}, 1])`, [x.shape[0], num(1)]);
  }
  return x;
}

export function generate(values: readonly number[]): Case {
  const p = new Program(values);
  const c = p.c;
  const kind = c.pick(DATA_KINDS);
  const batch = kind === 'xor' ? 2 : c.between(2, 5);
  const validate = kind !== 'xor' && c.oneIn(5);
  const data = planData(c, kind, batch, validate ? 3 * batch : 2 * batch);
  p.feature(`data:${kind}`);

  // The loss and the output it needs.
  let loss: Loss;
  let out: D[];
  if (data.kind === 'text') {
    loss = 'cross_entropy';
    out = [];
    p.feature('task:classification');
  } else if (data.classes !== null) {
    loss = c.oneIn(5) ? c.pick(['mse', 'bce_with_logits'] as const) : 'cross_entropy';
    out = [name('B'), p.constFor(data.classes, 'classes')];
    p.feature(loss === 'cross_entropy' ? 'task:classification' : 'task:one-hot');
  } else {
    loss = c.pick(['mse', 'bce_with_logits'] as const);
    const w = data.target.length === 0 ? 1 : data.target[0];
    out = w === 1 && c.oneIn(2) ? [name('B')] : [name('B'), num(w)];
    p.feature('task:regression');
  }
  p.feature(`loss:${loss}`);

  // The input, symbolic beyond the batch sometimes.
  const env = new Map<string, number>([['B', batch]]);
  const symbolicDims = (data.input === 'img' || data.input === 'seq' || data.input === 'ids') && c.oneIn(4);
  let input: D[];
  if (data.input === 'img') {
    const [ch, h, w] = data.sample;
    input = symbolicDims ? [name('B'), num(ch), name('H'), name('W')] : [name('B'), num(ch), num(h), num(w)];
    if (symbolicDims) [env.set('H', h), env.set('W', w)];
  } else if (data.input === 'seq' || data.input === 'ids') {
    const [steps, features] = data.sample;
    input = [name('B'), symbolicDims ? name('T') : num(steps), ...(features === undefined ? [] : [num(features)])];
    if (symbolicDims) env.set('T', steps);
  } else {
    input = [name('B'), num(data.sample[0])];
  }
  if (symbolicDims) p.feature('symbolic-dims');
  // A language model: next-character logits at every position, [B, T, vocabulary].
  if (data.kind === 'text') out = [name('B'), input[1], p.constFor(data.classes!, 'classes')];

  const body = new Body(p, 'Net', env, 'B');
  const inputLine = { text: '', tag: p.tag() };
  let x: Val = { ref: 'x', shape: input, dtype: data.input === 'ids' ? 'int' : 'float' };
  body.history.push(x);
  if (data.input === 'ids') {
    const vocab = data.maxId! + 1;
    p.idsBelow = vocab;
    const rows = vocab + c.int(3);
    // As wide as the vocabulary at times, so that a class loss in the body may read the ids as labels.
    const asWide = c.oneIn(3);
    const dim = asWide ? p.constFor(vocab, 'hidden') : width(body);
    const form = c.int(3);
    const ctor = (n: number) => (form === 1 ? `Embedding(num_embeddings = ${n}, embedding_dim = ${t(dim)})` : `Embedding(${n}, ${t(dim)})`);
    p.feature('layer:Embedding');
    if (form === 2) {
      const use = body.bind(`${ctor(rows)}(x)`, rule.embedding(input, dim));
      body.mutant({ kind: 'embedding-rows', tag: use.tag, text: `  ${use.ref} = ${ctor(vocab - 1)}(x)`, at: 'data', codes: ['NN4009'], related: use.tag });
      x = use;
    } else {
      const decl = body.declare('emb', ctor(rows));
      x = body.bind(`${decl.ref}(x)`, rule.embedding(input, dim));
      body.mutant({ kind: 'embedding-rows', tag: decl.tag, text: `  ${decl.ref} = ${ctor(vocab - 1)}`, at: 'data', codes: ['NN4009'], related: decl.tag });
    }
    body.mutant({ kind: 'embedding-float', tag: inputLine.tag, text: `model Net(x: ${shapeText(input)}) -> ${shapeText(out)} {`, at: body.lines[body.lines.length - 1].tag!, codes: ['NN2111'] });
    if (asWide && c.oneIn(2)) x = OPS.find((op) => op.name === 'loss')!.run(body, x);
  }
  if (data.kind === 'text') {
    const attention = OPS.find((op) => op.name === 'attention')!;
    if (c.oneIn(2) && attention.when(x, body)) x = attention.run(body, x);
  } else {
    const steps = c.between(0, 6);
    for (let k = 0; k < steps; k++) x = step(body, x);
    x = toFeatures(body, x);
  }

  // The output projection, written one of several ways, with the out-features mutant.
  const n = last(x);
  const k = out.length >= 2 ? out[out.length - 1] : num(1);
  const form = c.int(3);
  const head = form === 2 ? body.declare('head', `Linear(${t(n)}, ${t(k)})`) : null;
  const project = (m: D) => (form === 0 ? `Linear(${t(n)}, ${t(m)})(${x.ref})` : form === 1 ? `${x.ref} |> Linear(${t(n)}, ${t(m)})` : `${head!.ref}(${x.ref})`);
  const returnTag = body.line(`return ${out.length === 1 ? `mean(${project(k)}, 1)` : project(k)}`);
  p.feature('layer:Linear');
  if (out.length >= 2) {
    const wrongOut = add(k, 1);
    if (head) body.mutant({ kind: 'out_features', tag: head.tag, text: `  ${head.ref} = Linear(${t(n)}, ${t(wrongOut)})`, at: returnTag, codes: ['NN2110'] });
    else body.mutant({ kind: 'out_features', tag: returnTag, text: `  return ${project(wrongOut)}`, at: returnTag, codes: ['NN2110'] });
  }

  inputLine.text = `model Net(x: ${data.input === 'ids' ? 'int' : ''}${shapeText(input)}) -> ${shapeText(out)} {`;

  // The train block.
  const trainLines: Line[] = [{ text: 'train Net {', tag: 'train' }, { text: `  data = ${data.expr}`, tag: 'data' }];
  if (loss !== 'cross_entropy' || c.oneIn(2)) trainLines.push({ text: `  loss = ${loss}`, tag: 'loss' });
  if (data.classes === null) {
    p.mutants.push({ kind: 'loss-target', tag: 'loss', text: '  loss = cross_entropy', at: 'loss', codes: ['NN4007'] });
  }
  const optimizer = c.pick(OPTIMIZERS);
  p.feature(`optimizer:${optimizer}`);
  const lr = c.pick(['0.01', '0.1', '0.001']);
  const optimizerText =
    optimizer === 'SGD'
      ? c.pick([`SGD(lr = ${lr})`, `SGD(lr = ${lr}, momentum = 0.9)`, `SGD(lr = ${lr}, momentum = 0.5, weight_decay = 0.01)`, `SGD(lr = ${lr}, momentum = 0.9, nesterov = true)`])
      : optimizer === 'RMSprop'
        ? c.pick([`RMSprop(lr = ${lr})`, `RMSprop()`, `RMSprop(lr = ${lr}, alpha = 0.9, momentum = 0.5)`, `RMSprop(lr = ${lr}, weight_decay = 0.01, eps = 1e-6)`])
        : c.pick([`${optimizer}(lr = ${lr})`, `${optimizer}()`, `${optimizer}(lr = ${lr}, betas = (0.8, 0.99))`, `${optimizer}(lr = ${lr}, weight_decay = 0.1, eps = 1e-6)`]);
  if (optimizer !== 'Adam' || c.oneIn(2)) {
    trainLines.push({ text: `  optimizer = ${optimizerText}`, tag: 'optimizer' });
    if (optimizer === 'SGD') p.mutants.push({ kind: 'optimizer', tag: 'optimizer', text: `  optimizer = SGD(lr = 0)`, at: 'optimizer', codes: ['NN4002'] });
    else p.mutants.push({ kind: 'optimizer', tag: 'optimizer', text: optimizer === 'RMSprop' ? `  optimizer = RMSprop(lr = ${lr}, alpha = 1.5)` : `  optimizer = ${optimizer}(lr = ${lr}, betas = (0.9, 1.5))`, at: 'optimizer', codes: ['NN4002'] });
  }
  trainLines.push({ text: `  epochs = ${c.between(1, 2)}`, tag: 'epochs' });
  p.mutants.push({ kind: 'epochs', tag: 'epochs', text: '  epochs = 0', at: 'epochs', codes: ['NN4002'] });
  trainLines.push({ text: `  batch = ${batch}`, tag: 'batch' });
  trainLines.push({ text: `  seed = ${c.int(5)}`, tag: 'seed' });
  if (validate) {
    trainLines.push({ text: `  validate = 0.25`, tag: 'validate' });
    p.feature('validate');
  }
  const backend = symbolicDims ? c.pick(['auto', 'ts'] as const) : c.pick(['auto', 'ts', 'onnx'] as const);
  if (backend !== 'auto' || c.oneIn(3)) {
    trainLines.push({ text: `  backend = "${backend}"`, tag: 'backend' });
    p.feature(`backend:${backend}`);
  }
  if (c.oneIn(3)) trainLines.push({ text: `  save = "runs/case"`, tag: 'save' });
  trainLines.push({ text: '}', tag: 'end' });
  if (data.classes !== null && loss === 'cross_entropy' && kind === 'spirals') {
    p.mutants.push({ kind: 'classes', tag: 'data', text: `  data = ${data.expr.replace(/classes = \d+/, `classes = ${data.classes + 1}`)}`, at: 'data', codes: ['NN4004'] });
  }
  if (data.input === 'vec' && data.sample[0] !== 2 && loss === 'cross_entropy') {
    p.mutants.push({ kind: 'sample', tag: 'data', text: `  data = xor()`, at: 'data', codes: data.classes === 2 ? ['NN4003'] : ['NN4003', 'NN4004'] });
  }
  p.mutants.push({ kind: 'train-model', tag: 'train', text: 'train Nett {', at: 'train', codes: ['NN4001'] });

  const lines: Line[] = [
    ...p.consts,
    ...p.items.flatMap((item) => [...item, { text: '' }]),
    inputLine,
    ...body.lines,
    { text: '}' },
    { text: '' },
    ...trainLines,
  ];
  return {
    text: lines.map((l) => l.text).join('\n') + '\n',
    lines,
    files: data.files,
    model: 'Net',
    env,
    bindings: body.bindings,
    symbolic: p.symbolic,
    consts: p.constValues,
    mutants: p.mutants.filter((m) => lines.some((l) => l.tag === m.tag) && lines.some((l) => l.tag === m.at)),
    features: [...p.features].sort(),
    data,
    loss,
    batch,
    dropout: p.dropout,
    symbolicDims,
    backend,
  };
}

/** The text of a case with one mutant applied. */
export function mutate(c: Case, m: Mutant): string {
  return c.lines.map((l) => (l.tag === m.tag ? m.text : l.text)).join('\n') + '\n';
}

/** 1-based line of a tag. */
export function lineOfTag(c: Case, tag: string): number {
  return c.lines.findIndex((l) => l.tag === tag) + 1;
}
