// What the commands over one .nn file (train, probe, gradcheck, export) share: parsing their
// options with --help and a usage line, the size-limit options, and reporting a run that failed.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { dataSources, type DataSources } from '../data/sources.js';
import { DEFAULT_SIZE_LIMITS, type SizeLimits } from '../run/limits.js';
import type { RunError } from '../run/prepare.js';
import { formatError } from '../run/console.js';

type Options = NonNullable<ParseArgsConfig['options']>;
const HELP = { type: 'boolean', short: 'h', default: false } as const;
type FileArgsConfig<O extends Options> = { args: string[]; allowPositionals: true; options: O & { help: typeof HELP } };
type FileArgsValues<O extends Options> = ReturnType<typeof parseArgs<FileArgsConfig<O>>>['values'];

/**
 * The options and the one FILE of a command, or the exit code when there is nothing to run:
 * 0 after printing `help` (the usage line unless given) for --help, 2 after printing the
 * usage for an unknown option or not exactly one FILE.
 */
export function parseFileArgs<O extends Options>(
  args: string[],
  usage: string,
  options: O,
  help = usage,
): { file: string; values: FileArgsValues<O> } | number {
  let parsed;
  try {
    parsed = parseArgs<FileArgsConfig<O>>({ args, allowPositionals: true, options: { ...options, help: HELP } });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${usage}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  // The values' type is only known for a concrete O; --help is always there.
  if ((values as { help: boolean }).help) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  if (positionals.length !== 1) {
    process.stderr.write(`${usage}\n`);
    return 2;
  }
  return { file: positionals[0], values };
}

/**
 * A positive-integer option (`--epochs 3`): undefined when absent, null after printing why
 * the value is not one (the command then exits 2).
 */
export function positiveIntOption(value: string | undefined, name: string): number | undefined | null {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (Number.isInteger(n) && n >= 1) return n;
  process.stderr.write(`${name} must be a positive integer, got ${value}\n`);
  return null;
}

/**
 * A thread-count option (`--threads 2`; 0 means every core): undefined when absent, null
 * after printing why the value is not a non-negative integer (the command then exits 2).
 */
export function threadsOption(value: string | undefined): number | undefined | null {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() !== '' && Number.isInteger(n) && n >= 0) return n;
  process.stderr.write(`--threads must be a non-negative integer (0: every core), got ${value}\n`);
  return null;
}

/** The options that change the size limits (`nn check`, `nn train`, `nn probe`), as in the editor's `nn.limits.*` settings. */
export const LIMIT_OPTIONS = {
  'max-parameters': { type: 'string' },
  'max-activation-bytes': { type: 'string' },
} as const;

/** The usage text of LIMIT_OPTIONS. */
export const LIMITS_USAGE = '[--max-parameters N] [--max-activation-bytes N]';

/**
 * The size limits the options ask for (each defaults to DEFAULT_SIZE_LIMITS), or null after
 * printing why a value is not a positive integer (the command then exits 2).
 */
export function sizeLimitsOption(values: { 'max-parameters'?: string; 'max-activation-bytes'?: string }): SizeLimits | null {
  const maxParameters = positiveIntOption(values['max-parameters'], '--max-parameters');
  const maxActivationBytes = positiveIntOption(values['max-activation-bytes'], '--max-activation-bytes');
  if (maxParameters === null || maxActivationBytes === null) return null;
  return {
    maxParameters: maxParameters ?? DEFAULT_SIZE_LIMITS.maxParameters,
    maxActivationBytes: maxActivationBytes ?? DEFAULT_SIZE_LIMITS.maxActivationBytes,
  };
}

/** The options that say where built-in data sets are cached and downloaded from, as the editor's `nn.dataCache` and `nn.dataMirror`. */
export const DATA_OPTIONS = {
  'data-cache': { type: 'string' },
  'data-mirror': { type: 'string' },
} as const;

/** The usage text of DATA_OPTIONS. */
export const DATA_USAGE = '[--data-cache DIR] [--data-mirror URL]';

/**
 * The data sources the options ask for, over the environment's (NN_DATA_CACHE, NN_DATA_MIRROR,
 * ...); null after printing why they cannot be used (the command then exits 2).
 */
export function dataSourcesOption(values: { 'data-cache'?: string; 'data-mirror'?: string }): DataSources | null {
  try {
    return dataSources({ cacheDir: values['data-cache'], mirror: values['data-mirror'] });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return null;
  }
}

/** Prints the errors that stopped a run, each at its location in `file`; returns exit code 1. */
export function reportRunErrors(file: string, text: string, errors: readonly RunError[]): number {
  for (const error of errors) process.stderr.write(formatError(file, text, error) + '\n');
  return 1;
}

/** Prints an exception that escaped a command (a bug, not a user mistake); returns exit code 70. */
export function reportInternalError(file: string, error: unknown): number {
  process.stderr.write(`${file}: internal error: ${(error as Error).message}\n`);
  return 70;
}
