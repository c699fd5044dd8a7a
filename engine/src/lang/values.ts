// What an expression evaluates to during checking: a tensor (with its IR value and shape),
// a number (an integer dim, possibly symbolic), a flag, a string, a list, a layer or a callable.

import { formatShape, type Dim, type Shape } from '../shape/dim.js';
import type { InitSpec, TextRange, ValueId } from './api.js';
import type { DType } from './ir.js';
import type { Expr, ModelItem } from './syntax.js';
import type { SomeLayerDef } from '../ops/def.js';
import type { BoundValue } from './signatures.js';

export interface TensorValue {
  kind: 'tensor';
  id: ValueId;
  /** null when an earlier error left the shape unknown: it fits anything. */
  shape: Shape | null;
  dtype: DType;
  /** How the value was formed, for messages: `flatten of [B, 64, 12, 12]` (formatted only when reported). */
  origin?: { op: string; shape: Shape };
  /** A mask (a comparison's result, 0 or 1; no gradient): only ops that take masks accept it (NN2140). */
  mask?: true;
}

export interface NumberValue {
  kind: 'number';
  /** The numeric value when known (not symbolic). */
  value: number | null;
  /** The value as a dim when it is an integer (symbolic for hyper-parameters and shape names). */
  dim: Dim | null;
}

export type Value =
  | TensorValue
  | NumberValue
  | { kind: 'bool'; value: boolean }
  | { kind: 'string'; value: string }
  | { kind: 'list'; items: Value[] }
  | TupleValue
  | { kind: 'layer'; layer: LayerInstance }
  | { kind: 'callable'; name: string }
  | { kind: 'unknown' };

/** An op's several results (`chunk`, a recurrent layer's `out, (h, c)`), bound by `a, b = ...` (NN2147 when the count differs). */
export interface TupleValue {
  kind: 'tuple';
  op: string;
  items: (TensorValue | TupleValue)[];
}

export const UNKNOWN: Value = { kind: 'unknown' };

export interface LayerParam {
  /** state_dict name: `fc1.weight`. */
  name: string;
  shape: Shape;
  init: InitSpec;
  value: ValueId;
}

export interface LayerBuffer {
  name: string;
  shape: Shape;
  init: 'zeros' | 'ones';
  value: ValueId;
}

/** A model used as a layer: its hyper-parameters and the layers its body declares. */
export interface BlockInstance {
  model: ModelItem;
  hyperParams: Map<string, Value>;
  layers: Map<string, Value>;
  anonymous: Map<Expr, LayerInstance>;
}

/** A declared or anonymous layer (or raw `param`) instance, with its parameters. */
export interface LayerInstance {
  /** Full state_dict prefix: `fc1`, `res1.conv1`, `linear_0`. */
  name: string;
  /** The name inside its own model: `conv1`, `linear_0`. */
  localName: string;
  ctor: string;
  /** The built-in layer's definition; null for a block (a model used as a layer) or a `param`. */
  def: SomeLayerDef | null;
  /** The constructor call (or `param(...)`). */
  ctorRange: TextRange;
  /** Where "receives no gradient" goes: the declaration statement, or the inline constructor. */
  declarationRange: TextRange;
  /** The constructor's arguments, bound (sizes are dims: symbolic in a block's own check). */
  args: Record<string, BoundValue>;
  argRanges: Record<string, TextRange>;
  params: LayerParam[];
  buffers: readonly LayerBuffer[];
  block: BlockInstance | null;
  callRanges: TextRange[];
  inShape: Shape | null;
  outShape: Shape | null;
  /** The graph nodes of its first application (a block's are all inlined ones), for its FLOPs. */
  nodes: { from: number; to: number } | null;
  applied: boolean;
}

/** An unknown value, or a tensor an earlier error left without a shape: it fits anything, so nothing is reported about it. */
export function isVague(value: Value): boolean {
  return value.kind === 'unknown' || (value.kind === 'tensor' && value.shape === null);
}

/** A value as a message names it: `a tensor of shape [B, 3]`, `a number`, `the layer \`fc1\``. */
export function describeValue(value: Value): string {
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
    case 'tuple':
      return `${value.items.length} results of \`${value.op}\``;
    case 'layer':
      return `the layer \`${value.layer.localName}\``;
    case 'callable':
      return `\`${value.name}\``;
    case 'unknown':
      return 'an unknown value';
  }
}
