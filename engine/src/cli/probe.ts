// `nn probe FILE [--model M] [--weights W.safetensors] [--batches N] [--save G.safetensors]
// [--json] [--max-parameters N] [--max-activation-bytes N] [--data-cache DIR] [--data-mirror URL]`:
// (after downloading a built-in data set that is not on the machine yet) one forward + backward pass over the first N training batches in file order;
// prints the per-parameter gradient-flow table and the findings, or with --json an object
// with `loss`, `params`, `activations` and `findings`.

import { dirname, resolve } from 'node:path';
import { fetchTrainData } from '../run/prepare.js';
import { probe } from '../run/probe.js';
import { formatFinding, formatGradientTable, readSource } from '../run/console.js';
import { storedTensor, writeSafetensors } from '../core/safetensors.js';
import { DATA_OPTIONS, DATA_USAGE, LIMIT_OPTIONS, LIMITS_USAGE, dataSourcesOption, parseFileArgs, positiveIntOption, reportInternalError, reportRunErrors, sizeLimitsOption } from './command.js';
import { downloadReporter } from './downloadProgress.js';
import { opDef } from '../ops/registry.js';

const USAGE = `usage: nn probe FILE [--model M] [--weights W.safetensors] [--batches N] [--save G.safetensors] [--json] ${LIMITS_USAGE} ${DATA_USAGE}`;

export async function run(args: string[]): Promise<number> {
  const parsed = parseFileArgs(args, USAGE, {
    model: { type: 'string' },
    weights: { type: 'string' },
    batches: { type: 'string' },
    save: { type: 'string' },
    json: { type: 'boolean', default: false },
    ...LIMIT_OPTIONS,
    ...DATA_OPTIONS,
  });
  if (typeof parsed === 'number') return parsed;
  const { file, values } = parsed;
  const asked = positiveIntOption(values.batches, '--batches');
  const limits = sizeLimitsOption(values);
  const sources = dataSourcesOption(values);
  if (asked === null || limits === null || sources === null) return 2;
  const batches = asked ?? 1;
  const text = readSource(file);
  if (text === null) return 2;
  try {
    const options = { baseDir: dirname(resolve(file)), model: values.model, batches, weights: values.weights, limits, sources };
    const fetched = await fetchTrainData(text, { ...options, onDownload: downloadReporter((s) => process.stderr.write(s), process.stderr.isTTY === true && !values.json) });
    if ('errors' in fetched) return reportRunErrors(file, text, fetched.errors);
    const outcome = probe(text, { ...options, check: fetched.check });
    if ('errors' in outcome) return reportRunErrors(file, text, outcome.errors);
    if (values.save) {
      const tensors = new Map([...outcome.gradients].map(([name, g]) => [name, storedTensor(g.shape, g.data)]));
      writeSafetensors(values.save, { tensors, metadata: { kind: 'mean raw gradients', batches: String(batches) } });
    }
    if (values.json) {
      const { loss, params, activations, findings } = outcome;
      process.stdout.write(JSON.stringify({ loss, params, activations, findings }) + '\n');
    } else {
      process.stdout.write(`loss ${outcome.loss.toFixed(4)} (mean over ${batches} batch${batches === 1 ? '' : 'es'})\n`);
      process.stdout.write(formatGradientTable(outcome.params) + '\n');
      for (const a of outcome.activations) {
        const rectifier = opDef(a.op)?.activation?.kind === 'rectifier';
        const value = rectifier ? `${(a.deadFraction * 100).toFixed(1)}% dead` : `${(a.saturatedFraction * 100).toFixed(1)}% saturated`;
        process.stdout.write(`${a.layer} (${a.op}): ${value}\n`);
      }
      process.stdout.write(`findings: ${outcome.findings.length === 0 ? 'none' : outcome.findings.length}\n`);
      for (const f of outcome.findings) process.stdout.write(`  ${formatFinding(file, text, f)}\n`);
      if (values.save) process.stdout.write(`gradients saved to ${values.save}\n`);
    }
    return outcome.findings.some((f) => f.severity === 'error') ? 1 : 0;
  } catch (error) {
    return reportInternalError(file, error);
  }
}
