// Builds the checked IR: a flat SSA graph of values and op nodes, appended in execution order.

import type { Shape } from '../shape/dim.js';
import type { AttrValue, BufferInfo, Graph, IrNode, ParamInfo, TextRange, ValueId, ValueInfo } from './api.js';

export type DType = 'float32' | 'int64';

export class GraphBuilder {
  readonly values: ValueInfo[] = [];
  readonly nodes: IrNode[] = [];
  readonly inputs: ValueId[] = [];
  readonly params: { param: ParamInfo; value: ValueId }[] = [];
  readonly buffers: { buffer: BufferInfo; value: ValueId }[] = [];
  output: ValueId = -1;
  /** Values whose shape the checker could not know (only after an error). */
  readonly unknownShapes = new Set<ValueId>();

  addValue(shape: Shape | null, dtype: DType, range: TextRange, name?: string): ValueId {
    const id = this.values.length;
    const info: ValueInfo = { id, shape: shape ?? [], dtype, range };
    if (name !== undefined) info.name = name;
    this.values.push(info);
    if (shape === null) this.unknownShapes.add(id);
    return id;
  }

  addNode(
    op: string,
    inputs: ValueId[],
    attrs: Record<string, AttrValue>,
    range: TextRange,
    out: { shape: Shape | null; dtype: DType },
    layer?: string,
  ): { node: IrNode; output: ValueId } {
    const output = this.addValue(out.shape, out.dtype, range);
    const node: IrNode = { op, inputs, outputs: [output], attrs, range };
    if (layer !== undefined) node.layer = layer;
    this.nodes.push(node);
    return { node, output };
  }

  build(): Graph {
    return {
      values: this.values,
      nodes: this.nodes,
      inputs: this.inputs,
      params: this.params,
      buffers: this.buffers,
      output: this.output,
    };
  }
}
