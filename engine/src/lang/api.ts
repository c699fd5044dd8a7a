// The front end's public results: diagnostics, the per-binding facts the editor shows,
// and the checked IR that the TS engine and the ONNX path both lower from.
// Offsets are UTF-16 code-unit offsets into the document text (what JS strings and LSP use).

import type { Dim, Shape } from '../shape/dim.js';
import type { AttrsOfOp, OpName } from '../ops/registry.js';
import type { ImportedFile } from './imports.js';
import type { SemanticModel } from './semantics.js';

export interface TextRange {
  start: number;
  end: number;
}

export type Severity = 'error' | 'warning' | 'info';

export interface RelatedInfo {
  range: TextRange;
  message: string;
}

export interface TextEdit {
  range: TextRange;
  newText: string;
}

/** A machine-readable fix the language server offers as a quick fix. */
export interface Fix {
  title: string;
  edits: TextEdit[];
}

export interface Diagnostic {
  code: string; // "NN2103": a key of the catalogue in diagnostics.ts
  severity: Severity;
  message: string;
  range: TextRange;
  related: RelatedInfo[];
  fixes: Fix[];
}

/** A parameter as named in a PyTorch state_dict: `fc1.weight`, `res1.conv1.bias`, `W1`. */
export interface ParamInfo {
  name: string;
  shape: number[]; // parameters are always concrete
  init: InitSpec;
  /** Range of the declaration that owns it (the layer constructor or the `param(...)`). */
  range: TextRange;
  /** The layer (or raw param) the parameter belongs to: `fc1`, `res1.conv1`, `linear_0`, `W1`. */
  layer: string;
}

export type InitSpec =
  | { kind: 'kaiming_uniform'; fanIn: number } // PyTorch default weight init (a = sqrt(5))
  | { kind: 'bias_uniform'; fanIn: number } // uniform(-1/sqrt(fanIn), 1/sqrt(fanIn))
  | { kind: 'xavier_uniform'; fanIn: number; fanOut: number }
  | { kind: 'zeros' }
  | { kind: 'ones' }
  /** `zeroRow`: that row of a 2-D weight is 0 (Embedding's padding_idx, as PyTorch initializes it). */
  | { kind: 'normal'; std: number; zeroRow?: number };

/** A non-trainable tensor carried by a layer (batch norm running statistics). */
export interface BufferInfo {
  name: string; // `bn1.running_mean`
  shape: number[];
  init: 'zeros' | 'ones';
  layer: string;
}

/** What the editor shows for one binding (`h = relu(fc1(h))`) or one pipe stage. */
export interface BindingInfo {
  model: string; // the model or fn the binding is in
  name: string; // the bound name, or the pipe stage's text for a stage
  range: TextRange; // the name's range (for a pipe stage: the stage's expression)
  /** Where an inlay hint goes: the offset just after the binding's expression. */
  hintOffset: number;
  shape: string; // formatted, e.g. "[B, 64, 12, 12]"
  gradShape: string | null; // shape of dL/dvalue, null when no gradient reaches it
  receivesGradient: boolean;
  /** The bound value in its body's graph (a model's IR graph, or a fn's forward or grad graph). */
  value: ValueId;
  /** The shape as dims (null when an error left it unknown); dL/dvalue has the same. */
  readonly dims: Shape | null;
}

/** What the editor shows for a declared or anonymous layer, and for a call site. */
export interface LayerInfo {
  model: string;
  name: string; // `fc1`, or `linear_0` for an anonymous layer
  ctor: string; // `Linear`, `Conv2d`, a model name for a block
  args: Record<string, number | boolean | string>; // resolved constructor arguments: in, out, kernel... (a pair as `(1, 3)`)
  range: TextRange; // the declaration (or the inline constructor)
  /** Ranges of the calls that apply the layer (`fc1(h)`, `|> fc1`). */
  callRanges: TextRange[];
  inShape: string | null; // formatted input shape at the first application
  outShape: string | null;
  /** The same shapes as dims. */
  readonly input: Shape | null;
  readonly output: Shape | null;
  params: { name: string; shape: number[] }[];
  paramCount: number;
  flops: string; // forward FLOPs, symbolic in B where needed, e.g. "2359296*B"
  /** The same count as a dim (null when unknown). */
  readonly flopCount: Dim | null;
  activationBytes: string; // activation memory (the output and the internals), formatted as counts are: "32·B·T·T + 256·B·T"
  /** Intermediate values the layer's op keeps for its backward (attention's `[B, heads, T, T]` scores). */
  readonly internals: readonly { name: string; shape: Shape }[];
  receivesGradient: boolean;
  /** Its parameters are in the model's `train` block's `freeze`: no gradient, no update. */
  frozen: boolean;
}

/**
 * A call of a built-in function or `fn` (relu, sigmoid, my_linear, ...), or an operator
 * (`+`, `@`: the callee is the op, `add`, `matmul`; calleeRange the operator), for hovers.
 */
export interface CallInfo {
  model: string;
  callee: string;
  range: TextRange; // the whole call expression
  calleeRange: TextRange;
  inShapes: string[];
  outShape: string;
  /** The tensor inputs' and the output's shapes as dims (null where unknown). */
  readonly inputs: readonly (Shape | null)[];
  readonly output: Shape | null;
  /** Intermediate values the op keeps for its backward (attention's scores), where it says. */
  readonly internals: readonly { name: string; shape: Shape }[];
}

export interface ModelSummary {
  name: string;
  range: TextRange;
  nameRange: TextRange;
  hyperParams: string[];
  inputs: { name: string; shape: string }[];
  output: string;
  paramCount: number;
  flops: string;
  /** Forward FLOPs as a dim (null when unknown). */
  readonly flopCount: Dim | null;
}

export interface FnSummary {
  name: string;
  range: TextRange;
  nameRange: TextRange;
  hasGrad: boolean;
  inputs: { name: string; shape: string }[];
  output: string;
  /** The gradient shapes the `grad` block returns, in input order (formatted). */
  gradShapes: string[];
}

// ---------------------------------------------------------------------------------------
// The checked IR: a flat SSA graph per trainable model, blocks inlined and hyper-parameters
// substituted, so both back ends lower the same thing. Shapes stay symbolic in the batch dim.

export type ValueId = number;

export interface ValueInfo {
  id: ValueId;
  shape: Shape;
  dtype: 'float32' | 'int64';
  /** The binding or expression that produced it, for diagnostics (NN5004's `.nn` line). */
  range: TextRange;
  name?: string;
}

/** An attribute of an IR node: a number, flag or name, a size (a dim), a shape (a reshape's target), or a list of axes (a permutation). */
export type AttrValue = number | boolean | string | Dim | Shape | readonly number[] | undefined;

interface NodeBase {
  inputs: ValueId[];
  outputs: ValueId[];
  range: TextRange;
  /** The layer or fn the node belongs to, for statistics and findings (`fc1`, `res1.conv1`). */
  layer?: string;
}

/**
 * One application of an op of the registry (engine/src/ops/registry.ts): a built-in
 * function, an operator (`add`, `matmul`...), a loss, or a layer's op (`linear`, with the
 * layer's parameters and buffers as inputs after the data input). Its attributes are the
 * op's typed attributes, every one filled in by the checker.
 */
export type OpNode = { [N in OpName]: NodeBase & { op: N; attrs: AttrsOfOp<N> } }[OpName];

/** A `fn` call (with or without a `grad` block): `attrs.fn` names an entry of `CheckResult.fnIrs`. */
export type FnCallNode = NodeBase & { op: 'call_fn'; attrs: { fn: string } };

/** A value an error left undetermined, keeping the edges from its inputs (never in a clean model's IR). */
export type UnknownNode = NodeBase & { op: 'unknown'; attrs: Record<string, never> };

export type IrNode = OpNode | FnCallNode | UnknownNode;

/** A built-in layer the graph applies: its state_dict prefix, constructor and bound constructor arguments. */
export interface LayerUse {
  name: string;
  ctor: string;
  args: Record<string, AttrValue>;
}

/**
 * A run of nodes, `nodes[from]` to `nodes[to - 1]`, that computes `output` from values
 * defined before it: a `checkpoint(...)` expression or one application of a layer or block
 * instance (`layer` names it), which a `train` block's `checkpoint` can name.
 */
export interface NodeSpan {
  from: number;
  to: number;
  output: ValueId;
  range: TextRange;
  layer?: string;
}

export interface Graph {
  values: ValueInfo[]; // indexed by ValueId
  nodes: IrNode[]; // in execution order
  inputs: ValueId[]; // the model's data inputs
  params: { param: ParamInfo; value: ValueId }[];
  buffers: { buffer: BufferInfo; value: ValueId }[];
  layers: LayerUse[];
  output: ValueId;
  /** The `checkpoint(...)` expressions of the graph's own body (absent: none). */
  checkpoints?: NodeSpan[];
  /** Every application of the body's own layer and block instances (absent: none). */
  instanceCalls?: NodeSpan[];
}

/** A `fn`: its forward graph over its arguments, and the `grad` block's graph if written. */
export interface FnIR {
  name: string;
  forward: Graph; // inputs = the fn's arguments
  /** Inputs: the fn's arguments then g; outputs: one gradient per argument (a tuple node). */
  backward: { graph: Graph; gradOutputs: ValueId[] } | null;
}

export interface ModelIR {
  name: string;
  graph: Graph;
  params: ParamInfo[];
  buffers: BufferInfo[];
}

export type DataSpec =
  | { kind: 'fashion_mnist'; train: number; test: number }
  | { kind: 'mnist'; train: number; test: number }
  | { kind: 'cifar10'; train: number; test: number }
  | { kind: 'spirals'; classes: number; points: number }
  | { kind: 'moons'; points: number }
  | { kind: 'xor' }
  | { kind: 'csv'; path: string; label: string }
  | { kind: 'idx'; images: string; labels: string }
  | { kind: 'npy'; x: string; y: string }
  | { kind: 'text'; path: string; block: number; stride: number; test: number };

export type OptimizerSpec =
  | { kind: 'SGD'; lr: number; momentum: number; weightDecay: number; /** Nesterov momentum (absent: off). */ nesterov?: boolean }
  | { kind: 'Adam' | 'AdamW'; lr: number; beta1: number; beta2: number; eps: number; weightDecay: number }
  | { kind: 'RMSprop'; lr: number; alpha: number; eps: number; weightDecay: number; momentum: number };

/** A learning-rate schedule, as torch.optim.lr_scheduler defines it, stepped once per optimizer step. */
export type ScheduleSpec =
  | { kind: 'step'; stepSize: number; gamma: number }
  | { kind: 'cosine'; /** null: every step of the run */ tMax: number | null; etaMin: number }
  | { kind: 'linear'; startFactor: number; endFactor: number; totalIters: number }
  | { kind: 'one_cycle'; pctStart: number; divFactor: number; finalDivFactor: number };

/** The training controls of a `train` block beyond the optimizer (none by default). */
export interface TrainControls {
  schedule: ScheduleSpec | null;
  /** Steps of linear warmup before the schedule (0: none). */
  warmup: number;
  /** The total L2 norm all gradients are scaled down to (torch.nn.utils.clip_grad_norm_), or null. */
  clipGradNorm: number | null;
  /** The bound every gradient element is clamped to (torch.nn.utils.clip_grad_value_), or null. */
  clipGradValue: number | null;
  /** Epochs without a lower evaluation loss before the run stops (null: never). */
  earlyStopping: number | null;
  /** The parameters (state_dict names) of the `freeze` layers: no gradient, no update. */
  frozen: string[];
  /** Micro-batches of `batch` samples whose averaged gradients make one optimizer step (1: none; absent: 1). */
  accumulate?: number;
  /** The parameters (state_dict names) the optimizer's weight decay skips (`no_decay`; absent: none). */
  noDecay?: string[];
  /** The layer and block instances whose applications are checkpointed (`checkpoint`; absent: none). */
  checkpoint?: string[];
}

export interface TrainIR {
  model: string;
  range: TextRange; // the `train` block
  data: DataSpec;
  dataRange: TextRange;
  loss: OpName; // an op whose surface is 'loss'
  /** The loss's number arguments the block gives (`cross_entropy(label_smoothing = 0.1)`); the others take their defaults. */
  lossArgs?: Readonly<Record<string, number>>;
  /** The loss's class weights, one per class (`cross_entropy(weight = [1.0, 2.0])`; absent: every class weighs 1). */
  lossWeight?: readonly number[];
  optimizer: OptimizerSpec;
  /** Schedule, clipping and early stopping (absent: none). */
  controls?: TrainControls;
  epochs: number;
  batch: number;
  seed: number;
  validate: number | 'test';
  backend: 'auto' | 'ts' | 'onnx';
  save: string;
  /** Range of each key's value, for findings reported at `train` keys. */
  keyRanges: Record<string, TextRange>;
  /** The optimizer's `lr` argument value, when the block gives one (the learning-rate findings' quick fix replaces it). */
  lrRange?: TextRange;
}

/** What the checker knows of a data set, given to it by the caller (no I/O in analysis). */
export interface DataHeader {
  sampleShape: number[]; // without the batch dim
  classes: number | null; // null for regression targets
  labelShape: number[];
  /** A built-in data set that is not on the machine yet: the first run downloads `bytes` from `from` into `into`. */
  download?: { bytes: number; from: string; into: string };
  /** For inputs that are all integers (token ids for an `Embedding`): the smallest and largest. */
  inputIds?: { min: number; max: number };
}

/**
 * Reads data-file headers for the `train` checks; the CLI and server provide one. An error is
 * NN4005 (unreadable) unless it says NN4006: the file resolves outside the folder (a symlink).
 */
export type DataHeaderReader = (spec: DataSpec) => DataHeader | { error: string; code?: 'NN4005' | 'NN4006'; path?: string; problem?: string };

export interface CheckResult {
  diagnostics: Diagnostic[];
  bindings: BindingInfo[];
  layers: LayerInfo[];
  calls: CallInfo[];
  models: ModelSummary[];
  fns: FnSummary[];
  /** One entry per model that checked without errors (and every model used by a `train`). */
  irs: Map<string, ModelIR>;
  fnIrs: Map<string, FnIR>;
  trains: TrainIR[];
  /** With imports: the imported files, each at its offset in the combined text that imported ranges point into. */
  imports?: ImportedFile[];
  /** With imports: the summaries of the imported models and fns (their ranges in the combined text). */
  importedModels?: ModelSummary[];
  importedFns?: FnSummary[];
  /** With the `semantics` option: every name resolved to its symbol, and the tokens with comments. */
  semantics?: SemanticModel;
}
