// IDX files (the MNIST / Fashion-MNIST format), gzipped or not: a big-endian header (magic
// 0x0000, type byte, rank, one uint32 per dim) followed by the values.

import { gunzipSync, constants as zlibConstants } from 'node:zlib';
import { dataError, fileSize, isDataError, readFileBytes, readFilePrefix, type DataError } from './dataset.js';

export interface IdxHeader {
  shape: number[];
  typeCode: number;
  dataOffset: number;
}

export interface IdxArray {
  shape: number[];
  values: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

const TYPES: Record<number, { name: string; size: number }> = {
  0x08: { name: 'uint8', size: 1 },
  0x09: { name: 'int8', size: 1 },
  0x0b: { name: 'int16', size: 2 },
  0x0c: { name: 'int32', size: 4 },
  0x0d: { name: 'float32', size: 4 },
  0x0e: { name: 'float64', size: 8 },
};

function isGzip(bytes: Buffer): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Gunzips a whole file, or with `partial` as much as a prefix of it allows. */
function gunzip(bytes: Buffer, path: string, partial: boolean): Buffer | DataError {
  try {
    return gunzipSync(bytes, partial ? { finishFlush: zlibConstants.Z_SYNC_FLUSH } : {});
  } catch (error) {
    return dataError(path, `corrupt gzip data (${(error as Error).message})`);
  }
}

export function parseIdxHeader(bytes: Buffer, path: string): IdxHeader | DataError {
  if (bytes.length === 0) return dataError(path, 'empty file');
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    return dataError(path, `wrong IDX magic number 0x${bytes.subarray(0, 4).toString('hex')} (expected 0x0000 then type and rank)`);
  }
  const typeCode = bytes[2];
  if (!TYPES[typeCode]) return dataError(path, `unknown IDX value type 0x${typeCode.toString(16)}`);
  const rank = bytes[3];
  if (rank === 0) return dataError(path, 'IDX rank 0: no dimensions');
  const dataOffset = 4 + 4 * rank;
  if (bytes.length < dataOffset) return dataError(path, 'truncated IDX header');
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(bytes.readUInt32BE(4 + 4 * i));
  return { shape, typeCode, dataOffset };
}

/** Reads only the header (of a gzipped file: inflates only its first kilobyte). */
export function readIdxHeader(fullPath: string, path: string): IdxHeader | DataError {
  const prefix = readFilePrefix(fullPath, path, 1024);
  if (isDataError(prefix)) return prefix;
  if (isGzip(prefix)) {
    const plain = gunzip(prefix, path, true);
    return isDataError(plain) ? plain : parseIdxHeader(plain, path);
  }
  // An uncompressed file's size is checked against its header, so truncation shows here too.
  const header = parseIdxHeader(prefix, path);
  if (isDataError(header)) return header;
  const problem = truncation(header, (fileSize(fullPath) ?? 0) - header.dataOffset, path);
  return problem ?? header;
}

function truncation(header: IdxHeader, available: number, path: string): DataError | null {
  const type = TYPES[header.typeCode];
  const needed = header.shape.reduce((a, b) => a * b, 1) * type.size;
  if (available >= needed) return null;
  return dataError(path, `truncated data: shape [${header.shape.join(', ')}] of ${type.name} needs ${needed} bytes, the file has ${available}`);
}

export function readIdx(fullPath: string, path: string): IdxArray | DataError {
  const file = readFileBytes(fullPath, path);
  if (isDataError(file)) return file;
  const bytes = isGzip(file) ? gunzip(file, path, false) : file;
  if (isDataError(bytes)) return bytes;
  const header = parseIdxHeader(bytes, path);
  if (isDataError(header)) return header;
  const problem = truncation(header, bytes.length - header.dataOffset, path);
  if (problem) return problem;
  const count = header.shape.reduce((a, b) => a * b, 1);
  return { shape: header.shape, values: decode(header.typeCode, bytes, header.dataOffset, count) };
}

/** IDX values are big-endian, so wider types go through a DataView. */
function decode(typeCode: number, bytes: Buffer, offset: number, count: number): IdxArray['values'] {
  if (typeCode === 0x08) return new Uint8Array(bytes.subarray(offset, offset + count));
  if (typeCode === 0x09) return new Int8Array(new Uint8Array(bytes.subarray(offset, offset + count)).buffer);
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset);
  const size = TYPES[typeCode].size;
  const out =
    typeCode === 0x0b ? new Int16Array(count) : typeCode === 0x0c ? new Int32Array(count) : typeCode === 0x0d ? new Float32Array(count) : new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const at = i * size;
    out[i] =
      typeCode === 0x0b ? view.getInt16(at) : typeCode === 0x0c ? view.getInt32(at) : typeCode === 0x0d ? view.getFloat32(at) : view.getFloat64(at);
  }
  return out;
}
