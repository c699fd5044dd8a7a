// The init-time gradient pass of a model without a data set: random inputs of its declared
// shapes (every symbolic dim set to a small size) and a random upstream gradient at its
// output, since without a `train` block there is no loss. What it measures is how the
// network's backward pass scales a gradient at initialization, layer by layer.

import { Dim } from '../../engine/src/shape/dim.js';
import { checkProgram, type CheckOptions } from '../../engine/src/lang/program.js';
import { randn } from '../../engine/src/tensor/random-tensors.js';
import { Rng } from '../../engine/src/random.js';
import { lowerModel } from '../../engine/src/backend-ts/lower.js';
import { paramGradStats } from '../../engine/src/core/stats.js';
import type { ParamGradStats } from '../../engine/src/core/events.js';
import { RANDOM_DIM_SIZE } from './workerProtocol.js';


export function randomInputProbe(text: string, model: string, imports: Pick<CheckOptions, 'files' | 'path'> = {}, seed = 0): { params: ParamGradStats[] } | { error: string } {
  const check = checkProgram(text, imports);
  const ir = check.irs.get(model);
  if (!ir) return { error: `${model} does not check without errors` };
  const rng = new Rng(seed);
  const lowered = lowerModel(ir, check.fnIrs, seed, () => 0);
  const inputs = [];
  for (const id of ir.graph.inputs) {
    const value = ir.graph.values[id];
    if (value.dtype === 'int64') return { error: `${model} takes int token ids; random ids need its data set` };
    const names = new Map<string, Dim>();
    for (const d of value.shape) for (const name of d.names()) names.set(name, Dim.of(RANDOM_DIM_SIZE));
    const shape = value.shape.map((d) => d.substitute(names).constant() ?? RANDOM_DIM_SIZE);
    inputs.push(randn(shape, { rng }));
  }
  const output = lowered.forward(inputs, { dropout: false, batchNormTraining: true, rng, detectNonFinite: false });
  // dL/doutput: unit-variance noise, averaged over the batch like a mean loss would be.
  output.backward(randn(output.shape, { rng, std: 1 / RANDOM_DIM_SIZE }));
  const params = lowered.params.map((p) => paramGradStats(p.name, p.layer, p.tensor.grad?.data ?? new Float32Array(p.tensor.size), p.tensor.data, 0));
  return { params };
}
