// Spatial resampling of [N, C, H, W]: `adaptive_avg_pool2d(x, size)` and `upsample(x, scale,
// mode)` (nearest or bilinear, PyTorch's align_corners=False). Each is separable: a constant
// [out, in] weight matrix per spatial axis, y = M_h · x · M_wᵀ, so both are composites
// (ops/compose.ts) of two matmuls, differentiated through them on both back ends.

import { Dim, formatShape, type Shape } from '../shape/dim.js';
import { elementCount, ruleError, type RuleResult } from '../shape/rules.js';
import { choice, defineOp, int, size, tensor } from './def.js';
import { compositeRules, type Builder } from './compose.js';
import { sizeOf } from './shape-rule.js';

/** Weights [out, in] of each output position over the input positions. */
type Weights = (out: number, input: number) => number[];

/** PyTorch's adaptive windows: output i averages inputs floor(i·in/out) … ceil((i+1)·in/out) − 1. */
export const adaptiveWeights: Weights = (out, input) => {
  const m = new Array<number>(out * input).fill(0);
  for (let i = 0; i < out; i++) {
    const start = Math.floor((i * input) / out);
    const end = Math.ceil(((i + 1) * input) / out);
    for (let j = start; j < end; j++) m[i * input + j] = 1 / (end - start);
  }
  return m;
};

/** Nearest: output i copies input floor(i · in / out). */
export const nearestWeights: Weights = (out, input) => {
  const m = new Array<number>(out * input).fill(0);
  for (let i = 0; i < out; i++) m[i * input + Math.min(Math.floor((i * input) / out), input - 1)] = 1;
  return m;
};

/** Bilinear with align_corners=False: source (i + ½)·in/out − ½, clamped at 0, between its two neighbours. */
export const linearWeights: Weights = (out, input) => {
  const m = new Array<number>(out * input).fill(0);
  for (let i = 0; i < out; i++) {
    const source = Math.max(((i + 0.5) * input) / out - 0.5, 0);
    const low = Math.min(Math.floor(source), input - 1);
    const high = Math.min(low + 1, input - 1);
    const frac = source - low;
    m[i * input + low] += 1 - frac;
    m[i * input + high] += frac;
  }
  return m;
};

/** x [N, C, H, W] → [N, C, oh, ow] through the weights of each axis. */
function resample<T>(b: Builder<T>, x: T, [outH, outW]: [number, number], weights: Weights, what: string): T {
  const [, , h, w] = b.shape(x);
  const height = b.constant(h, `${what} over an image`);
  const width = b.constant(w, `${what} over an image`);
  const rows = b.matrix(outH, height, weights(outH, height), x);
  const widthT = weights(outW, width);
  // M_wᵀ [W, ow]: the transpose of the [ow, W] weights.
  const cols = b.matrix(width, outW, Array.from({ length: width * outW }, (_, k) => widthT[(k % outW) * width + Math.floor(k / outW)]), x);
  return b.apply('matmul', [b.apply('matmul', [rows, x], {}), cols], {});
}

const imageRule = (name: string, out: (h: Dim, w: Dim) => [Dim, Dim]) => ([x]: readonly Shape[]): RuleResult => {
  if (x.length !== 4) return ruleError('NN2108', [name, 'a 4-D input [N, C, H, W]', { input: 0 }, formatShape(x)]);
  const [h, w] = out(x[2], x[3]);
  return { shape: [x[0], x[1], h, w] };
};

export const adaptiveAvgPool2dOp = defineOp({
  name: 'adaptive_avg_pool2d',
  surface: 'function',
  params: [tensor('x', { aliases: ['input'] }), size('size', { aliases: ['output_size'], min: 1, doc: 'the output\'s height and width' })],
  doc: { summary: 'Averages `[N, C, H, W]` over `size × size` windows that tile the image (PyTorch\'s adaptive windows): `[N, C, size, size]` for any H, W; `size = 1` is global average pooling.', gradient: 'dL/dx = each output\'s g spread evenly over its window' },
  shape: (shapes, { size: out }) => imageRule('adaptive_avg_pool2d', () => [out, out])(shapes),
  flops: (_inputs, output) => elementCount(output),
  ...compositeRules<{ size: Dim }>((b, [x], { size: out }) => resample(b, x, [sizeOf(out), sizeOf(out)], adaptiveWeights, 'adaptive_avg_pool2d')),
  pytorch: ([x], { size: out }) => `F.adaptive_avg_pool2d(${x}, ${out})`,
});

interface UpsampleAttrs {
  scale: number;
  mode: string;
}

export const upsampleOp = defineOp({
  name: 'upsample',
  surface: 'function',
  params: [
    tensor('x', { aliases: ['input'] }),
    int('scale', { default: 2, aliases: ['scale_factor'], min: 1, doc: 'the integer factor of the height and width' }),
    choice('mode', { default: 'nearest', choices: ['nearest', 'bilinear'], doc: '"nearest" copies pixels; "bilinear" interpolates (align_corners=False)' }),
  ],
  doc: { summary: 'Enlarges `[N, C, H, W]` to `[N, C, scale·H, scale·W]` by nearest-neighbour copies or bilinear interpolation (`F.interpolate`).', gradient: 'dL/dx = g summed back onto the input pixels each output drew from, by the same weights' },
  shape: (shapes, { scale }: UpsampleAttrs) => imageRule('upsample', (h, w) => [h.scale(scale), w.scale(scale)])(shapes),
  flops: (_inputs, output) => elementCount(output).scale(4),
  ...compositeRules<UpsampleAttrs>((b, [x], { scale, mode }) => {
    const [, , h, w] = b.shape(x);
    const what = `upsample (${mode})`;
    const out: [number, number] = [b.constant(h, `${what} over an image`) * scale, b.constant(w, `${what} over an image`) * scale];
    return resample(b, x, out, mode === 'bilinear' ? linearWeights : nearestWeights, what);
  }),
  pytorch: ([x], { scale, mode }) => `F.interpolate(${x}, scale_factor=${scale}, mode="${mode}"${mode === 'bilinear' ? ', align_corners=False' : ''})`,
});
