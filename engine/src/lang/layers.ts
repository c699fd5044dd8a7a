// Built-in layers' parameters (PyTorch's state_dict names, shapes and default inits) and
// their forward cost: FLOPs count a multiply-add as 2; normalization layers cost 2 per element.

import { Dim, type Shape } from '../shape/dim.js';
import type { InitSpec } from './api.js';
import type { GraphBuilder } from './ir.js';

export interface ParamSpecOf {
  suffix: string; // `weight`, `bias`
  shape: Shape;
  init: InitSpec;
}

export interface LayerShapes {
  params: ParamSpecOf[];
  readonly buffers: readonly { suffix: string; shape: Shape; init: 'zeros' | 'ones' }[];
}

function known(d: Dim): number {
  return d.constant() ?? 0;
}

const uniformInits = new Map<string, InitSpec>();

/**
 * The uniform init of a fan-in, one shared object per kind and fan-in: every `Linear(64, 64)`
 * of a file has the same, and the checker's result keeps them as long as it lives.
 */
function uniformInit(kind: 'kaiming_uniform' | 'bias_uniform', fanIn: number): InitSpec {
  const key = `${kind}:${fanIn}`;
  const shared = uniformInits.get(key);
  if (shared !== undefined) return shared;
  const init: InitSpec = Object.freeze({ kind, fanIn });
  if (uniformInits.size < 4096) uniformInits.set(key, init);
  return init;
}

const NO_BUFFERS: LayerShapes['buffers'] = [];

/** Parameters and buffers of a built-in layer given its resolved integer and flag arguments. */
export function layerShapes(ctor: string, dims: Record<string, Dim>, flags: Record<string, boolean>): LayerShapes {
  switch (ctor) {
    case 'Linear': {
      const fanIn = known(dims.in);
      const params: ParamSpecOf[] = [{ suffix: 'weight', shape: [dims.out, dims.in], init: uniformInit('kaiming_uniform', fanIn) }];
      if (flags.bias !== false) params.push({ suffix: 'bias', shape: [dims.out], init: uniformInit('bias_uniform', fanIn) });
      return { params, buffers: NO_BUFFERS };
    }
    case 'Conv2d': {
      const fanIn = known(dims.in) * known(dims.kernel) * known(dims.kernel);
      const params: ParamSpecOf[] = [
        { suffix: 'weight', shape: [dims.out, dims.in, dims.kernel, dims.kernel], init: uniformInit('kaiming_uniform', fanIn) },
      ];
      if (flags.bias !== false) params.push({ suffix: 'bias', shape: [dims.out], init: uniformInit('bias_uniform', fanIn) });
      return { params, buffers: NO_BUFFERS };
    }
    case 'BatchNorm2d':
    case 'BatchNorm1d': {
      const c = dims.c ?? dims.f;
      return {
        params: [
          { suffix: 'weight', shape: [c], init: { kind: 'ones' } },
          { suffix: 'bias', shape: [c], init: { kind: 'zeros' } },
        ],
        buffers: [
          { suffix: 'running_mean', shape: [c], init: 'zeros' },
          { suffix: 'running_var', shape: [c], init: 'ones' },
        ],
      };
    }
    case 'LayerNorm':
      return {
        params: [
          { suffix: 'weight', shape: [dims.f], init: { kind: 'ones' } },
          { suffix: 'bias', shape: [dims.f], init: { kind: 'zeros' } },
        ],
        buffers: NO_BUFFERS,
      };
    case 'Embedding':
      return { params: [{ suffix: 'weight', shape: [dims.n, dims.d], init: { kind: 'normal', std: 1 } }], buffers: NO_BUFFERS };
    default:
      return { params: [], buffers: NO_BUFFERS };
  }
}

export function elementCount(shape: Shape): Dim {
  return shape.reduce((acc, d) => acc.mul(d), Dim.of(1));
}

const NO_FLOPS = Dim.of(0);

/** Forward FLOPs of one op application, from its input shapes and output shape. */
export function opFlops(op: string, inputs: readonly (Shape | null)[], output: Shape | null): Dim | null {
  if (output === null) return null;
  switch (op) {
    case 'linear': {
      const weight = inputs[1];
      return weight ? elementCount(output).mul(weight[1]).scale(2) : null;
    }
    case 'conv2d': {
      const weight = inputs[1];
      return weight ? elementCount(output).mul(elementCount(weight.slice(1))).scale(2) : null;
    }
    case 'matmul': {
      const a = inputs[0];
      return a && a.length > 0 ? elementCount(output).mul(a[a.length - 1]).scale(2) : null;
    }
    case 'batch_norm2d':
    case 'batch_norm1d':
    case 'layer_norm':
      return elementCount(output).scale(2);
    default:
      return NO_FLOPS;
  }
}

/** The recorded shape of a graph value, null when the checker could not know it. */
function recordedShape(graph: GraphBuilder, value: number): Shape | null {
  return graph.unknownShapes.has(value) ? null : graph.values[value].shape;
}

/**
 * Forward FLOPs of the graph's nodes `from` to `to` (exclusive), from their recorded shapes:
 * null when one is unknown. A fn call counts 0 (its body is not inlined); a placeholder left
 * by an error is unknown. Computed on request: publishing diagnostics needs none of them.
 */
export function graphFlops(graph: GraphBuilder, from = 0, to = graph.nodes.length): Dim | null {
  let total = Dim.of(0);
  for (let k = from; k < to; k++) {
    const node = graph.nodes[k];
    if (node.op === 'call_fn') continue;
    if (node.op === 'unknown') return null;
    const flops = opFlops(node.op, node.inputs.map((v) => recordedShape(graph, v)), recordedShape(graph, node.outputs[0]));
    if (flops === null) return null;
    total = total.add(flops);
  }
  return total;
}

export function bytesPerElement(dtype: 'float32' | 'int64'): number {
  return dtype === 'int64' ? 8 : 4;
}
