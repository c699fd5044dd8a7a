// Class indices and back: `argmax(x, dim)`, the int64 index of the first maximum (no gradient,
// as in PyTorch), and `one_hot(ids, num_classes)`, int ids made float rows of 0 and 1.

import { Tensor } from '../tensor/tensor.js';
import { Dim, formatShape } from '../shape/dim.js';
import { defineOp, size, tensor } from './def.js';
import { axesOf, extremum, reduceParams, reduceRule, type ReduceAttrs } from './reduce.js';
import { outputShape, sizeOf } from './shape-rule.js';
import { emptyFloat, requireFloat } from './operand.js';

export function argmax(x: Tensor, attrs: ReduceAttrs): Tensor {
  requireFloat('argmax', x);
  const shape = outputShape(argmaxOp, [x.shape], attrs);
  const { along } = extremum('argmax', x, attrs.axis, (v, best) => v > best, -Infinity);
  return new Tensor(along, shape, 'int64');
}

export function oneHot(ids: Tensor, classes: number): Tensor {
  if (ids.dtype !== 'int64') throw new TypeError(`one_hot: ids must be an int64 tensor, got ${ids.dtype}`);
  const out = emptyFloat(outputShape(oneHotOp, [ids.shape], { num_classes: Dim.of(classes) }, ['int64']), 'float32');
  ids.data.forEach((id, i) => {
    if (id < 0 || id >= classes) throw new RangeError(`one_hot: id ${id} at position ${i} is outside [0, ${classes})`);
    out.values[i * classes + id] = 1;
  });
  return out;
}

export const argmaxOp = defineOp({
  name: 'argmax',
  surface: 'function',
  params: reduceParams,
  doc: {
    summary: 'The int64 index of the first maximum along `axis` (of the flattened tensor when absent), as torch.argmax: class ids for `one_hot`, `Embedding` or a comparison with labels.',
    gradient: 'none: indices are int64',
  },
  shape: reduceRule,
  outputDtype: 'int64',
  gradInputs: () => [],
  ts: ([x], attrs) => argmax(x, attrs),
  onnx: {
    forward: (ctx, [x], attrs) => {
      if (attrs.axis !== undefined) return { outputs: [ctx.b.op1('ArgMax', [x.name], { axis: axesOf(attrs, x.shape.length)[0], keepdims: attrs.keepdims ? 1 : 0 })] };
      const flat = ctx.b.op1('Reshape', [x.name, ctx.b.constInt([-1])]);
      const index = ctx.b.op1('ArgMax', [flat], { axis: 0, keepdims: attrs.keepdims ? 1 : 0 });
      return { outputs: [attrs.keepdims ? ctx.b.op1('Reshape', [index, ctx.b.constInt(x.shape.map(() => 1))]) : index] };
    },
    backward: () => [null],
  },
  pytorch: ([x], attrs) => `torch.argmax(${x}${attrs.axis === undefined ? '' : `, dim=${attrs.axis}`}${attrs.keepdims ? ', keepdim=True' : ''})`,
});

export const oneHotOp = defineOp({
  name: 'one_hot',
  surface: 'function',
  params: [
    tensor('ids', { aliases: ['input', 'tensor'], doc: 'int class ids in [0, num_classes)' }),
    size('num_classes', { min: 1, doc: 'the length of each one-hot row' }),
  ],
  doc: {
    summary: 'Int class ids `[*S]` as float one-hot rows `[*S, num_classes]` (F.one_hot, made float).',
    gradient: 'none: the ids are int64',
  },
  shape: ([ids], { num_classes }, dtypes) => {
    const shape = [...ids, num_classes];
    if (dtypes[0] !== undefined && dtypes[0] !== 'int64') return { error: { code: 'NN2162', args: [{ input: 0 }, formatShape(ids)], argument: { input: 0 } }, shape };
    return { shape };
  },
  ids: { input: 0, count: (_, { num_classes }) => num_classes, noun: 'classes' },
  gradInputs: () => [],
  ts: ([ids], { num_classes }) => oneHot(ids, sizeOf(num_classes)),
  onnx: {
    forward: (ctx, [ids], { num_classes }) => ({ outputs: [ctx.b.op1('OneHot', [ids.name, ctx.b.constInt([sizeOf(num_classes)]), ctx.b.constFloat([0, 1])], { axis: -1 })] }),
    backward: () => [null],
  },
  pytorch: ([ids], { num_classes }) => `F.one_hot(${ids}, ${sizeOf(num_classes)}).float()`,
});
