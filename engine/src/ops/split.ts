// `chunk(x, chunks, dim)` and `split(x, size or [sizes], dim)`: the pieces of one axis, as
// torch.chunk and torch.split, bound by tuple binding (`a, b = chunk(x, 2, dim = -1)`).
// Each piece is its own node (its `part`), a narrow of the input: the same kernels, gradient
// and ONNX lowering as `narrow`.

import { Dim, formatShape, type Shape } from '../shape/dim.js';
import { normalizeAxis, ruleError, type RuleResult } from '../shape/rules.js';
import { axis, defineOpWith, int, sizes, tensor, type OpDef } from './def.js';
import { narrow, narrowOp } from './narrow.js';
import { resolveAxis } from './shape-rule.js';
import { pythonDim } from './subscript.js';

export interface ChunkAttrs {
  chunks: number;
  dim: number;
  /** Which piece this node is. */
  part: number;
}

export interface SplitAttrs {
  /** The size of every piece (the last may be smaller), or the pieces' sizes. */
  sizes: Dim | Shape;
  dim: number;
  part: number;
}

/** Pieces of `each` entries from an axis of `size`, the last one smaller, as torch.split; null when a symbolic size is not known to be a multiple. */
function piecesOf(size: Dim, each: Dim): Dim[] | null {
  const n = size.constant();
  const s = each.constant();
  if (n !== null && s !== null) {
    const count = Math.ceil(n / s);
    return Array.from({ length: count }, (_, k) => Dim.of(k < count - 1 ? s : n - s * (count - 1)));
  }
  const count = size.floorDiv(each);
  const known = count.constant();
  return count.mul(each).equals(size) && known !== null ? new Array<Dim>(known).fill(each) : null;
}

type Pieces = { pieces: Dim[]; at: number } | { error: RuleResult };

function chunkPieces(input: Shape, { chunks, dim }: ChunkAttrs): Pieces {
  const at = normalizeAxis(dim, input.length);
  if (at === null) return { error: ruleError('NN2109', [dim, formatShape(input)]) };
  const size = input[at];
  const n = size.constant();
  // torch.chunk: pieces of ceil(n / chunks) entries (so there may be fewer than `chunks`).
  const each = n !== null ? Dim.of(Math.ceil(n / chunks)) : size.floorDiv(chunks);
  const pieces = each.equals(0) ? null : piecesOf(size, each);
  if (pieces === null) return { error: ruleError('NN2145', ['chunk', chunks, size.toString(), formatShape(input)]) };
  return { pieces, at };
}

function splitPieces(input: Shape, { sizes: given, dim }: SplitAttrs): Pieces {
  const at = normalizeAxis(dim, input.length);
  if (at === null) return { error: ruleError('NN2109', [dim, formatShape(input)]) };
  const size = input[at];
  if (given instanceof Dim) {
    const pieces = piecesOf(size, given);
    if (pieces === null) return { error: ruleError('NN2145', ['split', given.toString(), size.toString(), formatShape(input)]) };
    return { pieces, at };
  }
  const total = given.reduce((sum, d) => sum.add(d), Dim.of(0));
  if (!total.equals(size)) return { error: ruleError('NN2146', [formatShape(given), total.toString(), dim, formatShape(input), size.toString()]) };
  return { pieces: [...given], at };
}

/** The rule of one piece: the input with the axis cut to the piece's size. */
function pieceRule<A extends { part: number }>(pieces: (input: Shape, attrs: A) => Pieces) {
  return ([input]: readonly Shape[], attrs: A): RuleResult => {
    const result = pieces(input, attrs);
    if ('error' in result) return result.error;
    const piece = result.pieces[attrs.part];
    // The checker makes one node per piece, so a part past the pieces is a bug, not a user's mistake.
    if (piece === undefined) throw new RangeError(`piece ${attrs.part} of ${result.pieces.length}`);
    return { shape: input.map((d, k) => (k === result.at ? piece : d)) };
  };
}

/** The piece as narrow's attributes over constant dims: its first entry and length. */
function asNarrow<A extends { part: number; dim: number }>(pieces: (input: Shape, attrs: A) => Pieces, input: Shape, attrs: A, what: (d: Dim) => number) {
  const result = pieces(input, attrs);
  if ('error' in result) throw new RangeError(`${JSON.stringify(result.error)} for ${formatShape(input)}`);
  const start = result.pieces.slice(0, attrs.part).reduce((sum, d) => sum.add(d), Dim.of(0));
  return { dim: resolveAxis(attrs.dim, input.length), start: what(start), length: what(result.pieces[attrs.part]) };
}

/** The kernels of a piece: narrow's, at the piece's entries. */
function pieceOp<A extends { part: number; dim: number }>(pieces: (input: Shape, attrs: A) => Pieces): Pick<OpDef<A>, 'shape' | 'parts' | 'linearity' | 'ts' | 'onnx'> {
  const constant = (d: Dim) => d.constant() ?? Number.NaN;
  return {
    shape: pieceRule(pieces),
    parts: (input, attrs) => {
      const result = pieces(input, attrs);
      return 'error' in result ? null : result.pieces.length;
    },
    linearity: 'shape-only',
    ts: ([input], attrs, ctx) => narrow(input, asNarrow(pieces, input.shape.map((n) => Dim.of(n)), resolveSizes(attrs, ctx.concrete), constant)),
    onnx: {
      forward: (ctx, inputs, attrs, out) => narrowOp.onnx.forward(ctx, inputs, asNarrow(pieces, inputs[0].shape, attrs, (d) => ctx.constantDims([d], `a piece of ${formatShape(inputs[0].shape)}`)[0]), out),
      backward: (ctx, entry, g, needs) => {
        const attrs = asNarrow(pieces, entry.inputs[0].shape, entry.attrs, (d) => ctx.constantDims([d], `the gradient of a piece of ${formatShape(entry.inputs[0].shape)}`)[0]);
        return narrowOp.onnx.backward(ctx, { ...entry, attrs }, g, needs);
      },
    },
  };
}

/** `split`'s sizes over the run's dims (the other attributes have none). */
function resolveSizes<A>(attrs: A, concrete: (shape: Shape) => number[]): A {
  const given = (attrs as Partial<SplitAttrs>).sizes;
  if (given === undefined) return attrs;
  const resolved = given instanceof Dim ? Dim.of(concrete([given])[0]) : concrete(given).map((n) => Dim.of(n));
  return { ...attrs, sizes: resolved };
}

const x = tensor('x', { aliases: ['input'] });

export const chunkOp = defineOpWith<ChunkAttrs>()({
  name: 'chunk',
  surface: 'function',
  params: [x, int('chunks', { min: 1, doc: 'how many pieces (fewer when the axis is short, as torch.chunk)' }), axis('dim', { default: 0, doc: 'the axis to cut' })],
  doc: { summary: 'The axis `dim` cut into `chunks` pieces of ⌈size / chunks⌉ entries (the last may be smaller), bound as `a, b = chunk(x, 2)` (torch.chunk).', gradient: 'dL/dx = each piece\'s g at its entries' },
  ...pieceOp(chunkPieces),
  pytorch: ([input], { chunks, dim, part }) => `torch.chunk(${input}, ${chunks}, dim=${dim})[${part}]`,
});

export const splitOp = defineOpWith<SplitAttrs>()({
  name: 'split',
  surface: 'function',
  params: [x, sizes('sizes', { aliases: ['split_size_or_sections'], min: 1, doc: 'the size of each piece (the last may be smaller), or a list of the pieces\' sizes' }), axis('dim', { default: 0, doc: 'the axis to cut' })],
  doc: { summary: 'The axis `dim` cut into pieces of `sizes` entries, or of the sizes listed, bound as `a, b = split(x, [2, 3])` (torch.split).', gradient: 'dL/dx = each piece\'s g at its entries' },
  ...pieceOp(splitPieces),
  pytorch: ([input], { sizes: given, dim, part }, ctx) => {
    const py = (d: Dim) => pythonDim(d, input, ctx.inShapes[0]);
    return `torch.split(${input}, ${given instanceof Dim ? py(given) : `[${given.map(py).join(', ')}]`}, dim=${dim})[${part}]`;
  },
});
