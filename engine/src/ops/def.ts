// What one op definition (OpDef) holds: its signature, shape rule, FLOPs, docs, activation
// statistics kind, an operator's notation, TS engine kernel, ONNX forward and backward emitters
// and PyTorch form.
// Every op file under engine/src/ops/ defines its ops with these types; ops/registry.ts
// lists them, and the checker, both back ends, the exporter and the editor read only that.

import { Dim, type Shape } from '../shape/dim.js';
import type { RuleResult } from '../shape/rules.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Rng } from '../random.js';
import type { LoweringContext, TapeEntry, Val, DType as OnnxDType } from '../onnx/context.js';
import type { InitSpec } from '../lang/api.js';
import type { BinaryOp, UnaryOp } from '../lang/syntax.js';

// ---------------------------------------------------------------------------------------
// Signatures: the parameters of a built-in function or layer constructor, as data.

/**
 * What an argument must be:
 * - `tensor`: one tensor input; `tensors`: every positional tensor (`concat(a, b, axis = 1)`);
 * - `axis`: a constant integer axis, negative counting from the end (checked by the shape rule);
 * - `axes`: a list of such axes (`permute`'s order);
 * - `size`: an integer dim, symbolic where a block's hyper-parameter gives it (`Conv2d(c, c, k)`);
 * - `pair`: a size per spatial axis, written `(h, w)` or one size for both (`kernel = (1, 3)`, `stride = 2`);
 * - `int`: a constant integer; `number`: any number; `bool`: true or false;
 * - `dims`: a list of dims `[B, 25]` (`-1` allowed where the op says so);
 * - `sizes`: an integer dim or a list of them (`split`'s size of each piece, or the pieces' sizes);
 * - `hyper`: a block's hyper-parameter, any number (an integer one may be a size);
 * - `init`: the name of an init (`param`'s `zeros`, `normal(0.02)`), read from the syntax;
 * - `choice`: one of a few strings (`mode = "bilinear"`), listed in `choices`;
 * - `string`: any string, read by the op's shape rule (`einsum`'s equation).
 */
export type ParamKind = 'tensor' | 'tensors' | 'axis' | 'axes' | 'size' | 'pair' | 'int' | 'number' | 'bool' | 'dims' | 'sizes' | 'hyper' | 'init' | 'choice' | 'string';

/** The attribute value a parameter kind binds to. */
/** A `pair` parameter's value: the height axis's size, then the width axis's. */
export type Pair = readonly [Dim, Dim];

export type KindValue<K extends ParamKind> = K extends 'size' ? Dim : K extends 'pair' ? Pair : K extends 'dims' ? Shape : K extends 'sizes' ? Dim | Shape : K extends 'bool' ? boolean : K extends 'hyper' ? Dim | number : K extends 'init' ? undefined : K extends 'choice' | 'string' ? string : K extends 'axes' ? readonly number[] : number;

/**
 * A default: a number (a size's is a constant dim) or flag, `null` for "absent" (the
 * attribute is then undefined), or another parameter's value (`stride` defaults to `k`).
 */
export type ParamDefault = number | boolean | string | null | { readonly sameAs: string };

export interface Param<N extends string = string, K extends ParamKind = ParamKind> {
  readonly name: N;
  readonly kind: K;
  /** Absent: required. */
  readonly default?: ParamDefault;
  /** Other accepted keyword spellings (PyTorch's: `dim`, `kernel_size`, `negative_slope`). */
  readonly aliases?: readonly string[];
  /** Inclusive lower bound of a number or size. */
  readonly min?: number;
  /** Exclusive lower bound (`huber`'s delta > 0). */
  readonly above?: number;
  /** Inclusive upper bound. */
  readonly max?: number;
  /** Exclusive upper bound (`dropout`'s p < 1). */
  readonly below?: number;
  /** `dims` only: one dim may be -1, inferred from the element count. */
  readonly inferable?: boolean;
  /** `dims` only: any dim may be -1, keeping the input's size there (`expand`). */
  readonly keepable?: boolean;
  /** One line for signature help and the docs. */
  readonly doc?: string;
  /** The strings it accepts: a `choice`'s values, or a `size`'s or `pair`'s named alternatives (`padding = "same"`). */
  readonly choices?: readonly string[];
}

/** Whether a number fits a parameter's bounds. */
export function fitsBounds(param: Param, v: number): boolean {
  const { min, above, max, below } = param;
  return (min === undefined || v >= min) && (above === undefined || v > above) && (max === undefined || v <= max) && (below === undefined || v < below);
}

/** A parameter's bounds as a message states them: `in [0, 1)`, `above 0`, `a number`. */
export function boundsText(param: Param): string {
  const { min, above, max, below } = param;
  const low = min !== undefined ? `[${min}` : above !== undefined ? `(${above}` : null;
  const high = max !== undefined ? `${max}]` : below !== undefined ? `${below})` : null;
  if (low && high) return `in ${low}, ${high}`;
  if (min !== undefined) return `at least ${min}`;
  if (above !== undefined) return `above ${above}`;
  if (max !== undefined) return `at most ${max}`;
  return below !== undefined ? `below ${below}` : 'a number';
}

/** A parameter's constant default as its value (a `size`'s a dim, a `pair`'s that dim on both axes); undefined when it has none, is absent (`null`) or another parameter's. */
export function defaultOf(param: Param): number | boolean | string | Dim | Pair | undefined {
  const fallback = param.default;
  if (fallback === null || fallback === undefined || typeof fallback === 'object') return undefined;
  if (typeof fallback !== 'number') return fallback;
  return param.kind === 'size' ? Dim.of(fallback) : param.kind === 'pair' ? [Dim.of(fallback), Dim.of(fallback)] : fallback;
}

type IsAttr<Q> = Q extends Param<string, infer K> ? (K extends 'tensor' | 'tensors' ? false : true) : false;
type AttrValueOf<Q> = Q extends Param<string, infer K>
  ? Q extends { choices: readonly (infer C)[] } ? KindValue<K> | C : Q extends { default: null } ? KindValue<K> | undefined : KindValue<K>
  : never;

/** The typed attributes of a signature: one field per non-tensor parameter, by its name. */
export type AttrsOf<P extends readonly Param[]> = {
  readonly [Q in P[number] as IsAttr<Q> extends true ? Q['name'] : never]: AttrValueOf<Q>;
};

type Options<K extends ParamKind> = Omit<Param<string, K>, 'name' | 'kind'>;

export const tensor = <const N extends string>(name: N, options: Options<'tensor'> = {}) => ({ name, kind: 'tensor' as const, ...options });
export const tensors = <const N extends string>(name: N, options: Options<'tensors'> = {}) => ({ name, kind: 'tensors' as const, ...options });
export const axis = <const N extends string, const O extends Options<'axis'>>(name: N, options: O) => ({ name, kind: 'axis' as const, ...options });
export const axes = <const N extends string, const O extends Options<'axes'>>(name: N, options: O) => ({ name, kind: 'axes' as const, ...options });
export const size = <const N extends string, const O extends Options<'size'>>(name: N, options: O) => ({ name, kind: 'size' as const, ...options });
export const pair = <const N extends string, const O extends Options<'pair'>>(name: N, options: O) => ({ name, kind: 'pair' as const, ...options });
export const int = <const N extends string, const O extends Options<'int'>>(name: N, options: O) => ({ name, kind: 'int' as const, ...options });
export const number = <const N extends string, const O extends Options<'number'>>(name: N, options: O) => ({ name, kind: 'number' as const, ...options });
export const bool = <const N extends string, const O extends Options<'bool'>>(name: N, options: O) => ({ name, kind: 'bool' as const, ...options });
export const dims = <const N extends string, const O extends Options<'dims'>>(name: N, options: O) => ({ name, kind: 'dims' as const, ...options });
export const sizes = <const N extends string, const O extends Options<'sizes'>>(name: N, options: O) => ({ name, kind: 'sizes' as const, ...options });
export const choice = <const N extends string, const O extends Options<'choice'>>(name: N, options: O) => ({ name, kind: 'choice' as const, ...options });
export const string = <const N extends string, const O extends Options<'string'>>(name: N, options: O) => ({ name, kind: 'string' as const, ...options });

// ---------------------------------------------------------------------------------------
// The parts of an op.

/**
 * How an op is written in `.nn`: a built-in function (`relu(h)`), a loss (a function that
 * a `train` block may also name), an operator (`+`, `@`, `**`, unary `-`), or the op a
 * layer applies (`fc1(h)` applies `linear`).
 */
export type OpSurface = 'function' | 'loss' | 'operator' | 'layer';

/**
 * What an infix operator's operands may be:
 * - `matrices`: two tensors, multiplied as (batched) matrices, so broadcast over the axes
 *   before the last two only (`a @ b`);
 * - `elementwise`: two tensors broadcast against each other, or a tensor and a number, which
 *   becomes the `scalar` attribute, with `scalarFirst` when it is the left operand (`1 - x`);
 * - `{ numberAttr }`: a tensor, then a number, which becomes the attribute of that name
 *   (`x ** 2`'s `exponent`); messages call the number by that name.
 */
export type InfixOperands = 'matrices' | 'elementwise' | { readonly numberAttr: string };

/**
 * How an operator is written in `.nn`:
 * - `infix`: between its operands, spelled `symbol` (`+`, `@`, `**`, `<`);
 * - `prefix`: before its one tensor operand, spelled `symbol` (unary `-`);
 * - `subscript`: brackets after its operand (`x[:, -1]`), the items its attributes.
 */
export type OperatorNotation =
  | { readonly kind: 'infix'; readonly symbol: BinaryOp; readonly operands: InfixOperands }
  | { readonly kind: 'prefix'; readonly symbol: UnaryOp }
  | { readonly kind: 'subscript' };

/** Inputs as the shape rule sees them: shapes, with element types for the rules that care. */
export interface RuleInputs {
  shapes: readonly Shape[];
  dtypes: readonly ('float32' | 'int64')[];
}

export type ShapeRuleOf<A> = (shapes: readonly Shape[], attrs: A, dtypes: RuleInputs['dtypes']) => RuleResult;

/** Forward FLOPs (a multiply-add counts 2) from the input shapes and the output shape. */
export type FlopsRule<A> = (inputs: readonly Shape[], output: Shape, attrs: A) => Dim;

/** An intermediate value an op keeps for its backward pass, by the field's name for it. */
export interface Internal {
  name: string;
  shape: Shape;
}

export type InternalsRule<A> = (inputs: readonly Shape[], output: Shape, attrs: A) => Internal[];

/**
 * What the activation statistics say about an op's output (core/stats.ts):
 * a rectifier's units die (zero for the whole batch); a saturating activation's values
 * saturate where its derivative, computed from the output, is tiny; `bound` is the
 * largest the derivative gets (the worst-case gradient factor of NN3104).
 */
export type ActivationKind =
  | { kind: 'rectifier' }
  | {
    kind: 'saturating';
    bound: number;
    /** The derivative at a value from the op's output y. */
    derivative: (y: number) => number;
    /** The derivative as written in messages: `σ(1 − σ)`. */
    formula: string;
  };

/** How a forward pass runs on the TS engine. */
export interface TsMode {
  /** Dropout active. */
  dropout: boolean;
  /** Batch norm normalizes with batch statistics and updates its running ones. */
  batchNormTraining: boolean;
  /** The stream dropout masks come from. */
  rng: Rng;
}

/** What a TS kernel gets besides its inputs and attributes. */
export interface TsContext {
  mode: TsMode;
  /** A checked shape (the node's output, an attribute) with the run's symbolic dims bound. */
  concrete(shape: Shape): number[];
  /** The output shape of the node, as the checker inferred it (symbolic). */
  outShape: Shape;
}

export type TsKernel<A> = (inputs: Tensor[], attrs: A, ctx: TsContext) => Tensor;

export interface OnnxOut {
  shape: Shape;
  dtype: OnnxDType;
}

export interface OnnxForwardResult {
  outputs: string[];
  /** Intermediate forward values the gradient rule reuses (batch norm's `xhat`, pool indices). */
  saved?: Record<string, Val>;
  /** New running statistics (batch norm in training mode), in the order of its buffer inputs. */
  bufferUpdates?: Val[];
  /** A composite op's own tape (onnx/compose.ts), which its gradient runs backwards. */
  inner?: TapeEntry[];
}

export interface OnnxRules<A> {
  forward(ctx: LoweringContext, inputs: Val[], attrs: A, out: OnnxOut[]): OnnxForwardResult;
  /** Gradients of the entry's inputs from the gradient of its output; null where not needed (`needs`). */
  backward(ctx: LoweringContext, entry: TapeEntry<A>, g: Val, needs: boolean[]): (Val | null)[];
}

/** What a PyTorch form gets besides the inputs' Python expressions and the attributes. */
export interface PytorchContext {
  /** Inside an nn.Module's forward (dropout follows self.training), not in a plain function. */
  inModule: boolean;
  /** The node's checked output shape (a reshape's target). */
  outShape: Shape;
  inShapes: readonly Shape[];
  /** A dim name of the graph's inputs as Python (`x.shape[2]`), for shapes that name dims the node's inputs lost; null if none has it. */
  inputDim(name: string): string | null;
}

export type PytorchForm<A> = (args: string[], attrs: A, ctx: PytorchContext) => string;

export interface OpDoc {
  /** One sentence for completion and hover. */
  summary: string;
  /** The backward pass in the field's words, with shapes where they help: `dL/dx = g ⊙ 1[x > 0]`. */
  gradient: string;
  /** The local derivative of an elementwise op: `1[x > 0]`. */
  derivative?: string;
  /** torch.nn's class name where it is not the op's name in CamelCase (`ReLU`): a summary row's type, as torchinfo prints it. */
  torchClass?: string;
}

export interface OpDef<A = unknown> {
  readonly name: string;
  readonly surface: OpSurface;
  /** Built-in functions and losses: the call signature, tensor inputs first. Operators and layer ops: their attributes only. */
  readonly params: readonly Param[];
  readonly doc: OpDoc;
  readonly shape: ShapeRuleOf<A>;
  /** Forward FLOPs; absent: free (elementwise and layout ops are not counted). */
  readonly flops?: FlopsRule<A>;
  /** Intermediate values the backward keeps besides the output (attention's scores), for hovers and activation memory. */
  readonly internals?: InternalsRule<A>;
  readonly activation?: ActivationKind;
  /** The output keeps the first input's element type (reshaping int ids); otherwise float32 (or `outputDtype`). */
  readonly keepsDtype?: boolean;
  /**
   * The input of int64 ids (`Embedding`'s ids, a class loss's labels, `one_hot`'s), each below
   * a count the other inputs or the attributes give (rows, classes): the checker compares the
   * data's ids with it (NN4009), and an int64 tensor at any other input is NN2161, unless the
   * op keeps its input's element type.
   */
  readonly ids?: { readonly input: number; readonly count: (inShapes: readonly Shape[], attrs: A) => Dim | undefined; readonly noun: string };
  /** The output's element type whatever the inputs' (`argmax`'s int64 indices); absent: as `keepsDtype` says. */
  readonly outputDtype?: 'int64';
  /** Indices of the inputs a gradient flows into; absent: every input. */
  readonly gradInputs?: (inputCount: number) => number[];
  /** What running the op a second time would change (a `checkpoint` recomputes its segment); absent: nothing. */
  readonly sideEffect?: string;
  /**
   * Accepts masks (the comparisons' results) as inputs: arithmetic, comparisons, `where`.
   * Any other op given a mask is an error (NN2140), as PyTorch's float ops refuse bool tensors.
   */
  readonly takesMasks?: boolean;
  /** Inputs that must be masks (`where`'s condition, `masked_fill`'s mask): any other tensor there is NN2160. */
  readonly maskInputs?: readonly number[];
  /**
   * An input that may be a mask or a float tensor (attention's mask: boolean, or additive):
   * when a mask is given there, the checker sets the op's boolean attribute `attr`, so the
   * kernels and the PyTorch form know which it is (both back ends hold a mask as float 0/1).
   */
  readonly maskOrFloat?: { readonly input: number; readonly attr: string };
  /** The result is a mask when these inputs all are (`where`'s two branches); absent: never, unless `givesMask`. */
  readonly masksFrom?: readonly number[];
  /** The result is a mask whatever the inputs (the comparisons'). */
  readonly givesMask?: boolean;
  /**
   * An op with several results (`chunk`, `split`), bound by tuple binding `a, b = chunk(x, 2)`:
   * how many for an input of this shape (null when the shape rule reports why not). Each
   * result is its own node, the op's attributes with `part` set to its index.
   */
  readonly parts?: (input: Shape, attrs: A) => number | null;
  /** Messages about a value it made say what from (NN2103's "flatten of [B, 64, 12, 12]"). */
  readonly namesOrigin?: boolean;
  /** Mixes features linearly (NN3103 looks for two in a row) or only moves values (looked through by NN3103). */
  readonly linearity?: 'linear-map' | 'shape-only';
  /** An operator's notation in `.nn` (surface `operator` only): the checker maps the syntax through it, the hover reads it. */
  readonly notation?: OperatorNotation;
  /**
   * Each output value is one input entry (a window's maximum) and the gradient goes only to
   * that entry (max pooling's argmax): after a rectifier, whose mask is then the output's own
   * sign, the ONNX backward applies that mask to this op's gradient (fewer values) instead.
   */
  readonly routesToArgmax?: boolean;
  /** A loss's target: int64 class ids (`[B]` against `[B, C]` scores, `[B, T]` against `[B, T, C]`), or values shaped like the prediction. */
  readonly target?: 'class-ids' | 'values';
  /** A loss on one logit per 0/1 label (`bce_with_logits`): on value targets, a prediction is right when its logit's sign is its label, so a run reports accuracy. */
  readonly binaryLogits?: boolean;
  readonly ts: TsKernel<A>;
  readonly onnx: OnnxRules<A>;
  readonly pytorch: PytorchForm<A>;
}

/** The element type of an op's output, from its inputs'. */
export function outputDtypeOf(def: Pick<OpDef<never>, 'keepsDtype' | 'outputDtype'>, inputs: readonly ('float32' | 'int64')[]): 'float32' | 'int64' {
  return def.outputDtype ?? (def.keepsDtype ? (inputs[0] ?? 'float32') : 'float32');
}

/** An op definition whose name is a literal type (the registry checks keys against names). */
export type NamedOpDef<N extends string, A> = OpDef<A> & { readonly name: N };

/** Defines an op whose attributes are its signature's non-tensor parameters. */
export function defineOp<const N extends string, const P extends readonly Param[]>(
  def: Omit<OpDef<AttrsOf<P>>, 'name' | 'params'> & { readonly name: N; readonly params: P },
): NamedOpDef<N, AttrsOf<P>> {
  return def;
}

/** Defines an op with attributes of its own (operators, layer ops), fixed by `A`. */
export function defineOpWith<A>() {
  return <const N extends string>(def: Omit<OpDef<A>, 'name'> & { readonly name: N }): NamedOpDef<N, A> => def;
}

// ---------------------------------------------------------------------------------------
// Layers: a constructor (`Linear(784, 128)`) that owns parameters and applies one op.

/** A parameter a layer owns, named `<layer>.<suffix>` as in PyTorch's state_dict. */
export interface WeightSpec {
  suffix: string;
  shape: Shape;
  init: InitSpec;
}

/** A non-trainable tensor a layer carries (batch norm's running statistics). */
export interface BufferSpec {
  suffix: string;
  shape: Shape;
  init: 'zeros' | 'ones';
}

export interface LayerDef<A = unknown, OpA = unknown> {
  /** The constructor's name, Capitalized as in torch.nn. */
  readonly name: string;
  /** The op the layer applies (its inputs: the layer's input, then its parameters, then its buffers). */
  readonly op: OpDef<OpA>;
  readonly params: readonly Param[];
  readonly doc: { summary: string };
  /** Its parameters and buffers, with PyTorch's default initialization, from the constructor's arguments. */
  weights(args: A): { params: WeightSpec[]; buffers: BufferSpec[] };
  /** The op's attributes. */
  attrs(args: A): OpA;
  /**
   * The constructor argument that must equal a size of the input (`in` of `Linear` is the
   * input's last dim): a size error at the layer points at it, and the quick fix changes it.
   */
  readonly inputSize?: { arg: string; pytorchName: string; axis: number };
  /**
   * The torch.nn module with the same parameters: `nn.Linear(784, 128)`; null where torch has
   * none (the export then declares the parameters and applies the op's functional form).
   */
  pytorch(args: A): string | null;
  /**
   * The results' nesting when the layer gives several, each a part number of its op
   * (`[0, [1, 2]]`: `out, (h, c) = lstm(x)`, which the PyTorch export writes as one `module(x)`);
   * bound to one name it gives part 0. Absent: one result.
   */
  readonly results?: readonly (number | readonly number[])[];
  /** How the module is applied to `x` when not as `module(x)` (a module returning a tuple), for the node's attributes (its part); absent: `module(x)`. */
  pytorchCall?(module: string, x: string, args: A, attrs: OpA): string;
}

/**
 * A layer's constructor arguments from those given, each left out (or undefined) taking its
 * parameter's default, as a call in `.nn` would bind them; a required one must be given.
 */
export function layerArgs<A>(layer: Pick<LayerDef<A>, 'name' | 'params' | 'weights'>, given: Partial<A>): A {
  const args: Record<string, unknown> = {};
  for (const p of layer.params) {
    const value = (given as Record<string, unknown>)[p.name] ?? (p.default !== null && typeof p.default === 'object' ? args[p.default.sameAs] : defaultOf(p));
    if (value === undefined && p.default === undefined) throw new RangeError(`${layer.name}: \`${p.name}\` is required`);
    args[p.name] = value;
  }
  return args as A;
}

/** Defines a layer whose constructor arguments are its signature's parameters. */
export function defineLayer<const N extends string, const P extends readonly Param[], OpA>(
  def: Omit<LayerDef<AttrsOf<P>, OpA>, 'name' | 'params'> & { readonly name: N; readonly params: P },
): LayerDef<AttrsOf<P>, OpA> & { readonly name: N } {
  return def;
}

/** Any op, its attributes unknown to the reader (who passes a node's own attributes back). */
export type SomeOpDef = OpDef<never>;
/** Any layer (an existential: each layer's op attributes are its own). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SomeLayerDef = LayerDef<never, any>;
