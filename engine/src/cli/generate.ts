// `nn generate FILE --weights W.safetensors --prompt TEXT [--tokens N] [--temperature T]
// [--seed S] [--model M]`: prints the prompt and N characters sampled from a model trained
// on `text(...)` data (train/generate.ts).

import { dirname, resolve } from 'node:path';
import { generate } from '../run/generate.js';
import { readSource } from '../run/console.js';
import { parseFileArgs, positiveIntOption, reportInternalError, reportRunErrors } from './command.js';

const USAGE = 'usage: nn generate FILE --weights W.safetensors --prompt TEXT [--tokens N] [--temperature T] [--seed S] [--model M]';

export async function run(args: string[]): Promise<number> {
  const parsed = parseFileArgs(args, USAGE, {
    weights: { type: 'string' },
    prompt: { type: 'string' },
    tokens: { type: 'string' },
    temperature: { type: 'string' },
    seed: { type: 'string' },
    model: { type: 'string' },
  });
  if (typeof parsed === 'number') return parsed;
  const { file, values } = parsed;
  if (values.weights === undefined || values.prompt === undefined) {
    process.stderr.write(`--weights and --prompt are required\n${USAGE}\n`);
    return 2;
  }
  const tokens = positiveIntOption(values.tokens, '--tokens');
  const temperature = values.temperature === undefined ? 1 : Number(values.temperature);
  const seed = values.seed === undefined ? 0 : Number(values.seed);
  if (tokens === null) return 2;
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    process.stderr.write(`--temperature must be a positive number, got ${values.temperature}\n`);
    return 2;
  }
  if (!Number.isInteger(seed) || seed < 0) {
    process.stderr.write(`--seed must be a non-negative integer, got ${values.seed}\n`);
    return 2;
  }
  const text = readSource(file);
  if (text === null) return 2;
  try {
    const outcome = generate(text, { baseDir: dirname(resolve(file)), model: values.model, weights: values.weights, prompt: values.prompt, tokens: tokens ?? 200, temperature, seed });
    if ('errors' in outcome) return reportRunErrors(file, text, outcome.errors);
    process.stdout.write(`${values.prompt}${outcome.text}\n`);
    return 0;
  } catch (error) {
    return reportInternalError(file, error);
  }
}
