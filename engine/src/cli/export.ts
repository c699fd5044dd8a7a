// `nn export FILE [--model M] [--weights W.safetensors] [--format onnx|pytorch] [--train] [-o OUT]`:
// writes the model as a forward-only .onnx (weights as initializers, symbolic batch dim)
// or as a PyTorch module with a loader for NN Studio's .safetensors checkpoints; with --train,
// also train.py (export/trainScript.ts), its data and initial weights, beside the module.

import { writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { checkProgram } from '../lang/program.js';
import { sourceChecks } from '../data/sourceFiles.js';
import { exportOnnx, pickModel, readWeightsFile } from '../export/onnx.js';
import { exportPytorch } from '../export/pytorch.js';
import { INIT_WEIGHTS, TRAIN_DATA, TRAIN_SCRIPT, initialWeights, trainData, trainScript } from '../export/trainScript.js';
import { writeSafetensors } from '../core/safetensors.js';
import { fetchTrainData, prepare } from '../run/prepare.js';
import { loadWeights } from '../run/checkpoint.js';
import { readSource } from '../run/console.js';
import { DATA_OPTIONS, DATA_USAGE, dataSourcesOption, parseFileArgs, reportInternalError, reportRunErrors } from './command.js';
import { downloadReporter } from './downloadProgress.js';

const USAGE = `usage: nn export FILE [--model M] [--weights W.safetensors] [--format onnx|pytorch] [--train] [-o OUT] ${DATA_USAGE}`;

const HELP = [
  USAGE,
  '  --format onnx     a forward-only .onnx model, weights as initializers (default)',
  '  --format pytorch  a PyTorch nn.Module with a loader for .safetensors checkpoints',
  `  --train           with --format pytorch: also ${TRAIN_SCRIPT}, the train block in PyTorch (one process, or torchrun`,
  `                    with DistributedDataParallel), with ${TRAIN_DATA} and ${INIT_WEIGHTS} beside the module`,
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
      train: { type: 'boolean', default: false },
      output: { type: 'string', short: 'o' },
      ...DATA_OPTIONS,
    },
    HELP,
  );
  if (typeof parsed === 'number') return parsed;
  const { file, values } = parsed;
  if (!['onnx', 'pytorch'].includes(values.format) || (values.train && values.format !== 'pytorch')) {
    process.stderr.write(`${USAGE}\n${values.train ? '--train needs --format pytorch\n' : ''}`);
    return 2;
  }
  const text = readSource(file);
  if (text === null) return 2;

  if (values.train) return exportTraining(file, text, values);
  if (values.format === 'pytorch') {
    const check = checkProgram(text, sourceChecks(file));
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
  const result = exportOnnx(text, values.model, weights, sourceChecks(file));
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

/**
 * The module, train.py, its data and its initial weights (the block's seeded ones, or --weights)
 * for the `train` block of --model (the first block by default); the data set is loaded (and
 * downloaded first, when built in and not on the machine) as `nn train` loads it.
 */
async function exportTraining(file: string, text: string, values: { model?: string; weights?: string; output?: string; 'data-cache'?: string; 'data-mirror'?: string }): Promise<number> {
  const sources = dataSourcesOption(values);
  if (sources === null) return 2;
  try {
    const options = { baseDir: dirname(resolve(file)), file, model: values.model, sources };
    const fetched = await fetchTrainData(text, { ...options, onDownload: downloadReporter((s) => process.stderr.write(s), process.stderr.isTTY === true) });
    if ('errors' in fetched) return reportRunErrors(file, text, fetched.errors);
    const prepared = prepare(text, { ...options, check: fetched.check });
    if (Array.isArray(prepared)) return reportRunErrors(file, text, prepared);
    if (values.weights) {
      const problem = loadWeights(values.weights, prepared.lowered.params, prepared.lowered.buffers);
      if (problem) return reportRunErrors(file, text, [{ code: 'NN4005', message: `--weights ${values.weights}: ${problem.error}`, range: prepared.train.range }]);
    }
    const out = values.output ?? `${prepared.model.name}.py`;
    const folder = dirname(out);
    writeFileSync(out, exportPytorch(prepared.model, prepared.check.fnIrs, basename(file), prepared.train));
    writeFileSync(join(folder, TRAIN_SCRIPT), trainScript(prepared, basename(out), basename(file)));
    writeSafetensors(join(folder, TRAIN_DATA), trainData(prepared));
    writeSafetensors(join(folder, INIT_WEIGHTS), initialWeights(prepared));
    const script = join(folder, TRAIN_SCRIPT);
    process.stdout.write(`wrote ${out}, ${script}, ${join(folder, TRAIN_DATA)} and ${join(folder, INIT_WEIGHTS)} (run: python3 ${script}, or torchrun --nproc_per_node=N ${script})\n`);
    return 0;
  } catch (error) {
    return reportInternalError(file, error);
  }
}
