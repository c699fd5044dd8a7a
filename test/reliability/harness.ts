// Shared by the reliability tests: temporary workspaces, data files written byte by byte
// (.npy, IDX, CSV), the `nn` CLI run as a user runs it, and the checks that it did not crash.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(__dirname, '..', '..');
export const cliPath = join(repoRoot, 'dist', 'cli.js');

const created: string[] = [];
process.once('exit', () => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

/** A fresh folder under the system temp folder, removed when the test process exits. */
export function tempWorkspace(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `nn-${name}-`));
  created.push(dir);
  return dir;
}

/** A little-endian .npy file (format 1.0) holding `values` as float32 or int64. */
export function npyBytes(dtype: 'float32' | 'int64', shape: number[], values: number[]): Buffer {
  const descr = dtype === 'float32' ? '<f4' : '<i8';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const data = Buffer.alloc(values.length * (dtype === 'float32' ? 4 : 8));
  values.forEach((v, i) => (dtype === 'float32' ? data.writeFloatLE(v, i * 4) : data.writeBigInt64LE(BigInt(v), i * 8)));
  const prefix = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
  prefix.writeUInt16LE(header.length, 8);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), data]);
}

/** An IDX file of unsigned bytes with the given dims (big-endian header, like MNIST's). */
export function idxBytes(dims: number[], values: number[], magic = 0x0800 + dims.length): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(values)]);
}

export function writeFiles(dir: string, files: Record<string, string | Buffer>): void {
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** Runs `nn ARGS` in `cwd` with the built CLI. */
export function nn(args: string[], cwd: string, timeoutMs = 120_000): CliResult {
  const result = spawnSync(process.execPath, [cliPath, ...args], { cwd, encoding: 'utf8', timeout: timeoutMs });
  return { code: result.status, signal: result.signal, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

/** The CLI failed cleanly: exit 1 with a message, no signal, no stack trace or JS exception. */
export function assertCleanFailure(result: CliResult, what: string): void {
  assert.equal(result.signal, null, `${what}: killed by ${result.signal}\n${result.output}`);
  assert.equal(result.code, 1, `${what}: exit ${result.code}\n${result.output}`);
  assert.doesNotMatch(result.output, /^\s+at .+:\d+:\d+\)?$/m, `${what}: printed a stack trace\n${result.output}`);
  assert.doesNotMatch(result.output, /\b(TypeError|RangeError|ReferenceError|SyntaxError: Unexpected)\b/, `${what}: a JS exception\n${result.output}`);
}
