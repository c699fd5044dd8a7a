// `nn gradcheck FILE [--fn NAME]`: compares each `fn`'s `grad` block with central finite
// differences in float64 and prints the worst absolute and relative error per input.

import { parseArgs } from 'node:util';
import { gradcheckProgram } from '../train/gradcheck.js';
import { formatError, formatGradcheck, readSource } from '../train/console.js';

const USAGE = 'usage: nn gradcheck FILE [--fn NAME] [--json]';

export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { help: { type: 'boolean', short: 'h', default: false }, fn: { type: 'string' }, json: { type: 'boolean', default: false } } });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const file = positionals[0];
  const text = readSource(file);
  if (text === null) return 2;
  try {
    const outcome = gradcheckProgram(text, { only: values.fn });
    if ('errors' in outcome) {
      for (const error of outcome.errors) process.stderr.write(formatError(file, text, error) + '\n');
      return 1;
    }
    process.stdout.write((values.json ? JSON.stringify({ fns: outcome.fns }) : formatGradcheck(outcome.fns)) + '\n');
    return outcome.fns.every((f) => f.ok) ? 0 : 1;
  } catch (error) {
    process.stderr.write(`${file}: internal error: ${(error as Error).message}\n`);
    return 70;
  }
}
