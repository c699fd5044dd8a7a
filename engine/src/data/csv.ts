// CSV data files, parsed by csv-parse: a header line naming the columns, one sample per line,
// numbers only (quoted or not); the delimiter is the one of `,` `;` tab `|` that the header
// line uses most, and a UTF-8 byte-order mark is skipped. The label column (named in the
// `train` block, `label` by default) is the target, the rest are the features in header order.

import { CsvError, parse } from 'csv-parse/sync';
import { dataError, isDataError, readFileBytes, type DataError } from './dataset.js';

export interface CsvTable {
  featureNames: string[];
  rows: number;
  /** rows × features, row-major. */
  features: Float32Array;
  labels: Float64Array;
}

const DELIMITERS = [',', ';', '\t', '|'];

/** The delimiter the header line uses most, outside quotes (`,` when it has none: one column). */
export function sniffDelimiter(text: string): string {
  const header = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  const unquoted = header.replace(/"(?:[^"]|"")*"/g, '');
  let best = ',';
  let bestCount = 0;
  for (const d of DELIMITERS) {
    const count = unquoted.split(d).length - 1;
    if (count > bestCount) [best, bestCount] = [d, count];
  }
  return best;
}

type Row = { record: string[]; info: { lines: number } };

export function parseCsv(text: string, path: string, labelColumn: string): CsvTable | DataError {
  let rows: Row[];
  try {
    rows = parse(text, { bom: true, delimiter: sniffDelimiter(text), trim: true, skip_empty_lines: true, relax_column_count: true, info: true }) as unknown as Row[];
  } catch (error) {
    return dataError(path, error instanceof CsvError ? `not valid CSV: ${error.message}` : String(error));
  }
  if (rows.length === 0) return dataError(path, 'empty file');
  const columns = rows[0].record;
  const labelAt = columns.indexOf(labelColumn);
  if (labelAt < 0) return dataError(path, `no column '${labelColumn}' in the header line (columns: ${columns.join(', ')})`);
  if (rows.length === 1) return dataError(path, 'no data rows after the header line');
  const featureNames = columns.filter((_, i) => i !== labelAt);
  const count = rows.length - 1;
  const features = new Float32Array(count * featureNames.length);
  const labels = new Float64Array(count);
  for (let r = 0; r < count; r++) {
    const { record: cells, info } = rows[r + 1];
    const lineNumber = info.lines;
    if (cells.length !== columns.length) {
      return dataError(path, `line ${lineNumber} has ${cells.length} cells, the header has ${columns.length}`);
    }
    let f = 0;
    for (let c = 0; c < cells.length; c++) {
      const value = cells[c] === '' ? NaN : Number(cells[c]);
      if (!Number.isFinite(value)) {
        return dataError(path, `line ${lineNumber}, column '${columns[c]}': '${cells[c]}' is not a number`);
      }
      if (c === labelAt) labels[r] = value;
      else features[r * featureNames.length + f++] = value;
    }
  }
  return { featureNames, rows: count, features, labels };
}

export function readCsv(fullPath: string, path: string, labelColumn: string): CsvTable | DataError {
  const bytes = readFileBytes(fullPath, path);
  if (isDataError(bytes)) return bytes;
  return parseCsv(bytes.toString('utf8'), path, labelColumn);
}
