// The .safetensors format (what PyTorch's `safetensors.torch.save_file` writes): an 8-byte
// little-endian header length, a JSON header naming each tensor's dtype, shape and byte
// range, then the raw little-endian data. Files are written atomically.

import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export type StoredDtype = 'F32' | 'F64' | 'I64';
export type StoredData = Float32Array | Float64Array | BigInt64Array;

export interface StoredTensor {
  dtype: StoredDtype;
  shape: number[];
  data: StoredData;
}

export interface SafetensorsFile {
  tensors: Map<string, StoredTensor>;
  /** `__metadata__`: string keys to string values, as the format requires. */
  metadata: Record<string, string>;
}

const BYTES: Record<StoredDtype, number> = { F32: 4, F64: 8, I64: 8 };
/** Headers larger than this are refused as corrupt (the reference implementation uses 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

function dtypeOf(data: StoredData): StoredDtype {
  return data instanceof Float32Array ? 'F32' : data instanceof Float64Array ? 'F64' : 'I64';
}

export function storedTensor(shape: readonly number[], data: StoredData): StoredTensor {
  return { dtype: dtypeOf(data), shape: [...shape], data };
}

/** Serializes tensors (in sorted name order, as the reference writer does) and metadata. */
export function encodeSafetensors(file: SafetensorsFile): Buffer {
  const names = [...file.tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(file.metadata).length > 0) header.__metadata__ = file.metadata;
  let offset = 0;
  for (const name of names) {
    const t = file.tensors.get(name)!;
    const length = t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + length] };
    offset += length;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const jsonBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + jsonBytes.length + offset);
  out.writeBigUInt64LE(BigInt(jsonBytes.length), 0);
  jsonBytes.copy(out, 8);
  let at = 8 + jsonBytes.length;
  for (const name of names) {
    const t = file.tensors.get(name)!;
    Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).copy(out, at);
    at += t.data.byteLength;
  }
  return out;
}

/** Parses a file's bytes; a malformed file gives a message saying what is wrong. */
export function decodeSafetensors(bytes: Buffer): SafetensorsFile | { error: string } {
  if (bytes.length < 8) return { error: 'not a .safetensors file (shorter than its 8-byte header length)' };
  const headerLength = Number(bytes.readBigUInt64LE(0));
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > bytes.length) {
    return { error: `corrupt .safetensors file: header length ${headerLength} exceeds the file size ${bytes.length}` };
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'));
  } catch {
    return { error: 'corrupt .safetensors file: the header is not valid JSON' };
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return { error: 'corrupt .safetensors file: the header is not a JSON object' };
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, StoredTensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) if (typeof v === 'string') metadata[k] = v;
      continue;
    }
    const { dtype, shape, data_offsets: offsets } = (entry ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (dtype !== 'F32' && dtype !== 'F64' && dtype !== 'I64') return { error: `tensor '${name}': unsupported dtype ${JSON.stringify(dtype)} (F32, F64 and I64 are supported)` };
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) return { error: `tensor '${name}': malformed shape` };
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o))) return { error: `tensor '${name}': malformed data_offsets` };
    const [begin, end] = offsets as number[];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end - begin !== count * BYTES[dtype]) return { error: `tensor '${name}': data_offsets [${begin}, ${end}] do not hold shape [${shape.join(', ')}] of ${dtype}` };
    if (begin < 0 || end > dataLength) return { error: `corrupt .safetensors file: tensor '${name}' lies beyond the end of the file (truncated?)` };
    const raw = new Uint8Array(bytes.subarray(dataStart + begin, dataStart + end)).buffer;
    const data = dtype === 'F32' ? new Float32Array(raw) : dtype === 'F64' ? new Float64Array(raw) : new BigInt64Array(raw);
    tensors.set(name, { dtype, shape: shape as number[], data });
  }
  return { tensors, metadata };
}

export function readSafetensors(path: string): SafetensorsFile | { error: string } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { error: code === 'ENOENT' ? 'file not found' : `cannot read the file (${code})` };
  }
  return decodeSafetensors(bytes);
}

/**
 * Writes `bytes` to `path` atomically: a temporary file in the same folder, fsync, rename.
 * A crash leaves either the old file or the new one, never a torn one.
 */
export function writeFileAtomic(path: string, bytes: Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  removeStaleTemporaries(path);
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(temporary, 'w');
  try {
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(temporary);
    throw error;
  }
  closeSync(fd);
  renameSync(temporary, path);
}

/** Removes the temporaries of `path` that processes killed mid-write left behind. */
function removeStaleTemporaries(path: string): void {
  const prefix = `.${basename(path)}.`;
  for (const name of readdirSync(dirname(path))) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const pid = Number(name.slice(prefix.length, -'.tmp'.length));
    if (Number.isInteger(pid) && pid !== process.pid && !isRunning(pid)) rmSync(join(dirname(path), name), { force: true });
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function writeSafetensors(path: string, file: SafetensorsFile): void {
  writeFileAtomic(path, encodeSafetensors(file));
}
