// The `fn` items the generator can add: each a correct function (its `grad` block, when it
// has one, is the true derivative), its shape rule in the generator's words, and its mutants
// (a wrong gradient shape or count) with the code the checker must report.

import { name, type D } from './dims.js';

export interface FnBinding {
  /** Index of the line in `lines` that binds it. */
  line: number;
  name: string;
  shape: D[];
}

export interface FnTemplate {
  name: string;
  lines: string[];
  /** Bindings inside the fn (and its grad block), with shapes over the fn's own dim names. */
  bindings: FnBinding[];
  /** Values for the fn's dim names when its bindings are compared symbolically. */
  dims: Record<string, number>;
  /** Mutants of one line: the line index, its replacement and the codes it must give there. */
  mutants: { line: number; text: string; codes: string[]; kind: string }[];
  /** The ranks of the first argument it takes (null: any). */
  ranks: number[] | null;
  /** A second argument: none, a tensor of the first one's shape, or a parameter (shape from the first's). */
  second: 'none' | 'same' | 'vector' | 'matrix';
  hasGrad: boolean;
  variadic: boolean;
}

const S = name('*S');
const N = name('N');
const Dd = name('D');
const I = name('I');
const O = name('O');

export const FN_TEMPLATES: readonly FnTemplate[] = [
  {
    name: 'swish',
    lines: ['fn swish(x: [*S]) -> [*S] {', '  return x * sigmoid(x)', '}'],
    bindings: [],
    dims: { '*S': 5 },
    mutants: [],
    ranks: null,
    second: 'none',
    hasGrad: false,
    variadic: true,
  },
  {
    name: 'softsign',
    lines: ['fn softsign(x: [*S]) -> [*S] {', '  d = 1 + abs(x)', '  return x / d', '} grad(g) {', '  d = 1 + abs(x)', '  return g / (d * d)', '}'],
    bindings: [{ line: 1, name: 'd', shape: [S] }, { line: 4, name: 'd', shape: [S] }],
    dims: { '*S': 3 },
    mutants: [{ line: 5, text: '  return g / (d * d), g', codes: ['NN3001'], kind: 'grad-count' }],
    ranks: null,
    second: 'none',
    hasGrad: true,
    variadic: true,
  },
  {
    name: 'addb',
    lines: ['fn addb(x: [N, D], b: [D]) -> [N, D] {', '  return x + b', '} grad(g) {', '  return g, sum(g, 0)', '}'],
    bindings: [],
    dims: { N: 3, D: 4 },
    mutants: [
      { line: 3, text: '  return g, g', codes: ['NN3002'], kind: 'grad-shape' },
      { line: 3, text: '  return g', codes: ['NN3001'], kind: 'grad-count' },
    ],
    ranks: [2],
    second: 'vector',
    hasGrad: true,
    variadic: false,
  },
  {
    name: 'scale',
    lines: ['fn scale(x: [*S, D], w: [D]) -> [*S, D] {', '  return x * w', '} grad(g) {', '  gw = reshape(g * x, [-1, D])', '  return g * w, sum(gw, 0)', '}'],
    bindings: [{ line: 3, name: 'gw', shape: [S, Dd] }],
    dims: { '*S': 6, D: 2 },
    mutants: [{ line: 4, text: '  return g * w, gw', codes: ['NN3002'], kind: 'grad-shape' }],
    ranks: null,
    second: 'vector',
    hasGrad: true,
    variadic: true,
  },
  {
    name: 'mm',
    lines: ['fn mm(x: [N, I], W: [I, O]) -> [N, O] {', '  return x @ W', '} grad(g) {', '  dx = g @ transpose(W, 0, 1)', '  dW = transpose(x, 0, 1) @ g', '  return dx, dW', '}'],
    bindings: [{ line: 3, name: 'dx', shape: [N, I] }, { line: 4, name: 'dW', shape: [I, O] }],
    dims: { N: 3, I: 4, O: 2 },
    mutants: [{ line: 5, text: '  return dW, dx', codes: ['NN3002'], kind: 'grad-shape' }],
    ranks: [2],
    second: 'matrix',
    hasGrad: true,
    variadic: false,
  },
  {
    name: 'gate',
    lines: ['fn gate(a: [*S], b: [*S]) -> [*S] {', '  return a * sigmoid(b)', '}'],
    bindings: [],
    dims: { '*S': 4 },
    mutants: [],
    ranks: null,
    second: 'same',
    hasGrad: false,
    variadic: true,
  },
  {
    name: 'center',
    lines: ['fn center(x: [N, D]) -> [N, D] {', '  m = mean(x, 1, keepdims = true)', '  return x - m', '}'],
    bindings: [{ line: 1, name: 'm', shape: [N, { k: 'n', n: 1 }] }],
    dims: { N: 3, D: 5 },
    mutants: [{ line: 1, text: '  m = mean(x, 2, keepdims = true)', codes: ['NN2109'], kind: 'axis' }],
    ranks: [2],
    second: 'none',
    hasGrad: false,
    variadic: false,
  },
];
