// `nn gradcheck FILE [--fn NAME]`: compares each `fn`'s `grad` block with central finite
// differences in float64 and prints the worst absolute and relative error per input.

import { gradcheckProgram } from '../run/gradcheck.js';
import { checkProgram } from '../lang/program.js';
import { sourceChecks } from '../data/sourceFiles.js';
import { formatGradcheck, readSource } from '../run/console.js';
import { parseFileArgs, reportInternalError, reportRunErrors } from './command.js';

const USAGE = 'usage: nn gradcheck FILE [--fn NAME] [--json]';

export async function run(args: string[]): Promise<number> {
  const parsed = parseFileArgs(args, USAGE, { fn: { type: 'string' }, json: { type: 'boolean', default: false } });
  if (typeof parsed === 'number') return parsed;
  const { file, values } = parsed;
  const text = readSource(file);
  if (text === null) return 2;
  try {
    const outcome = gradcheckProgram(text, { only: values.fn, check: checkProgram(text, sourceChecks(file)) });
    if ('errors' in outcome) return reportRunErrors(file, text, outcome.errors);
    if ('unknownFn' in outcome) {
      process.stderr.write(`nn gradcheck: --fn ${outcome.unknownFn}: ${file} has no fn \`${outcome.unknownFn}\` with a grad block (fns with one: ${outcome.withGrad.join(', ') || 'none'})\n${USAGE}\n`);
      return 2;
    }
    process.stdout.write((values.json ? JSON.stringify({ fns: outcome.fns }) : formatGradcheck(outcome.fns)) + '\n');
    return outcome.fns.every((f) => f.ok) ? 0 : 1;
  } catch (error) {
    return reportInternalError(file, error);
  }
}
