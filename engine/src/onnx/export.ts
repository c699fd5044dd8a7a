// Forward-only ONNX export of a checked model: weights baked in as initializers (from a
// .safetensors checkpoint or, without one, the seeded initial weights), the model's input
// by its name, one output named `output`, and the symbolic batch dim `B`.

import type { FnIR, ModelIR } from '../lang/api.js';
import { lowerModel } from '../train/lower.js';
import { readSafetensors } from '../train/safetensors.js';
import { buildForward } from './graphs.js';
import { OnnxUnsupported } from './unsupported.js';

/** Every parameter and buffer of `model` by name: from `weights` where given, else initialized with `seed`. */
export function modelWeights(model: ModelIR, fns: ReadonlyMap<string, FnIR>, seed: number, weights?: ReadonlyMap<string, Float32Array>): Map<string, Float32Array> | { error: string } {
  const out = new Map<string, Float32Array>();
  const lowered = weights ? null : lowerModel(model, fns, seed, () => 1);
  for (const { name, shape } of [...model.params, ...model.buffers]) {
    const size = shape.reduce((a, n) => a * n, 1);
    const given = weights ? weights.get(name) : lowered?.params.find((p) => p.name === name)?.tensor.values ?? lowered?.buffers.find((b) => b.name === name)?.tensor.values;
    if (!given) return { error: `the weights have no tensor '${name}'` };
    if (given.length !== size) return { error: `'${name}' has ${given.length} values in the weights, the model needs [${shape.join(', ')}] (${size})` };
    out.set(name, Float32Array.from(given));
  }
  return out;
}

/** The float tensors of a .safetensors file by name (F64 narrowed to float32). */
export function readWeightsFile(path: string): Map<string, Float32Array> | { error: string } {
  const file = readSafetensors(path);
  if ('error' in file) return file;
  const out = new Map<string, Float32Array>();
  for (const [name, t] of file.tensors) {
    if (t.dtype !== 'I64') out.set(name, t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as Float64Array));
  }
  return out;
}

/** The exported model's bytes, or why the model cannot be exported. */
export function exportModelOnnx(model: ModelIR, fns: ReadonlyMap<string, FnIR>, weights: ReadonlyMap<string, Float32Array>): Uint8Array | { error: string } {
  try {
    return buildForward(model, fns, weights).bytes;
  } catch (error) {
    if (error instanceof OnnxUnsupported) return { error: `cannot export \`${model.name}\` to ONNX: ${error.message}` };
    throw error;
  }
}
