// `nn train FILE [--model M] [--epochs N] [--backend ts|onnx|auto] [--threads N] [--init W.safetensors]
// [--resume DIR] [--json] [--max-parameters N] [--max-activation-bytes N] [--data-cache DIR]
// [--data-mirror URL]`: trains the model of a `train` block (downloading a built-in data set
// first when it is not on the machine), with a progress bar on a terminal or one JSON object
// per event with --json. Ctrl-C stops after the current step
// and saves a checkpoint; a second Ctrl-C quits at once.

import { dirname, resolve } from 'node:path';
import { checkProgram } from '../lang/program.js';
import { fileChecks } from '../data/index.js';
import { sourceChecks } from '../data/sourceFiles.js';
import { train } from '../run/loop.js';
import { ProgressBar, formatDiagnostic, formatEpoch, formatFinding, formatSummary, readSource } from '../run/console.js';
import type { RunEvent } from '../core/events.js';
import { DATA_OPTIONS, DATA_USAGE, LIMIT_OPTIONS, LIMITS_USAGE, dataSourcesOption, parseFileArgs, positiveIntOption, reportInternalError, reportRunErrors, sizeLimitsOption, threadsOption } from './command.js';
import { downloadReporter } from './downloadProgress.js';

const USAGE = `usage: nn train FILE [--model M] [--epochs N] [--backend ts|onnx|auto] [--threads N] [--init W.safetensors] [--resume DIR] [--json] ${LIMITS_USAGE} ${DATA_USAGE}`;

export async function run(args: string[]): Promise<number> {
  const parsed = parseFileArgs(args, USAGE, {
    model: { type: 'string' },
    epochs: { type: 'string' },
    backend: { type: 'string' },
    threads: { type: 'string' },
    init: { type: 'string' },
    resume: { type: 'string' },
    json: { type: 'boolean', default: false },
    ...LIMIT_OPTIONS,
    ...DATA_OPTIONS,
  });
  if (typeof parsed === 'number') return parsed;
  const { file, values } = parsed;
  const epochs = positiveIntOption(values.epochs, '--epochs');
  const limits = sizeLimitsOption(values);
  const sources = dataSourcesOption(values);
  const threads = threadsOption(values.threads);
  if (epochs === null || limits === null || sources === null || threads === null) return 2;
  const backend = values.backend;
  if (backend !== undefined && backend !== 'ts' && backend !== 'onnx' && backend !== 'auto') {
    process.stderr.write(`--backend must be ts, onnx or auto, got ${backend}\n`);
    return 2;
  }
  const text = readSource(file);
  if (text === null) return 2;

  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\nstopping after the current step (Ctrl-C again to quit at once)...\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);

  const json = values.json === true;
  const bar = process.stderr.isTTY && !json ? new ProgressBar((s) => process.stderr.write(s)) : null;
  let totalEpochs = epochs ?? 1;
  const onEvent = (event: RunEvent): void => {
    if (json) {
      process.stdout.write(JSON.stringify(event) + '\n');
      return;
    }
    bar?.update(event);
    if (event.type === 'start') {
      totalEpochs = event.epochs;
      const resumed = event.resumedFrom !== undefined ? `, resumed from step ${event.resumedFrom}` : '';
      process.stdout.write(`training ${event.model} (${event.params} parameters, ${event.stepsPerEpoch} steps per epoch, backend ${event.backend}${event.threads ? ` on ${event.threads} thread${event.threads === 1 ? '' : 's'}` : ''}${resumed})\n`);
      if (event.note) process.stdout.write(`note: ${event.note}\n`);
    } else if (event.type === 'epoch') {
      process.stdout.write(formatEpoch(event, totalEpochs) + '\n');
    } else if (event.type === 'finding') {
      if (bar) process.stderr.write('\n');
      process.stdout.write(formatFinding(file, text, event.finding) + '\n');
    }
  };

  const baseDir = dirname(resolve(file));
  try {
    const check = checkProgram(text, { ...fileChecks(baseDir, { sources }), ...sourceChecks(file) });
    // Errors stop the run below; warnings and notes are shown before it starts.
    if (!json) for (const d of check.diagnostics) if (d.severity !== 'error') process.stdout.write(formatDiagnostic(file, text, d) + '\n');
    const outcome = await train(
      text,
      {
        baseDir,
        check,
        model: values.model,
        epochs,
        init: values.init,
        backend,
        threads,
        resume: values.resume,
        limits,
        sources,
        onDownload: downloadReporter((s) => process.stderr.write(s), process.stderr.isTTY === true && !json),
        signal: controller.signal,
      },
      onEvent,
    );
    if ('errors' in outcome) return reportRunErrors(file, text, outcome.errors);
    if (!json) process.stdout.write(formatSummary(file, text, outcome.end) + '\n');
    return outcome.end.reason === 'nan' ? 1 : 0;
  } catch (error) {
    return reportInternalError(file, error);
  } finally {
    process.off('SIGINT', onSigint);
  }
}
