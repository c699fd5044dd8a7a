// `nn export FILE [--model M] [--weights W.safetensors] [--format onnx|pytorch] [-o OUT]`:
// writes the model as a forward-only .onnx (weights as initializers, symbolic batch dim)
// or as a PyTorch module with a loader for NN Studio's .safetensors checkpoints.

import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { checkProgram } from '../lang/program.js';
import { exportOnnx, pickModel, readWeightsFile } from '../export/onnx.js';
import { exportPytorch } from '../export/pytorch.js';
import { readSource } from '../run/console.js';
import { parseFileArgs } from './command.js';

const USAGE = 'usage: nn export FILE [--model M] [--weights W.safetensors] [--format onnx|pytorch] [-o OUT]';

const HELP = [
  USAGE,
  '  --format onnx     a forward-only .onnx model, weights as initializers (default)',
  '  --format pytorch  a PyTorch nn.Module with a loader for .safetensors checkpoints',
  '  --weights W       weights by state_dict name (a checkpoint); the seeded initial weights otherwise',
].join('\n');

export async function run(args: string[]): Promise<number> {
  const parsed = parseFileArgs(
    args,
    USAGE,
    {
      model: { type: 'string' },
      weights: { type: 'string' },
      format: { type: 'string', default: 'onnx' },
      output: { type: 'string', short: 'o' },
    },
    HELP,
  );
  if (typeof parsed === 'number') return parsed;
  const { file, values } = parsed;
  if (!['onnx', 'pytorch'].includes(values.format)) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const text = readSource(file);
  if (text === null) return 2;

  if (values.format === 'pytorch') {
    const check = checkProgram(text);
    const model = pickModel(check, values.model);
    if ('error' in model) {
      process.stderr.write(`${file}: error: ${model.error}\n`);
      return 1;
    }
    const out = values.output ?? `${model.name}.py`;
    writeFileSync(out, exportPytorch(model, check.fnIrs, basename(file), check.trains.find((t) => t.model === model.name)));
    process.stdout.write(`wrote ${out} (PyTorch module ${model.name}; load weights with load_model("W.safetensors"))\n`);
    return 0;
  }

  let weights: Map<string, Float32Array> | undefined;
  if (values.weights) {
    const read = readWeightsFile(values.weights);
    if ('error' in read) {
      process.stderr.write(`${values.weights}: error: ${read.error}\n`);
      return 1;
    }
    weights = read;
  }
  const result = exportOnnx(text, values.model, weights);
  if ('error' in result) {
    process.stderr.write(`${file}: error: ${result.error}\n`);
    return 1;
  }
  const out = values.output ?? `${result.model}.onnx`;
  writeFileSync(out, result.bytes);
  const note = weights ? `weights from ${values.weights}` : 'initial weights (no --weights given)';
  process.stdout.write(`wrote ${out} (${result.model}, ${note}; input batch dim B)\n`);
  return 0;
}
