// Builds the checked IR: a flat SSA graph of values and op nodes, appended in execution order.

import type { Shape } from '../shape/dim.js';
import type { AttrValue, BufferInfo, Graph, IrNode, LayerUse, NodeSpan, ParamInfo, TextRange, ValueId, ValueInfo } from './api.js';

export type DType = 'float32' | 'int64';

export class GraphBuilder {
  readonly values: ValueInfo[] = [];
  readonly nodes: IrNode[] = [];
  readonly inputs: ValueId[] = [];
  readonly params: { param: ParamInfo; value: ValueId }[] = [];
  readonly buffers: { buffer: BufferInfo; value: ValueId }[] = [];
  readonly layers: LayerUse[] = [];
  output: ValueId = -1;
  readonly checkpoints: NodeSpan[] = [];
  readonly instanceCalls: NodeSpan[] = [];
  /** Values whose shape the checker could not know (only after an error). */
  readonly unknownShapes = new Set<ValueId>();
  /** Values an error left unknown with no edge from what they stand for (an undefined name's): they may stand for any earlier value. */
  readonly errorValues: ValueId[] = [];

  addValue(shape: Shape | null, dtype: DType, range: TextRange, name?: string): ValueId {
    const id = this.values.length;
    // Whole literals (no field added later): the objects keep one compact layout.
    const info: ValueInfo = name === undefined ? { id, shape: shape ?? [], dtype, range } : { id, shape: shape ?? [], dtype, range, name };
    this.values.push(info);
    if (shape === null) this.unknownShapes.add(id);
    return id;
  }

  /** Appends a node with one new output value; returns that value (the node is the last of `nodes`). */
  addNode(op: IrNode['op'], inputs: ValueId[], attrs: Record<string, AttrValue>, range: TextRange, shape: Shape | null, dtype: DType, layer?: string): ValueId {
    const output = this.addValue(shape, dtype, range);
    // The checker fills an op's attributes from its signature (lang/signatures.ts), so they are the op's own.
    const node = (layer === undefined ? { op, inputs, outputs: [output], attrs, range } : { op, inputs, outputs: [output], attrs, range, layer }) as IrNode;
    this.nodes.push(node);
    return output;
  }

  build(): Graph {
    return {
      values: this.values,
      nodes: this.nodes,
      inputs: this.inputs,
      params: this.params,
      buffers: this.buffers,
      layers: this.layers,
      output: this.output,
      ...(this.checkpoints.length > 0 ? { checkpoints: this.checkpoints } : {}),
      ...(this.instanceCalls.length > 0 ? { instanceCalls: this.instanceCalls } : {}),
    };
  }
}
