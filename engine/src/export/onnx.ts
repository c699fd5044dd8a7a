// Forward-only ONNX export of a checked model: weights baked in as initializers (from a
// .safetensors checkpoint or, without one, the seeded initial weights), the model's input
// by its name, one output named `output`, and the symbolic batch dim `B`.

import type { CheckResult, FnIR, ModelIR } from '../lang/api.js';
import { checkProgram, type CheckOptions } from '../lang/program.js';
import { lowerModel } from '../backend-ts/lower.js';
import { readSafetensors } from '../core/safetensors.js';
import { buildForward } from '../backend-onnx/graphs.js';
import { OnnxUnsupported } from '../onnx/unsupported.js';

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

/** The model to export: `name`, else the first `train` block's model, else the only model. */
export function pickModel(check: CheckResult, name?: string): ModelIR | { error: string } {
  const errors = check.diagnostics.filter((d) => d.severity === 'error');
  const chosen = name ?? check.trains[0]?.model ?? (check.irs.size === 1 ? [...check.irs.keys()][0] : undefined);
  if (chosen === undefined) {
    return { error: check.irs.size === 0 ? 'the file has no model that checks without errors' : `name the model to export (one of ${[...check.irs.keys()].join(', ')})` };
  }
  const model = check.irs.get(chosen);
  if (!model) {
    const why = errors.length > 0 ? `the file has errors: ${errors[0].code} ${errors[0].message}` : `there is no model \`${chosen}\``;
    return { error: `cannot export \`${chosen}\`: ${why}` };
  }
  return model;
}

/**
 * The ONNX bytes of a `.nn` file's model (the server's nn/exportOnnx and `nn export`):
 * with `weights` (by state_dict name) or, without, the seeded initial weights.
 */
export function exportOnnx(text: string, model?: string, weights?: ReadonlyMap<string, Float32Array>, imports: Pick<CheckOptions, 'files' | 'path'> = {}): { bytes: Uint8Array; model: string } | { error: string } {
  const check = checkProgram(text, imports);
  const ir = pickModel(check, model);
  if ('error' in ir) return ir;
  const seed = check.trains.find((t) => t.model === ir.name)?.seed ?? 0;
  const resolved = modelWeights(ir, check.fnIrs, seed, weights);
  if ('error' in resolved) return resolved;
  const bytes = exportModelOnnx(ir, check.fnIrs, resolved);
  return bytes instanceof Uint8Array ? { bytes, model: ir.name } : bytes;
}
