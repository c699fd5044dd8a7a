// NumPy `.npy` files (format versions 1, 2 and 3): the header alone for the checker, or the
// whole array. Little-endian float32, float64, int64, int32 and uint8 in C order.

import { dataError, fileSize, isDataError, readFileBytes, readFilePrefix, type DataError } from './dataset.js';

export type NpyDtype = 'float32' | 'float64' | 'int64' | 'int32' | 'uint8';

export interface NpyHeader {
  dtype: NpyDtype;
  shape: number[];
  /** Byte offset where the data starts. */
  dataOffset: number;
}

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  values: Float32Array | Float64Array | Int32Array | Uint8Array;
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
const DESCR: Record<string, NpyDtype> = { '<f4': 'float32', '<f8': 'float64', '<i8': 'int64', '<i4': 'int32', '|u1': 'uint8', '<u1': 'uint8' };
const ITEM_SIZE: Record<NpyDtype, number> = { float32: 4, float64: 8, int64: 8, int32: 4, uint8: 1 };

/** Parses the header at the start of `bytes` (which may hold only a prefix of the file). */
export function parseNpyHeader(bytes: Buffer, path: string): NpyHeader | DataError {
  if (bytes.length === 0) return dataError(path, 'empty file');
  if (bytes.length < 10 || !bytes.subarray(0, 6).equals(MAGIC)) return dataError(path, 'not a .npy file (the magic string \\x93NUMPY is missing)');
  const major = bytes[6];
  if (major < 1 || major > 3) return dataError(path, `unsupported .npy format version ${major}.${bytes[7]}`);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) return dataError(path, 'truncated header');
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const dataOffset = 8 + lengthBytes + headerLength;
  if (bytes.length < dataOffset) return dataError(path, `truncated header (${headerLength} bytes announced)`);
  const header = bytes.subarray(8 + lengthBytes, dataOffset).toString(major === 3 ? 'utf8' : 'latin1');

  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    return dataError(path, `malformed header ${JSON.stringify(header.trim())}`);
  }
  const known = DESCR[descr];
  if (!known) {
    const hint = descr.startsWith('>') ? ' (big-endian data is not supported)' : '';
    return dataError(path, `unsupported dtype '${descr}'${hint}; use float32, float64, int64, int32 or uint8`);
  }
  if (fortran === 'True') return dataError(path, 'Fortran-ordered arrays are not supported; save with np.ascontiguousarray');
  const shape: number[] = [];
  for (const part of shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const dim = Number(part.replace(/L$/, ''));
    if (!Number.isInteger(dim) || dim < 0) return dataError(path, `malformed shape (${shapeText})`);
    shape.push(dim);
  }
  return { dtype: known, shape, dataOffset };
}

/**
 * Reads only the header (the first 64 KiB suffice for any header NumPy writes) and checks
 * the file size against it, so a truncated file is found without reading the data.
 */
export function readNpyHeader(fullPath: string, path: string): NpyHeader | DataError {
  const prefix = readFilePrefix(fullPath, path, 65536);
  if (isDataError(prefix)) return prefix;
  const header = parseNpyHeader(prefix, path);
  if (isDataError(header)) return header;
  const problem = truncation(header, (fileSize(fullPath) ?? 0) - header.dataOffset, path);
  return problem ?? header;
}

function truncation(header: NpyHeader, available: number, path: string): DataError | null {
  const needed = header.shape.reduce((a, b) => a * b, 1) * ITEM_SIZE[header.dtype];
  if (available >= needed) return null;
  return dataError(path, `truncated data: shape (${header.shape.join(', ')}) needs ${needed} bytes, the file has ${available}`);
}

export function readNpy(fullPath: string, path: string): NpyArray | DataError {
  const bytes = readFileBytes(fullPath, path);
  if (isDataError(bytes)) return bytes;
  const header = parseNpyHeader(bytes, path);
  if (isDataError(header)) return header;
  const problem = truncation(header, bytes.length - header.dataOffset, path);
  if (problem) return problem;
  const count = header.shape.reduce((a, b) => a * b, 1);
  const size = ITEM_SIZE[header.dtype];
  // Copy into a fresh, aligned buffer: the file's data offset need not be a multiple of 8.
  const raw = new Uint8Array(bytes.subarray(header.dataOffset, header.dataOffset + count * size)).buffer;
  return { dtype: header.dtype, shape: header.shape, values: typedValues(header.dtype, raw, count) };
}

function typedValues(dtype: NpyDtype, raw: ArrayBuffer, count: number): NpyArray['values'] {
  switch (dtype) {
    case 'float32':
      return new Float32Array(raw);
    case 'float64':
      return new Float64Array(raw);
    case 'int32':
      return new Int32Array(raw);
    case 'uint8':
      return new Uint8Array(raw);
    case 'int64': {
      // int64 ids and labels are stored as doubles; values beyond 2^53 cannot be ids anyway.
      const wide = new BigInt64Array(raw);
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = Number(wide[i]);
      return out;
    }
  }
}
