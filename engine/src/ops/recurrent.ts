// The recurrent layers `LSTM` and `GRU` (batch first, stacked layers, bidirectional; PyTorch's
// gate order, parameter names and initialization), returning the outputs of the last layer at
// every step [B, T, H · directions] and, bound as `out, (h, c) = lstm(x)` / `out, h = gru(x)`,
// the final states [layers · directions, B, H] (each result its own node, its `part`). Composites (ops/compose.ts) unrolled over the sequence:
// the input projection once per layer, then per step narrow, linear, sigmoid, tanh, mul and
// add, so both back ends differentiate through time (backpropagation through time) with the
// same ops. The sequence length must be a number on the ONNX path (an unrolled graph);
// with a symbolic T, `auto` trains on the TS engine and says so.

import { Dim, formatShape, type Shape } from '../shape/dim.js';
import { ruleError, type RuleResult } from '../shape/rules.js';
import { bool, defineLayer, defineOpWith, size, type WeightSpec } from './def.js';
import { compositeRules, type Builder } from './compose.js';
import { knownSize, uniformInit } from './initSpecs.js';
import { sizeOf } from './shape-rule.js';

type Cell = 'lstm' | 'gru';

export interface RecurrentAttrs {
  hidden: Dim;
  layers: Dim;
  bidirectional: boolean;
  bias: boolean;
  /** Which result this node is: the outputs (0), the final hidden states h_n (1), LSTM's final cell states c_n (2). */
  part: number;
}

/** The results' nesting as PyTorch returns them: `out, (h_n, c_n)` and `out, h_n`. */
const RESULTS: Record<Cell, (number | number[])[]> = { lstm: [0, [1, 2]], gru: [0, 1] };

/** Gates per cell: LSTM's input, forget, cell and output; GRU's reset, update and new. */
const GATES: Record<Cell, number> = { lstm: 4, gru: 3 };

/** One direction of one layer's parameters, in PyTorch's order. */
interface DirectionParams<T> {
  inputWeight: T;
  hiddenWeight: T;
  inputBias: T | null;
  hiddenBias: T | null;
}

/** The inputs after x, grouped per layer and direction (weight_ih, weight_hh[, bias_ih, bias_hh]). */
function groupParams<T>(params: T[], { layers, bidirectional, bias }: RecurrentAttrs): DirectionParams<T>[][] {
  const perDirection = bias ? 4 : 2;
  const directions = bidirectional ? 2 : 1;
  return Array.from({ length: sizeOf(layers) }, (_, l) =>
    Array.from({ length: directions }, (_, d) => {
      const at = (l * directions + d) * perDirection;
      return { inputWeight: params[at], hiddenWeight: params[at + 1], inputBias: bias ? params[at + 2] : null, hiddenBias: bias ? params[at + 3] : null };
    }),
  );
}

/** One direction of one layer over x [B, T, I]: the hidden state at every step, in time order, and the last step's cell state (LSTM). */
function direction<T>(b: Builder<T>, cell: Cell, x: T, p: DirectionParams<T>, hidden: number, reverse: boolean): { outputs: T[]; cell: T | null } {
  const [batch, time] = b.shape(x);
  const steps = b.constant(time, `an ${cell.toUpperCase()} over a sequence`);
  const gates = GATES[cell];
  const rows = [batch, Dim.of(gates * hidden)];
  const projected = b.apply('linear', p.inputBias ? [x, p.inputWeight, p.inputBias] : [x, p.inputWeight], {});
  const gate = (all: T, k: number): T => b.apply('narrow', [all], { dim: -1, start: k * hidden, length: hidden });
  const sigmoid = (v: T): T => b.apply('sigmoid', [v], {});
  const tanh = (v: T): T => b.apply('tanh', [v], {});
  const mul = (u: T, v: T): T => b.apply('mul', [u, v], {});
  const add = (u: T, v: T): T => b.apply('add', [u, v], {});
  const outputs: T[] = new Array(steps);
  let h: T | null = null;
  let c: T | null = null;
  for (let k = 0; k < steps; k++) {
    const t = reverse ? steps - 1 - k : k;
    const fromInput = b.apply('reshape', [b.apply('narrow', [projected], { dim: 1, start: t, length: 1 })], { shape: rows });
    // The first step's hidden state is zero: its projection is the hidden bias alone.
    const fromHidden = h === null ? p.hiddenBias : b.apply('linear', p.hiddenBias ? [h, p.hiddenWeight, p.hiddenBias] : [h, p.hiddenWeight], {});
    if (cell === 'lstm') {
      const all = fromHidden === null ? fromInput : add(fromInput, fromHidden);
      const [i, f, g, o] = [sigmoid(gate(all, 0)), sigmoid(gate(all, 1)), tanh(gate(all, 2)), sigmoid(gate(all, 3))];
      c = c === null ? mul(i, g) : add(mul(f, c), mul(i, g));
      h = mul(o, tanh(c));
    } else {
      const both = (k2: number): T => (fromHidden === null ? gate(fromInput, k2) : add(gate(fromInput, k2), gate(fromHidden, k2)));
      const r = sigmoid(both(0));
      const z = sigmoid(both(1));
      const n = tanh(fromHidden === null ? gate(fromInput, 2) : add(gate(fromInput, 2), mul(r, gate(fromHidden, 2))));
      const keep = b.apply('sub', [z], { scalar: 1, scalarFirst: true });
      h = h === null ? mul(keep, n) : add(mul(keep, n), mul(z, h));
    }
    outputs[t] = h;
  }
  return { outputs, cell: c };
}

/** The stacked (and bidirectional) layers: each layer's outputs at every step feed the next; the result `attrs.part`. */
function recurrent(cell: Cell) {
  return <T>(b: Builder<T>, [x, ...params]: T[], attrs: RecurrentAttrs): T => {
    const hidden = sizeOf(attrs.hidden);
    const [batch] = b.shape(x);
    const step = [batch, Dim.of(1), attrs.hidden];
    const final = [Dim.of(1), batch, attrs.hidden];
    // Each layer's and direction's last state, in PyTorch's order (layer-major, forward first).
    const finals: T[] = [];
    const layers = groupParams(params, attrs);
    let input = x;
    for (const [l, layer] of layers.entries()) {
      const runs = layer.map((p, d) => direction(b, cell, input, p, hidden, d === 1));
      if (attrs.part !== 0) {
        runs.forEach((run, d) => finals.push(b.apply('reshape', [attrs.part === 2 ? run.cell! : run.outputs[d === 1 ? 0 : run.outputs.length - 1]], { shape: final })));
        // A final state needs the last layer's steps but not its outputs.
        if (l === layers.length - 1) break;
      }
      const perDirection = runs.map((run) => {
        const states = run.outputs.map((h) => b.apply('reshape', [h], { shape: step }));
        return states.length === 1 ? states[0] : b.apply('concat', states, { axis: 1 });
      });
      input = perDirection.length === 1 ? perDirection[0] : b.apply('concat', perDirection, { axis: -1 });
    }
    if (attrs.part === 0) return input;
    return finals.length === 1 ? finals[0] : b.apply('concat', finals, { axis: 0 });
  };
}

function recurrentRule(layer: string) {
  return ([x, inputWeight]: readonly Shape[], { hidden, layers, bidirectional, part }: RecurrentAttrs): RuleResult => {
    if (x.length !== 3) return ruleError('NN2108', [layer, 'a batch-first sequence [B, T, features]', { input: 0 }, formatShape(x)]);
    const directions = bidirectional ? 2 : 1;
    const out = part === 0 ? [x[0], x[1], hidden.scale(directions)] : [layers.scale(directions), x[0], hidden];
    if (!x[2].equals(inputWeight[1])) return ruleError('NN2111', [layer, `${inputWeight[1]} input features on the last axis`, { input: 0 }, formatShape(x)], out);
    return { shape: out };
  };
}

/** Forward FLOPs: per layer and direction, the input and hidden projections at every step. */
function recurrentFlops(cell: Cell) {
  return ([x]: readonly Shape[], _output: Shape, { hidden, layers, bidirectional }: RecurrentAttrs): Dim => {
    const directions = bidirectional ? 2 : 1;
    const gates = hidden.scale(GATES[cell]);
    const first = x[2].add(hidden).mul(gates);
    const later = hidden.scale(directions).add(hidden).mul(gates).mul(layers.sub(1));
    return x[0].mul(x[1]).mul(first.add(later)).scale(2 * directions);
  };
}

/** The subscript of result `part` in what the torch.nn module returns (`out, (h, c)`): `[0]`, `[1]`, or LSTM's `[1][0]`, `[1][1]` (torch.lstm's own tuple is flat). */
function pytorchPart(cell: Cell, part: number): string {
  if (part === 0) return '[0]';
  return cell === 'lstm' ? `[1][${part - 1}]` : '[1]';
}

function recurrentOp<const N extends Cell>(cell: N, layer: 'LSTM' | 'GRU', gradient: string) {
  return defineOpWith<RecurrentAttrs>()({
    name: cell,
    surface: 'layer',
    params: [],
    doc: { summary: `The op of \`${layer}\`: the last layer's hidden state at every step, [B, T, H · directions] (part 0), or the final ${cell === 'lstm' ? 'hidden (part 1) or cell (part 2) states' : 'hidden states (part 1)'}, [layers · directions, B, H].`, gradient },
    shape: recurrentRule(layer),
    flops: recurrentFlops(cell),
    ...compositeRules<RecurrentAttrs>(recurrent(cell)),
    pytorch: ([x, ...params], { hidden, layers, bidirectional, bias, part }) => {
      const states = `${x}.new_zeros(${sizeOf(layers) * (bidirectional ? 2 : 1)}, ${x}.shape[0], ${hidden})`;
      const initial = cell === 'lstm' ? `(${states}, ${states})` : states;
      return `torch.${cell}(${x}, ${initial}, [${params.join(', ')}], ${bias ? 'True' : 'False'}, ${layers}, 0.0, False, ${bidirectional ? 'True' : 'False'}, True)[${part}]`;
    },
  });
}

export const lstmOp = recurrentOp('lstm', 'LSTM', 'backpropagation through time: the unrolled steps\' linear, sigmoid, tanh, mul and add, from the last step to the first (c carries the gradient along the sequence)');
export const gruOp = recurrentOp('gru', 'GRU', 'backpropagation through time: the unrolled steps\' linear, sigmoid, tanh, mul and add, from the last step to the first');

function recurrentLayer<const N extends 'LSTM' | 'GRU'>(name: N, summary: string) {
  const cell: Cell = name === 'LSTM' ? 'lstm' : 'gru';
  return defineLayer({
    name,
    op: cell === 'lstm' ? lstmOp : gruOp,
    params: [
      size('in', { aliases: ['input_size'], min: 1, doc: 'input features (the last dim of [B, T, features])' }),
      size('hidden', { aliases: ['hidden_size'], min: 1, doc: 'hidden state size H' }),
      size('layers', { default: 1, aliases: ['num_layers'], min: 1, doc: 'stacked layers, each reading the previous one\'s outputs' }),
      bool('bidirectional', { default: false, doc: 'a second pass from the last step to the first; outputs [B, T, 2H]' }),
      bool('bias', { default: true, doc: 'learn the input and hidden biases' }),
    ],
    doc: { summary },
    weights: (args) => {
      const gates = args.hidden.scale(GATES[cell]);
      const init = uniformInit('bias_uniform', knownSize(args.hidden));
      const directions = args.bidirectional ? ['', '_reverse'] : [''];
      const params: WeightSpec[] = [];
      for (let l = 0; l < knownSize(args.layers); l++) {
        const inputs = l === 0 ? args.in : args.hidden.scale(directions.length);
        for (const suffix of directions) {
          params.push({ suffix: `weight_ih_l${l}${suffix}`, shape: [gates, inputs], init }, { suffix: `weight_hh_l${l}${suffix}`, shape: [gates, args.hidden], init });
          if (args.bias) params.push({ suffix: `bias_ih_l${l}${suffix}`, shape: [gates], init }, { suffix: `bias_hh_l${l}${suffix}`, shape: [gates], init });
        }
      }
      return { params, buffers: [] };
    },
    attrs: (args) => ({ hidden: args.hidden, layers: args.layers, bidirectional: args.bidirectional, bias: args.bias, part: 0 }),
    results: RESULTS[cell],
    inputSize: { arg: 'in', pytorchName: 'input_size', axis: -1 },
    pytorch: (args) => `nn.${name}(${args.in}, ${args.hidden}, num_layers=${args.layers}${args.bias ? '' : ', bias=False'}, batch_first=True${args.bidirectional ? ', bidirectional=True' : ''})`,
    pytorchCall: (module, x, _args, attrs) => `${module}(${x})${pytorchPart(cell, attrs.part)}`,
  });
}

export const LSTMLayer = recurrentLayer('LSTM', 'Long short-term memory over a batch-first sequence `[B, T, in]` (torch.nn.LSTM with batch_first=True): the outputs `[B, T, hidden · directions]` of the last layer, and with `out, (h, c) = lstm(x)` the final states `[layers · directions, B, hidden]`; `weight_ih_l0: [4·hidden, in]`, `weight_hh_l0: [4·hidden, hidden]`, biases `[4·hidden]`, gates in PyTorch\'s order (input, forget, cell, output).');
export const GRULayer = recurrentLayer('GRU', 'Gated recurrent unit over a batch-first sequence `[B, T, in]` (torch.nn.GRU with batch_first=True): the outputs `[B, T, hidden · directions]` of the last layer, and with `out, h = gru(x)` the final states `[layers · directions, B, hidden]`; `weight_ih_l0: [3·hidden, in]`, gates in PyTorch\'s order (reset, update, new).');
