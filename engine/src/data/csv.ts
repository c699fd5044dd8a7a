// CSV data files: a header line naming the columns, one sample per line, numbers only; the
// label column (named in the `train` block, `label` by default) is the target, the rest are
// the features in header order.

import { dataError, isDataError, readFileBytes, type DataError } from './dataset.js';

export interface CsvTable {
  featureNames: string[];
  rows: number;
  /** rows × features, row-major. */
  features: Float32Array;
  labels: Float64Array;
}

export function parseCsv(text: string, path: string, labelColumn: string): CsvTable | DataError {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  if (lines.length === 0) return dataError(path, 'empty file');
  const columns = splitLine(lines[0]);
  const labelAt = columns.indexOf(labelColumn);
  if (labelAt < 0) return dataError(path, `no column '${labelColumn}' in the header line (columns: ${columns.join(', ')})`);
  if (lines.length === 1) return dataError(path, 'no data rows after the header line');
  const featureNames = columns.filter((_, i) => i !== labelAt);
  const rows = lines.length - 1;
  const features = new Float32Array(rows * featureNames.length);
  const labels = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const cells = splitLine(lines[r + 1]);
    const lineNumber = r + 2;
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
  return { featureNames, rows, features, labels };
}

export function readCsv(fullPath: string, path: string, labelColumn: string): CsvTable | DataError {
  const bytes = readFileBytes(fullPath, path);
  if (isDataError(bytes)) return bytes;
  return parseCsv(bytes.toString('utf8'), path, labelColumn);
}

function splitLine(line: string): string[] {
  return line.split(',').map((cell) => cell.trim().replace(/^"(.*)"$/, '$1'));
}
