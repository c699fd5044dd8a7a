// Writes checked IR by hand for the ONNX tests and benchmark, in the form the front end
// produces (api.ts): values with symbolic batch dims, nodes in execution order, params.

import type { Graph, InitSpec, IrNode, ModelIR, ValueId, ValueInfo } from '../../engine/src/lang/api.js';
import { Dim, shapeOf } from '../../engine/src/shape/dim.js';
import type { AttrsOfOp, OpName } from '../../engine/src/ops/registry.js';

const noRange = { start: 0, end: 0 };

export class IrBuilder {
  private readonly values: ValueInfo[] = [];
  private readonly graph: Graph = { values: this.values, nodes: [], inputs: [], params: [], buffers: [], layers: [], output: -1 };

  private value(shape: readonly (number | string)[], dtype: 'float32' | 'int64' = 'float32', name?: string): ValueId {
    const id = this.values.length;
    this.values.push({ id, shape: shapeOf(shape), dtype, range: noRange, name });
    return id;
  }

  input(name: string, shape: readonly (number | string)[], dtype: 'float32' | 'int64' = 'float32'): ValueId {
    const id = this.value(shape, dtype, name);
    this.graph.inputs.push(id);
    return id;
  }

  param(name: string, shape: number[], layer: string, init: InitSpec): ValueId {
    const id = this.value(shape, 'float32', name);
    this.graph.params.push({ param: { name, shape, init, range: noRange, layer }, value: id });
    return id;
  }

  buffer(name: string, shape: number[], layer: string, init: 'zeros' | 'ones'): ValueId {
    const id = this.value(shape, 'float32', name);
    this.graph.buffers.push({ buffer: { name, shape, init, layer }, value: id });
    return id;
  }

  /** A node of op `op` with its attributes, all of them (the checker fills every one in). */
  op<N extends OpName>(op: N, inputs: ValueId[], shape: readonly (number | string)[], attrs: AttrsOfOp<N>, layer?: string): ValueId {
    const out = this.value(shape);
    this.graph.nodes.push({ op, inputs, outputs: [out], attrs, range: noRange, layer } as IrNode);
    return out;
  }

  /** A call of the fn `fn`. */
  call(fn: string, inputs: ValueId[], shape: readonly (number | string)[]): ValueId {
    const out = this.value(shape);
    this.graph.nodes.push({ op: 'call_fn', inputs, outputs: [out], attrs: { fn }, range: noRange, layer: fn });
    return out;
  }

  /** A node of an op no back end knows (for the tests of what happens then). */
  foreign(op: string, inputs: ValueId[], shape: readonly (number | string)[]): ValueId {
    const out = this.value(shape);
    this.graph.nodes.push({ op, inputs, outputs: [out], attrs: {}, range: noRange } as unknown as IrNode);
    return out;
  }

  linear(name: string, x: ValueId, inF: number, outF: number, batch: (number | string)[] = ['B']): ValueId {
    const w = this.param(`${name}.weight`, [outF, inF], name, { kind: 'kaiming_uniform', fanIn: inF });
    const b = this.param(`${name}.bias`, [outF], name, { kind: 'bias_uniform', fanIn: inF });
    return this.op('linear', [x, w, b], [...batch, outF], {}, name);
  }

  conv(name: string, x: ValueId, inC: number, outC: number, k: number, outHW: number, options: { stride?: number; padding?: number } = {}, bias = true): ValueId {
    const stride = Dim.of(options.stride ?? 1);
    const padding = Dim.of(options.padding ?? 0);
    const attrs = { stride: [stride, stride] as const, padding: [padding, padding] as const };
    const w = this.param(`${name}.weight`, [outC, inC, k, k], name, { kind: 'kaiming_uniform', fanIn: inC * k * k });
    if (!bias) return this.op('conv2d', [x, w], ['B', outC, outHW, outHW], attrs, name);
    const b = this.param(`${name}.bias`, [outC], name, { kind: 'bias_uniform', fanIn: inC * k * k });
    return this.op('conv2d', [x, w, b], ['B', outC, outHW, outHW], attrs, name);
  }

  batchNorm2d(name: string, x: ValueId, c: number, hw: number): ValueId {
    const w = this.param(`${name}.weight`, [c], name, { kind: 'ones' });
    const b = this.param(`${name}.bias`, [c], name, { kind: 'zeros' });
    const mean = this.buffer(`${name}.running_mean`, [c], name, 'zeros');
    const variance = this.buffer(`${name}.running_var`, [c], name, 'ones');
    return this.op('batch_norm2d', [x, w, b, mean, variance], ['B', c, hw, hw], { eps: 1e-5, momentum: 0.1 }, name);
  }

  model(name: string, output: ValueId): ModelIR {
    this.graph.output = output;
    return { name, graph: this.graph, params: this.graph.params.map((p) => p.param), buffers: this.graph.buffers.map((b) => b.buffer) };
  }
}

/** The MLP 784-256-128-10 of the benchmark. */
export function mlpIR(sizes: number[] = [784, 256, 128, 10]): ModelIR {
  const ir = new IrBuilder();
  let h = ir.input('x', ['B', sizes[0]]);
  for (let i = 1; i < sizes.length; i++) {
    h = ir.linear(`fc${i}`, h, sizes[i - 1], sizes[i]);
    if (i < sizes.length - 1) h = ir.op('relu', [h], ['B', sizes[i]], {});
  }
  return ir.model('MLP', h);
}

/**
 * The small CNN of the benchmark: conv 1→8 k3, pool 2, conv 8→16 k3, pool 2, linear → 10;
 * with batch norm after the first conv, that conv has no bias (as in PyTorch practice).
 */
export function cnnIR(options: { batchNorm?: boolean } = {}): ModelIR {
  const ir = new IrBuilder();
  let h = ir.input('x', ['B', 1, 28, 28]);
  h = ir.conv('conv1', h, 1, 8, 3, 26, {}, !options.batchNorm);
  if (options.batchNorm) h = ir.batchNorm2d('bn1', h, 8, 26);
  const two = [Dim.of(2), Dim.of(2)] as const;
  const pool = { k: two, stride: two, padding: [Dim.of(0), Dim.of(0)] as const };
  h = ir.op('relu', [h], ['B', 8, 26, 26], {});
  h = ir.op('max_pool2d', [h], ['B', 8, 13, 13], pool);
  h = ir.conv('conv2', h, 8, 16, 3, 11);
  h = ir.op('relu', [h], ['B', 16, 11, 11], {});
  h = ir.op('max_pool2d', [h], ['B', 16, 5, 5], pool);
  h = ir.op('flatten', [h], ['B', 400], { start: 1, end: -1 });
  h = ir.linear('fc', h, 400, 10);
  return ir.model('SmallCNN', h);
}
