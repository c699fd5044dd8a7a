// `text(path, block, stride)`: a character-level language-modelling set from a UTF-8 file.
// The vocabulary is the file's distinct characters in code-point order (id = rank), each
// sample `block` ids from a window start (every `stride` characters) and its labels the
// next character at each position: inputs int[block], labels int[block]. The last `test`
// fraction of the text is the test split.

import type { DataHeader, DataSpec } from '../lang/api.js';
import { dataError, isDataError, readFileBytes, type DataError, type Dataset, type Split } from './dataset.js';
import { join } from 'node:path';

type TextSpec = Extract<DataSpec, { kind: 'text' }>;

/** A text's characters and their ids. */
export interface Vocabulary {
  /** The distinct characters in code-point order: id k is `chars[k]`. */
  chars: string[];
  ids: Map<string, number>;
}

export function vocabularyOf(text: string): Vocabulary {
  const chars = [...new Set(text)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
  return { chars, ids: new Map(chars.map((c, k) => [c, k])) };
}

/** The file's text and vocabulary; NN4005 when it cannot be read or holds too little for one sample. */
export function readText(path: string, baseDir: string, block: number): { text: string; vocabulary: Vocabulary; ids: Int32Array } | DataError {
  const bytes = readFileBytes(join(baseDir, path), path);
  if (isDataError(bytes)) return bytes;
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  const vocabulary = vocabularyOf(text);
  const ids = Int32Array.from(text, (c) => vocabulary.ids.get(c)!);
  if (ids.length < block + 1) return dataError(path, `holds ${ids.length} characters; a block of ${block} needs at least ${block + 1}`);
  return { text, vocabulary, ids };
}

/** How many windows of `block` (and the character after) start every `stride` characters in `length`. */
function windowCount(length: number, block: number, stride: number): number {
  return length < block + 1 ? 0 : Math.floor((length - block - 1) / stride) + 1;
}

/** The samples of `ids`: windows of `block` (and the character after) every `stride` characters. */
function windows(ids: Int32Array, block: number, stride: number): Split {
  const count = windowCount(ids.length, block, stride);
  const inputs = new Float32Array(count * block);
  const targets = new Float32Array(count * block);
  for (let s = 0; s < count; s++) {
    const start = s * stride;
    for (let t = 0; t < block; t++) {
      inputs[s * block + t] = ids[start + t];
      targets[s * block + t] = ids[start + t + 1];
    }
  }
  return { count, inputs, targets };
}

/** Where the test part starts; NN4005 when the training or the test part holds no window. */
function cutOf(spec: TextSpec, length: number): number | DataError {
  const { path, block, stride, test } = spec;
  const cut = Math.round(length * (1 - test));
  if (windowCount(cut, block, stride) === 0) return dataError(path, `the training part (${cut} characters) is shorter than a block of ${block} and the character after it`);
  if (test > 0 && windowCount(length - cut, block, stride) === 0) return dataError(path, `the test part (the last ${length - cut} characters) is shorter than a block of ${block} and the character after it; lower \`block\` or raise \`test\``);
  return cut;
}

/** The training windows from the text before its last `test` fraction, the test windows from that fraction. */
export function loadText(spec: TextSpec, baseDir: string): Dataset | DataError {
  const { path, block, stride, test } = spec;
  const read = readText(path, baseDir, block);
  if (isDataError(read)) return read;
  const cut = cutOf(spec, read.ids.length);
  if (typeof cut !== 'number') return cut;
  return {
    description: `text("${path}", block = ${block}, stride = ${stride}, test = ${test})`,
    sampleShape: [block],
    classes: read.vocabulary.chars.length,
    labelShape: [block],
    train: windows(read.ids.subarray(0, cut), block, stride),
    test: test > 0 ? windows(read.ids.subarray(cut), block, stride) : null,
  };
}

/** What the checker knows before a run: the shapes and classes, and NN4005 when a part would hold no window. */
export function textHeader(spec: TextSpec, baseDir: string): DataHeader | DataError {
  const read = readText(spec.path, baseDir, spec.block);
  if (isDataError(read)) return read;
  const cut = cutOf(spec, read.ids.length);
  if (typeof cut !== 'number') return cut;
  const classes = read.vocabulary.chars.length;
  return { sampleShape: [spec.block], classes, labelShape: [spec.block], inputIds: { min: 0, max: classes - 1 } };
}
