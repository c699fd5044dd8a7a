// `nn summary FILE [--model NAME] [--batch N]`: a table per model like torchinfo's — each
// applied layer, op and block with its output and gradient shapes, parameters and
// mult-adds, then totals and, at a batch size, the input, pass and total sizes in MB.

import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { fileChecks } from '../data/index.js';
import { sourceChecks } from '../data/sourceFiles.js';
import type { CheckResult, ModelSummary } from '../lang/api.js';
import { LineIndex } from '../lang/lines.js';
import { checkProgram } from '../lang/program.js';
import { atBatch, formatMegabytes, formatQuantity } from '../lang/quantity.js';
import { checkpointedPassBytes, rowShape, summarizeModel, type SummaryRow } from '../lang/summary.js';
import type { Dim } from '../shape/dim.js';
import { formatText } from './check.js';

const USAGE = 'usage: nn summary FILE [--model NAME] [--batch N]';

function table(headers: string[], rows: string[][]): string[] {
  const widths = headers.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)));
  const line = (cells: string[]) => cells.map((c, k) => (k >= 3 ? c.padStart(widths[k]) : c.padEnd(widths[k]))).join('   ').trimEnd();
  const rule = '='.repeat(widths.reduce((a, b) => a + b, 0) + 3 * (widths.length - 1));
  return [rule, line(headers), rule, ...rows.map(line), rule];
}

/** torchinfo's first column: the tree, the type, the layer's name, the depth-index. */
function rowLabel(row: SummaryRow): string {
  const tree = row.depth === 1 ? '├─' : `${'│    '.repeat(row.depth - 1)}└─`;
  const name = row.name === null ? '' : ` (${row.name.split('.').pop()})`;
  return `${tree}${row.type}${name}: ${row.depth}-${row.index}`;
}

function rowCells(row: SummaryRow): string[] {
  const gradient = row.output === null ? '--' : row.receivesGradient ? rowShape(row) : 'none';
  const params = row.params === null ? '--' : row.recursive ? '(recursive)' : `${row.params.toLocaleString('en-US')}${row.frozen ? ' frozen' : ''}`;
  const multAdds = row.multAdds === null || row.kind === 'block' || row.multAdds.equals(0) ? '--' : formatQuantity(row.multAdds);
  return [rowLabel(row), rowShape(row), gradient, params, multAdds];
}

/** A size line in MB when every dim is known, else in bytes, symbolic (`Input size (bytes): 512·T`). */
function sizeLine(label: string, bytes: Dim): string {
  return `${label} (${bytes.constant() === null ? 'bytes' : 'MB'}): ${sizeValue(bytes)}`;
}

/** A size in MB when it is known, else its formula in bytes. */
function sizeValue(bytes: Dim): string {
  const known = bytes.constant();
  return known === null ? formatQuantity(bytes) : formatMegabytes(known);
}

/** Why parameters do not train: frozen by the `train` block, or out of the gradient's reach. */
function untrainedNote(untrained: number, frozen: number): string {
  if (untrained === 0) return '';
  if (frozen === untrained) return ' (frozen by the train block)';
  return frozen > 0 ? ` (${frozen.toLocaleString('en-US')} frozen by the train block, the others out of the gradient's reach)` : ' (no gradient reaches them)';
}

/**
 * Why a model has no table: a model with hyper-parameters has its rows in the tables of the
 * models that use it as a block (where its hyper-parameters have values); else it has errors.
 */
function noTableReason(result: CheckResult, model: ModelSummary): string {
  if (model.hyperParams.length === 0) return '(no table: the model has errors)';
  const users = result.models.filter((m) => summarizeModel(result, m.name)?.rows.some((r) => r.kind === 'block' && r.type === model.name));
  const tables = users.length > 0 ? `; its rows are in the table of ${users.map((m) => m.name).join(', ')}` : '';
  return `(no table of its own: ${model.hyperParams.join(', ')} ${model.hyperParams.length === 1 ? 'is' : 'are'} known only where a model uses it as a block${tables})`;
}

export function formatSummary(result: CheckResult, model: ModelSummary, batch: number | null): string {
  const header = `${model.name}${model.hyperParams.length ? `[${model.hyperParams.join(', ')}]` : ''}(${model.inputs.map((i) => `${i.name}: ${i.shape}`).join(', ')}) -> ${model.output}`;
  const summary = summarizeModel(result, model.name);
  if (summary === null) return `${header}\n${noTableReason(result, model)}`;
  const at = batch !== null && summary.batchDim !== null ? ` at ${summary.batchDim} = ${batch}` : '';
  const bound = (count: Dim) => (at ? atBatch(count, summary.batchDim!, batch!) : count);
  const multAdds = `Total mult-adds: ${formatQuantity(bound(summary.multAdds))}${at}${at ? ` (${formatQuantity(summary.multAdds)})` : ''}`;
  const total = bound(summary.inputBytes).add(bound(summary.passBytes)).add(summary.paramBytes + summary.bufferBytes);
  const sizes = at
    ? [
      sizeLine('Input size', bound(summary.inputBytes)),
      `${sizeLine('Forward/backward pass size', bound(summary.passBytes))}${summary.checkpointing ? ` (${sizeValue(checkpointedPassBytes(summary.checkpointing, bound))} with checkpointing)` : ''}`,
      `Params size (MB): ${formatMegabytes(summary.paramBytes)}`,
      ...(summary.buffers > 0 ? [`Buffers size (MB): ${formatMegabytes(summary.bufferBytes)}`] : []),
      sizeLine('Estimated Total Size', total),
    ]
    : [`Params size (MB): ${formatMegabytes(summary.paramBytes)}`, 'Sizes at a batch size: nn summary --batch N'];
  const rule = (lines: string[]) => '='.repeat(lines[0].length);
  const body = table([`Layer (type (name): depth-idx)`, 'Output shape', 'Gradient shape', 'Param #', 'Mult-adds'], [
    [model.name, model.output, '--', '--', '--'],
    ...summary.rows.map(rowCells),
  ]);
  return [
    header,
    ...body,
    `Total params: ${summary.params.toLocaleString('en-US')}`,
    `Trainable params: ${(summary.params - summary.untrainedParams).toLocaleString('en-US')}`,
    `Non-trainable params: ${summary.untrainedParams.toLocaleString('en-US')}${untrainedNote(summary.untrainedParams, summary.frozenParams)}`,
    `Buffers: ${summary.buffers.toLocaleString('en-US')}`,
    multAdds,
    rule(body),
    ...sizes,
    rule(body),
  ].join('\n');
}

export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { model: { type: 'string' }, batch: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (error) {
    console.error(`nn summary: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    console.error(USAGE);
    return 2;
  }
  const file = positionals[0];
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    console.error(`nn summary: cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
  const batchOption = values.batch === undefined ? null : Number(values.batch);
  if (batchOption !== null && !(Number.isInteger(batchOption) && batchOption >= 1)) {
    console.error(`nn summary: --batch must be a positive integer, got \`${values.batch}\`\n${USAGE}`);
    return 2;
  }
  const result = checkProgram(source, { ...fileChecks(dirname(file)), ...sourceChecks(file) });
  const models = values.model === undefined ? result.models : result.models.filter((m) => m.name === values.model);
  if (models.length === 0) {
    console.error(values.model === undefined ? `nn summary: ${file} has no model` : `nn summary: no model \`${values.model}\` in ${file} (models: ${result.models.map((m) => m.name).join(', ') || 'none'})`);
    return 2;
  }
  console.log(models.map((m) => formatSummary(result, m, batchOption ?? result.trains.find((t) => t.model === m.name)?.batch ?? null)).join('\n\n'));
  const lines = new LineIndex(source);
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    console.log(`\n${errors.length} error(s); shapes after an error may be unknown (?):\n`);
    console.log(errors.map((d) => formatText(file, lines, d)).join('\n\n'));
    return 1;
  }
  return 0;
}
