// `nn summary FILE [--model NAME]`: a table per model like torchinfo — each layer and binding
// in source order with its output shape, its gradient shape and its parameters, then totals.

import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { fileChecks } from '../data/index.js';
import type { CheckResult, ModelSummary } from '../lang/api.js';
import { LineIndex } from '../lang/lines.js';
import { checkProgram } from '../lang/program.js';
import { formatText } from './check.js';

const USAGE = 'usage: nn summary FILE [--model NAME]';

interface Row {
  offset: number;
  name: string;
  shape: string;
  grad: string;
  params: string;
}

function rowsOf(result: CheckResult, model: string): Row[] {
  const rows: Row[] = [];
  for (const layer of result.layers) {
    if (layer.model !== model) continue;
    rows.push({
      offset: layer.callRanges[0]?.end ?? layer.range.end,
      name: `${layer.name} (${layer.ctor})`,
      shape: layer.outShape ?? '-',
      grad: layer.receivesGradient ? (layer.outShape ?? '-') : 'none',
      params: layer.paramCount.toLocaleString('en-US'),
    });
  }
  for (const binding of result.bindings) {
    if (binding.model !== model) continue;
    rows.push({ offset: binding.hintOffset + 0.5, name: binding.name, shape: binding.shape, grad: binding.gradShape ?? 'none', params: '' });
  }
  return rows.sort((a, b) => a.offset - b.offset);
}

function table(headers: string[], rows: string[][]): string[] {
  const widths = headers.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)));
  const line = (cells: string[]) => cells.map((c, k) => (k === cells.length - 1 ? c.padStart(widths[k]) : c.padEnd(widths[k]))).join('   ');
  const rule = '='.repeat(widths.reduce((a, b) => a + b, 0) + 3 * (widths.length - 1));
  return [rule, line(headers), rule, ...rows.map(line), rule];
}

export function formatSummary(result: CheckResult, model: ModelSummary): string {
  const rows = rowsOf(result, model.name).map((r) => [r.name.length > 48 ? `${r.name.slice(0, 45)}...` : r.name, r.shape, r.grad, r.params]);
  const ir = result.irs.get(model.name);
  const bytes = ir ? ir.params.reduce((sum, p) => sum + 4 * p.shape.reduce((a, b) => a * b, 1), 0) : null;
  const header = `${model.name}${model.hyperParams.length ? `[${model.hyperParams.join(', ')}]` : ''}(${model.inputs.map((i) => `${i.name}: ${i.shape}`).join(', ')}) -> ${model.output}`;
  return [
    header,
    ...table(['Layer / binding', 'Output shape', 'Gradient shape', 'Param #'], rows),
    `Total params: ${model.paramCount.toLocaleString('en-US')}`,
    `Forward FLOPs: ${model.flops}`,
    ...(bytes !== null ? [`Params size (MB): ${(bytes / 1e6).toFixed(2)}`] : []),
  ].join('\n');
}

export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { model: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
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
  const result = checkProgram(source, fileChecks(dirname(file)));
  const models = values.model === undefined ? result.models : result.models.filter((m) => m.name === values.model);
  if (models.length === 0) {
    console.error(values.model === undefined ? `nn summary: ${file} has no model` : `nn summary: no model \`${values.model}\` in ${file} (models: ${result.models.map((m) => m.name).join(', ') || 'none'})`);
    return 2;
  }
  console.log(models.map((m) => formatSummary(result, m)).join('\n\n'));
  const lines = new LineIndex(source);
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    console.log(`\n${errors.length} error(s); shapes after an error may be unknown (?):\n`);
    console.log(errors.map((d) => formatText(file, lines, d)).join('\n\n'));
    return 1;
  }
  return 0;
}
