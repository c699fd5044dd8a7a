// The front end's public results: diagnostics, the per-binding facts the editor shows,
// and the checked IR that the TS engine and the ONNX path both lower from.
// Offsets are UTF-16 code-unit offsets into the document text (what JS strings and LSP use).

import type { Shape } from '../shape/dim.js';

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
  | { kind: 'normal'; std: number };

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
}

/** What the editor shows for a declared or anonymous layer, and for a call site. */
export interface LayerInfo {
  model: string;
  name: string; // `fc1`, or `linear_0` for an anonymous layer
  ctor: string; // `Linear`, `Conv2d`, a model name for a block
  args: Record<string, number | boolean>; // resolved constructor arguments: in, out, kernel...
  range: TextRange; // the declaration (or the inline constructor)
  /** Ranges of the calls that apply the layer (`fc1(h)`, `|> fc1`). */
  callRanges: TextRange[];
  inShape: string | null; // formatted input shape at the first application
  outShape: string | null;
  params: { name: string; shape: number[] }[];
  paramCount: number;
  flops: string; // forward FLOPs, symbolic in B where needed, e.g. "2359296*B"
  activationBytes: string; // output activation memory, symbolic
  receivesGradient: boolean;
}

/** A call of a built-in function or `fn` (relu, sigmoid, my_linear, ...), for hovers. */
export interface CallInfo {
  model: string;
  callee: string;
  range: TextRange; // the whole call expression
  calleeRange: TextRange;
  inShapes: string[];
  outShape: string;
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

export type AttrValue = number | boolean | string | number[];

/**
 * One op application. `op` is a built-in name from LANGUAGE.md §6 (`relu`, `max_pool2d`,
 * `cross_entropy`...), an operator (`add`, `sub`, `mul`, `div`, `pow`, `matmul`, `neg`),
 * a layer op (`linear`, `conv2d`, `batch_norm2d`, `batch_norm1d`, `layer_norm`, `embedding`,
 * with parameters as inputs after the data input), or `call_fn` (attrs.fn names an entry of
 * `Program.fns`; used for every `fn`, with or without a `grad` block).
 * `layer` names the layer or fn for statistics and findings (`fc1`, `res1.conv1`).
 *
 * Attributes (set by engine/src/lang/shapes.ts; the shape rules are engine/src/shape/rules.ts):
 * - add/sub/mul/div with one input: `scalar` is the other operand, `scalarFirst` when it is on the left (`2 - x`);
 * - pow: `exponent`; leaky_relu: `slope`; dropout: `p`; softmax/log_softmax/concat: `axis`;
 * - sum/mean/max: `axis` (absent: every axis), `keepdims`; transpose: `dim0`, `dim1`; flatten: `start`, `end`;
 * - reshape: `dims` (constants; -1 inferred; 0 copies the input's dim at that index, as in ONNX) and
 *   `shape`, the target as symbolic text (`[B, T, 8]`) for when `dims` has more than one -1;
 * - max_pool2d/avg_pool2d: `kernel`, `stride`, `padding`;
 * - linear: `inFeatures`, `outFeatures`, `bias`; conv2d: `kernel`, `stride`, `padding`, `inChannels`,
 *   `outChannels`, `bias`; batch_norm2d/1d: `eps`, `momentum` (inputs: x, weight, bias, running_mean,
 *   running_var); layer_norm: `eps`; embedding: `numEmbeddings`, `embeddingDim` (inputs: ids, weight).
 */
export interface IrNode {
  op: string;
  inputs: ValueId[];
  outputs: ValueId[];
  attrs: Record<string, AttrValue>;
  range: TextRange;
  layer?: string;
}

export interface Graph {
  values: ValueInfo[]; // indexed by ValueId
  nodes: IrNode[]; // in execution order
  inputs: ValueId[]; // the model's data inputs
  params: { param: ParamInfo; value: ValueId }[];
  buffers: { buffer: BufferInfo; value: ValueId }[];
  output: ValueId;
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
  | { kind: 'spirals'; classes: number; points: number }
  | { kind: 'moons'; points: number }
  | { kind: 'xor' }
  | { kind: 'csv'; path: string; label: string }
  | { kind: 'idx'; images: string; labels: string }
  | { kind: 'npy'; x: string; y: string };

export type OptimizerSpec =
  | { kind: 'SGD'; lr: number; momentum: number; weightDecay: number }
  | { kind: 'Adam' | 'AdamW'; lr: number; beta1: number; beta2: number; eps: number; weightDecay: number };

export interface TrainIR {
  model: string;
  range: TextRange; // the `train` block
  data: DataSpec;
  dataRange: TextRange;
  loss: 'cross_entropy' | 'mse' | 'bce_with_logits';
  optimizer: OptimizerSpec;
  epochs: number;
  batch: number;
  seed: number;
  validate: number | 'test';
  backend: 'auto' | 'ts' | 'onnx';
  save: string;
  /** Range of each key's value, for findings reported at `train` keys. */
  keyRanges: Record<string, TextRange>;
}

/** What the checker knows of a data set, given to it by the caller (no I/O in analysis). */
export interface DataHeader {
  sampleShape: number[]; // without the batch dim
  classes: number | null; // null for regression targets
  labelShape: number[];
  /** For inputs that are all integers (token ids for an `Embedding`): the smallest and largest. */
  inputIds?: { min: number; max: number };
}

/**
 * Reads data-file headers for the `train` checks; the CLI and server provide one. An error is
 * NN4005 (unreadable) unless it says NN4006: the file resolves outside the folder (a symlink).
 */
export type DataHeaderReader = (spec: DataSpec) => DataHeader | { error: string; code?: 'NN4005' | 'NN4006'; path?: string };

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
}
