// Reverse-mode autograd over a dynamic tape, like PyTorch eager: each op records a node
// with its inputs and backward rule; backward() walks the nodes in reverse topological
// order, accumulates gradients of reused values, and checks every gradient's shape. A float64
// run can emulate float32's round-off (emulatingRoundOff) to measure how much it matters.

import { Tensor, installBackward, full } from '../tensor/tensor.js';
import { sameShape, formatDims } from '../tensor/shape.js';
import { addInto } from '../kernels/elementwise.js';

/**
 * A backward rule: given dL/d(output), returns dL/d(input) for each input (null where no
 * gradient is needed). It must return tensors of exactly the inputs' shapes.
 */
export type BackwardRule = (upstreamGrad: Tensor) => (Tensor | null)[];

export interface TapeNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Extra buffers the rule keeps alive (masks, argmax indices, the output), for memory accounting. */
  readonly saved: readonly Tensor[];
  readonly backward: BackwardRule;
}

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

function withGradEnabled<T>(enabled: boolean, fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = enabled;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/** Runs `fn` without recording: no op inside it builds a tape (like `torch.no_grad()`). */
export function noGrad<T>(fn: () => T): T {
  return withGradEnabled(false, fn);
}

/** Runs `fn` with recording on, even inside `noGrad` (used by checkpoint recomputation). */
export function enableGrad<T>(fn: () => T): T {
  return withGradEnabled(true, fn);
}

/** Whether an op over these inputs must be recorded. */
function needsGrad(inputs: readonly Tensor[]): boolean {
  if (!gradEnabled) return false;
  for (const input of inputs) if (input.requiresGrad) return true;
  return false;
}

/** While a checkpointed segment runs without a tape, collects the tensors it reads that need a gradient. */
let gradInputObserver: Set<Tensor> | null = null;

/** Runs `fn` and returns, with its result, every tensor requiring a gradient that an op inside it read. */
export function observeGradInputs<T>(fn: () => T): { result: T; gradInputs: Set<Tensor> } {
  const previous = gradInputObserver;
  const gradInputs = new Set<Tensor>();
  gradInputObserver = gradInputs;
  try {
    return { result: fn(), gradInputs };
  } finally {
    gradInputObserver = previous;
  }
}

/** While a float64 run emulates float32's round-off: the seed of its rounding signs (null: it does not). */
let roundOffSeed: number | null = null;

const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);

/**
 * The direction (±1) emulated float32 rounding moves `value` in, for the signs of `seed`: a
 * hash of the value's bits, so that equal values round alike, as float32 arithmetic does
 * (a tie between copies of one value stays a tie; x − max(x) of a row of equal values stays 0).
 */
export function roundingSign(value: number, seed: number): number {
  bits[0] = value;
  let h = Math.imul(words[0] ^ Math.imul(words[1], 0x9e3779b1) ^ seed, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) & 1 ? 1 : -1;
}

/**
 * Runs `fn` in float64 with float32's round-off emulated (Monte Carlo arithmetic, Parker
 * 1997): every float64 value an op records (but one it copies from an input: a max, a
 * reshape, a relu of a positive value, which float32 does not round), and every float64
 * gradient a backward rule receives, is multiplied by 1 ± 2^-24, float32's unit round-off,
 * the sign from roundingSign with `seed`. A result that cancels (a sum of gradient terms that
 * is 0 in exact arithmetic) then carries round-off of the size of the terms it cancelled,
 * as in float32, instead of float64's much smaller one.
 * One run at a time: the setting is the tape's, like noGrad's.
 */
export async function emulatingRoundOff<T>(seed: number, fn: () => Promise<T>): Promise<T> {
  const previous = roundOffSeed;
  roundOffSeed = seed;
  try {
    return await fn();
  } finally {
    roundOffSeed = previous;
  }
}

/**
 * `t`, or under emulatingRoundOff a float64 `t` as float32 would round it, but for the values
 * of the tensors it was `copiedFrom` (a new tensor: views share storage).
 */
function roundedOff(t: Tensor, copiedFrom: readonly Tensor[] = []): Tensor {
  const seed = roundOffSeed;
  if (seed === null || t.dtype !== 'float64') return t;
  const copies = new Set<number>();
  for (const input of copiedFrom) if (input.dtype === 'float64') for (const v of input.values) copies.add(v);
  const values = Float64Array.from(t.values, (v) => (copies.has(v) ? v : v * (1 + roundingSign(v, seed) * 2 ** -24)));
  return new Tensor(values, t.shape, t.dtype);
}

/** Attaches a tape node to the output when any input requires a gradient; returns the output (under emulatingRoundOff, a rounded copy). */
export function record(
  op: string,
  computed: Tensor,
  inputs: readonly Tensor[],
  backward: BackwardRule,
  saved: readonly Tensor[] = [],
): Tensor {
  const output = roundedOff(computed, inputs);
  if (gradInputObserver) for (const input of inputs) if (input.requiresGrad) gradInputObserver.add(input);
  if (!needsGrad(inputs)) return output;
  output.requiresGrad = true;
  output.gradFn = { op, inputs, saved, backward };
  return output;
}

/** Nodes reachable from `root`, ordered so that every node comes after the nodes that use it. */
function reverseTopologicalOrder(root: Tensor, boundary: ReadonlySet<Tensor> | null): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  // Iterative post-order DFS, so deep graphs do not overflow the stack.
  const stack: { tensor: Tensor; next: number }[] = [{ tensor: root, next: 0 }];
  visited.add(root);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1];
    const inputs = (!boundary?.has(frame.tensor) && frame.tensor.gradFn?.inputs) || [];
    if (frame.next < inputs.length) {
      const input = inputs[frame.next++];
      if (input.requiresGrad && !visited.has(input)) {
        visited.add(input);
        stack.push({ tensor: input, next: 0 });
      }
    } else {
      order.push(frame.tensor);
      stack.pop();
    }
  }
  return order.reverse();
}

function accumulate(target: Map<Tensor, Tensor>, tensor: Tensor, grad: Tensor): void {
  const previous = target.get(tensor);
  if (!previous) {
    target.set(tensor, grad);
    return;
  }
  // The first gradient may be a view shared with another tensor: copy before adding.
  const sum = new Tensor(previous.values.slice(), previous.shape, previous.dtype);
  addInto(sum.values, grad.values);
  target.set(tensor, sum);
}

/** Backpropagates from `root`, adding into `.grad` of every leaf that requires a gradient. */
export function backward(root: Tensor, upstreamGrad?: Tensor): void {
  propagate(root, upstreamGrad, null);
}

/**
 * Backpropagates from `root`. Without a boundary, leaf gradients go into `.grad`; with one,
 * propagation stops at the boundary's tensors and their gradients are returned instead
 * (checkpoint uses this to backpropagate through a recomputed segment only).
 */
export function propagate(root: Tensor, upstreamGrad: Tensor | undefined, boundary: ReadonlySet<Tensor> | null): Map<Tensor, Tensor> {
  const reached = new Map<Tensor, Tensor>();
  if (!root.requiresGrad) throw new Error('backward(): the tensor does not require a gradient (nothing on the tape leads to it)');
  if (!upstreamGrad && root.size !== 1) {
    throw new Error(`backward(): a gradient can be implied only for a scalar; the tensor has shape ${formatDims(root.shape)}`);
  }
  const seed = upstreamGrad ?? full(root.shape, 1, root.dtype);
  if (!sameShape(seed.shape, root.shape)) {
    throw new Error(`backward(): upstream gradient shape ${formatDims(seed.shape)} differs from the tensor's ${formatDims(root.shape)}`);
  }
  const grads = new Map<Tensor, Tensor>([[root, seed]]);
  for (const tensor of reverseTopologicalOrder(root, boundary)) {
    const grad = grads.get(tensor);
    if (!grad) continue;
    grads.delete(tensor);
    if (boundary?.has(tensor)) {
      reached.set(tensor, grad);
      continue;
    }
    const node = tensor.gradFn;
    if (!node) {
      if (boundary) continue;
      if (tensor.grad) {
        const sum = new Tensor(tensor.grad.values.slice(), tensor.grad.shape, tensor.grad.dtype);
        addInto(sum.values, grad.values);
        tensor.grad = sum;
      } else {
        // Copy: a rule may pass the same gradient tensor to several inputs.
        tensor.grad = new Tensor(grad.values.slice(), grad.shape, grad.dtype);
      }
      continue;
    }
    const inputGrads = node.backward(roundedOff(grad));
    node.inputs.forEach((input, i) => {
      const inputGrad = inputGrads[i];
      if (!input.requiresGrad || !inputGrad) return;
      if (!sameShape(inputGrad.shape, input.shape)) {
        throw new Error(
          `backward of ${node.op}: gradient for input ${i} has shape ${formatDims(inputGrad.shape)} but the input has shape ${formatDims(input.shape)}`,
        );
      }
      accumulate(grads, input, inputGrad);
    });
  }
  return reached;
}

/**
 * Activation bytes the tape behind `root` retains for backward: every non-leaf input of a
 * node and every saved buffer, each storage counted once. Leaves (parameters, data) live
 * anyway and are not counted. Deterministic, unlike process memory.
 */
export function tapeBytes(root: Tensor): number {
  const buffers = new Set<ArrayBufferLike>();
  const seen = new Set<Tensor>();
  const pending = [root];
  let bytes = 0;
  const count = (held: Tensor): void => {
    if (buffers.has(held.data.buffer)) return;
    buffers.add(held.data.buffer);
    bytes += held.data.byteLength;
  };
  while (pending.length > 0) {
    const node = pending.pop()!.gradFn;
    if (!node) continue;
    node.saved.forEach(count);
    for (const input of node.inputs) {
      if (!input.gradFn || seen.has(input)) continue;
      seen.add(input);
      count(input);
      pending.push(input);
    }
  }
  return bytes;
}

installBackward(backward);
