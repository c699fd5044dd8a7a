// The data sets of generated cases: the `data = ...` text of the `train` block, the files
// the harness writes next to the `.nn` file (csv, npy, idx), and what the generator knows
// of them (sample shape, classes, targets), decided from the generator's choices alone.

import { idxBytes, npyBytes } from '../reliability/harness.js';
import type { Choices } from './choices.js';
import { IMAGE_CACHE_COUNTS } from './imageCache.js';

export type InputKind = 'vec' | 'img' | 'seq' | 'ids';

export interface DataPlan {
  kind: string;
  /** The value of the `data` key. */
  expr: string;
  /** Files to write in the case's folder, by relative path. */
  files: Record<string, Buffer | string>;
  input: InputKind;
  sample: number[];
  /** The number of classes of class-id targets, or null for regression targets. */
  classes: number | null;
  /** The shape of one target: [] for a class id. */
  target: number[];
  /** Training samples (before any `validate` hold-out). */
  count: number;
  /** For int ids (Embedding inputs): the largest id in the data. */
  maxId: number | null;
  /** The data set has its own test split. */
  hasTest: boolean;
}

/** A seeded PRNG (mulberry32) for data values: the generator's choices pick only its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Class ids 0..classes-1 for `count` samples, every class present (so the data counts `classes`). */
function classIds(count: number, classes: number, random: () => number): number[] {
  return Array.from({ length: count }, (_, i) => (i < classes ? i : Math.floor(random() * classes)));
}

const round3 = (v: number): number => Math.round(v * 1000) / 1000;

/** Kinds from the simplest; every one is reachable from the choices. */
export const DATA_KINDS = ['xor', 'moons', 'spirals', 'csv', 'npy-vec', 'npy-img', 'idx-img', 'npy-seq', 'npy-ids', 'idx-vec', 'fashion', 'mnist', 'cifar10', 'text'] as const;

/**
 * A data set for a batch of `batch` samples and two training steps. `regression` asks for
 * float targets where the kind has them (csv, npy).
 */
export function planData(c: Choices, kind: (typeof DATA_KINDS)[number], batch: number, minCount: number): DataPlan {
  const random = prng(c.int(1 << 20));
  const base = { files: {}, maxId: null, hasTest: false } as const;
  switch (kind) {
    case 'xor':
      return { ...base, kind, expr: 'xor()', input: 'vec', sample: [2], classes: 2, target: [], count: 4, hasTest: true };
    case 'moons': {
      const points = Math.max(minCount, c.between(8, 24));
      return { ...base, kind, expr: c.oneIn(3) ? `moons(${points})` : `moons(points = ${points})`, input: 'vec', sample: [2], classes: 2, target: [], count: points, hasTest: true };
    }
    case 'spirals': {
      const classes = c.between(2, 4);
      const points = Math.max(Math.ceil(minCount / classes), c.between(2, 8));
      return { ...base, kind, expr: `spirals(classes = ${classes}, points = ${points})`, input: 'vec', sample: [2], classes, target: [], count: classes * points, hasTest: true };
    }
    case 'fashion': {
      const train = Math.max(minCount, batch * 2 + c.int(8));
      return { ...base, kind, expr: `fashion_mnist(train = ${train}, test = ${c.between(0, 8)})`, input: 'img', sample: [1, 28, 28], classes: 10, target: [], count: train, hasTest: true };
    }
    case 'mnist':
    case 'cifar10': {
      // Served from the fixture cache of imageCache.ts (IMAGE_CACHE_COUNTS images).
      const counts = IMAGE_CACHE_COUNTS[kind];
      const train = Math.min(counts.train, Math.max(minCount, batch * 2 + c.int(8)));
      const sample = kind === 'mnist' ? [1, 28, 28] : [3, 32, 32];
      return { ...base, kind, expr: `${kind}(train = ${train}, test = ${c.between(0, counts.test)})`, input: 'img', sample, classes: 10, target: [], count: train, hasTest: true };
    }
    case 'csv': {
      const features = c.between(1, 5);
      const count = Math.max(minCount, c.between(8, 20));
      const regression = c.oneIn(2);
      const classes = regression ? null : c.between(2, 4);
      const label = c.pick(['label', 'y', 'target']);
      const at = c.int(features + 1);
      const names = Array.from({ length: features }, (_, i) => `f${i}`);
      names.splice(at, 0, label);
      const ids = classes === null ? [] : classIds(count, classes, random);
      const rows = Array.from({ length: count }, (_, r) =>
        names.map((n) => (n !== label ? round3(random() * 4 - 2) : classes === null ? round3(random() * 3 - 1.5) + 0.0005 : ids[r])).join(','),
      );
      return {
        ...base,
        kind,
        expr: `csv("points.csv", label = "${label}")`,
        files: { 'points.csv': [names.join(','), ...rows].join('\n') + '\n' },
        input: 'vec',
        sample: [features],
        classes,
        target: classes === null ? [1] : [],
        count,
      };
    }
    case 'npy-vec':
    case 'npy-img':
    case 'npy-seq':
    case 'npy-ids': {
      const count = Math.max(minCount, c.between(8, 16));
      const sample =
        kind === 'npy-vec' ? [c.between(1, 6)]
          : kind === 'npy-img' ? [c.between(1, 3), c.between(4, 9), c.between(4, 9)]
            : [c.between(2, 5), ...(kind === 'npy-seq' ? [c.between(2, 5)] : [])];
      const size = sample.reduce((a, b) => a * b, 1);
      const vocab = c.between(3, 12);
      const ids = kind === 'npy-ids';
      const xValues = Array.from({ length: count * size }, (_, i) => (ids ? (i === 0 ? vocab - 1 : Math.floor(random() * vocab)) : round3(random() * 2 - 1)));
      const regression = c.oneIn(2);
      const classes = regression ? null : c.between(2, 5);
      const width = regression ? c.pick([0, 1, 3]) : 0;
      const target = regression && width > 0 ? [width] : [];
      const yCount = count * Math.max(1, width);
      const yValues = classes === null ? Array.from({ length: yCount }, () => round3(random())) : classIds(count, classes, random);
      return {
        ...base,
        kind,
        expr: `npy(x = "x.npy", y = "y.npy")`,
        files: {
          'x.npy': npyBytes(ids ? 'int64' : 'float32', [count, ...sample], xValues),
          'y.npy': npyBytes(classes === null ? 'float32' : 'int64', [count, ...target], yValues),
        },
        input: kind === 'npy-vec' ? 'vec' : kind === 'npy-img' ? 'img' : kind === 'npy-seq' ? 'seq' : 'ids',
        sample,
        classes,
        target,
        count,
        maxId: ids ? vocab - 1 : null,
      };
    }
    case 'text': {
      // Every letter of the vocabulary first (so the file's vocabulary is the plan's), then random letters.
      const vocab = c.between(2, 6);
      const block = c.between(2, 4);
      const stride = c.between(1, 3);
      const test = c.pick([0, 0.25]);
      const count = Math.max(minCount, c.between(4, 10));
      const trainChars = (count - 1) * stride + block + 1;
      // The shortest text whose training part holds the windows and whose test part holds one.
      let length = trainChars;
      while (test > 0 && (Math.round(length * (1 - test)) < trainChars || length - Math.round(length * (1 - test)) < block + 1)) length++;
      const letters = 'abcdef';
      const text = Array.from({ length }, (_, i) => letters[i < vocab ? i : Math.floor(random() * vocab)]).join('');
      const cut = Math.round(length * (1 - test));
      const trainCount = Math.floor((cut - block - 1) / stride) + 1;
      const args = [`block = ${block}`, `stride = ${stride}`, `test = ${test}`];
      return {
        ...base,
        kind,
        expr: `text("corpus.txt", ${args.join(', ')})`,
        files: { 'corpus.txt': text },
        input: 'ids',
        sample: [block],
        classes: vocab,
        target: [block],
        count: trainCount,
        maxId: vocab - 1,
        hasTest: test > 0,
      };
    }
    case 'idx-img':
    case 'idx-vec': {
      const count = Math.max(minCount, c.between(8, 16));
      const dims = kind === 'idx-img' ? [c.between(4, 9), c.between(4, 9)] : [c.between(2, 6)];
      const size = dims.reduce((a, b) => a * b, 1);
      const classes = c.between(2, 5);
      const images = Array.from({ length: count * size }, () => Math.floor(random() * 256));
      return {
        ...base,
        kind,
        expr: `idx(images = "images.idx", labels = "labels.idx")`,
        files: { 'images.idx': idxBytes([count, ...dims], images), 'labels.idx': idxBytes([count], classIds(count, classes, random)) },
        input: kind === 'idx-img' ? 'img' : 'vec',
        sample: kind === 'idx-img' ? [1, ...dims] : dims,
        classes,
        target: [],
        count,
      };
    }
  }
}
