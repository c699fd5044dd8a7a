// One test over the whole op registry: for every op and each of its cases (test/ops/cases.ts),
// the shape rule agrees with the TS kernel over symbolic and constant dims, the TS kernel's
// gradients pass a float64 finite-difference check, the ONNX forward and backward emitters
// equal the TS kernel on the same inputs, and the op's PyTorch form equals torch (where
// /usr/bin/python3 imports torch) in value and gradient.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { Dim, formatShape, shapesEqual, type Shape } from '../../engine/src/shape/dim.js';
import { ALL_OPS, OPS, type OpName } from '../../engine/src/ops/registry.js';
import { outputDtypeOf, type OpDef, type TsContext } from '../../engine/src/ops/def.js';
import { resolveAttrs } from '../../engine/src/ops/shape-rule.js';
import { Tensor } from '../../engine/src/tensor/tensor.js';
import { backward } from '../../engine/src/autograd/tape.js';
import { gradcheck } from '../../engine/src/gradcheck.js';
import { Rng } from '../../engine/src/random.js';
import { OnnxGraphBuilder } from '../../engine/src/onnx/builder.js';
import { LoweringContext, type Val } from '../../engine/src/onnx/context.js';
import { lowerOp } from '../../engine/src/backend-onnx/forward.js';
import { ONNX_PASSES } from '../../engine/src/backend-onnx/backward.js';
import { OnnxUnsupported } from '../../engine/src/onnx/unsupported.js';
import { BATCH, CASES, concreteShape, symbolicShape, type InputSpec, type OpCase } from './cases.js';

const PYTHON = '/usr/bin/python3';
const batch = new Map([['B', Dim.of(BATCH)]]);
const bind = (shape: Shape): Shape => shape.map((d) => d.substitute(batch));
const numbers = (shape: Shape): number[] => bind(shape).map((d) => d.constant()!);

type AnyCase = OpCase<unknown>;
type AnyDef = OpDef<unknown>;

const isIds = (spec: InputSpec): boolean => typeof spec.values === 'object';

/** A case's inputs, drawn from a stream seeded by its name (float64; ids as int64). */
function inputsOf(op: string, c: AnyCase): Tensor[] {
  const rng = new Rng([...`${op}/${c.label}`].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) >>> 0, 7));
  return c.inputs.map((spec) => {
    const shape = concreteShape(spec);
    const size = shape.reduce((a, b) => a * b, 1);
    const values = spec.values ?? 'normal';
    if (typeof values === 'object') return new Tensor(Int32Array.from({ length: size }, () => Math.floor(rng.next() * values.ids)), shape, 'int64');
    const draw = values === 'positive' ? () => 0.5 + rng.next() * 2 : values === 'probability' ? () => 0.05 + rng.next() * 0.9 : values === 'wide' ? () => -5 + rng.next() * 10 : values === 'steps' ? () => Math.floor(rng.next() * 2) : () => rng.normal();
    if (values === 'keepsOne') return new Tensor(Float64Array.from({ length: size }, (_, i) => (i % shape[shape.length - 1] === 0 ? 1 : Math.floor(rng.next() * 2))), shape, 'float64');
    return new Tensor(Float64Array.from({ length: size }, draw), shape, 'float64');
  });
}

function as32(t: Tensor): Tensor {
  return t.dtype === "int64" ? t : new Tensor(Float32Array.from(t.values), t.shape, "float32");
}

function tsContext(outShape: Shape): TsContext {
  return { mode: { dropout: false, batchNormTraining: true, rng: new Rng(0) }, concrete: numbers, outShape };
}

/** The rule's output over symbolic dims; the case must fit its op. */
function ruleShape(def: AnyDef, c: AnyCase): Shape {
  const result = def.shape(c.inputs.map(symbolicShape), c.attrs, c.inputs.map((s) => (isIds(s) ? 'int64' : 'float32')));
  assert.ok(!('error' in result), `the case does not fit the op: ${JSON.stringify('error' in result ? result.error : null)}`);
  return result.shape;
}

function runTs(def: AnyDef, c: AnyCase, inputs: Tensor[]): Tensor {
  return def.ts(inputs, resolveAttrs(c.attrs, bind), tsContext(ruleShape(def, c)));
}

/** Input `k` is a mask: always (`where`'s condition), or by the case's attribute (attention's boolean mask). */
function isMask(def: AnyDef, c: AnyCase, k: number): boolean {
  const either = def.maskOrFloat;
  return (def.maskInputs?.includes(k) ?? false) || (either?.input === k && (c.attrs as Record<string, unknown>)[either.attr] === true);
}

/** Which inputs a gradient reaches (float inputs the op lets a gradient into; never a mask). */
function gradInputs(def: AnyDef, c: AnyCase): number[] {
  const chosen = def.gradInputs?.(c.inputs.length) ?? c.inputs.map((_, k) => k);
  return chosen.filter((k) => !isIds(c.inputs[k]) && !isMask(def, c, k));
}

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: ${actual.length} values, expected ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const error = Math.abs(actual[i] - expected[i]);
    assert.ok(error <= atol + rtol * Math.abs(expected[i]), `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

/** The upstream gradient each comparison feeds: a fixed ramp, so every output element matters. */
function upstreamFor(shape: readonly number[]): Float64Array {
  const size = shape.reduce((a, b) => a * b, 1);
  return Float64Array.from({ length: size }, (_, i) => 0.5 + ((i * 7) % 11) / 10);
}

/** Forward and input gradients on the TS engine in float32, for the ONNX comparison. */
function tsForwardBackward(def: AnyDef, c: AnyCase, inputs64: Tensor[]): { y: Tensor; grads: (Float32Array | Float64Array | null)[] } {
  const reached = new Set(gradInputs(def, c));
  const leaves = inputs64.map((t, k) => (reached.has(k) ? new Tensor(Float32Array.from(t.values), t.shape, 'float32', true) : as32(t)));
  const y = runTs(def, c, leaves);
  if (y.requiresGrad) backward(y, new Tensor(Float32Array.from(upstreamFor(y.shape)), y.shape, 'float32'));
  return { y, grads: leaves.map((t, k) => (reached.has(k) ? (t.grad?.values as Float32Array) ?? new Float32Array(t.size) : null)) };
}

/** The op lowered alone to ONNX (forward, then its gradient emitter on an upstream input), run by onnxruntime. */
async function onnxForwardBackward(name: string, def: AnyDef, c: AnyCase, inputs64: Tensor[]): Promise<{ y: Float64Array; grads: (Float32Array | null)[] }> {
  const b = new OnnxGraphBuilder('op_case');
  const ctx = new LoweringContext(b, { training: true, dropout: false }, new Map(), ONNX_PASSES);
  const onnxDims = (shape: Shape) => shape.map((d) => d.constant() ?? d.toString());
  const vals: Val[] = c.inputs.map((spec, k) => {
    const dtype = isIds(spec) ? 'int64' as const : 'float32' as const;
    const shape = symbolicShape(spec);
    b.addInput(`x${k}`, dtype, onnxDims(shape));
    return { name: `x${k}`, shape, dtype };
  });
  const reached = gradInputs(def, c);
  for (const k of reached) ctx.requiresGrad.add(vals[k].name);
  const outShape = ruleShape(def, c);
  const outDtype = outputDtypeOf(def, vals.map((v) => v.dtype));
  const { outputs: [y] } = lowerOp(ctx, name, vals, c.attrs as object, [{ shape: outShape, dtype: outDtype }]);
  const entry = ctx.tape[ctx.tape.length - 1];
  b.addInput('g', 'float32', onnxDims(outShape));
  const needs = c.inputs.map((_, k) => reached.includes(k));
  const gradVals = entry ? def.onnx.backward(ctx, entry as never, { name: 'g', shape: outShape, dtype: 'float32' }, needs) : [];
  gradVals.forEach((gv, k) => {
    if (gv && needs[k]) assert.ok(shapesEqual(gv.shape, vals[k].shape), `the gradient for input ${k} has shape ${formatShape(gv.shape)}, the input ${formatShape(vals[k].shape)}`);
  });
  // Outputs are declared last: declaring one renames the node that makes it.
  const outputNames = new Map<string, string>();
  const output = (outName: string, value: string, shape: Shape, dtype: 'float32' | 'int64' = 'float32'): string => {
    const known = outputNames.get(value);
    b.addOutput(outName, known ?? value, dtype, onnxDims(shape));
    if (!known) outputNames.set(value, outName);
    return outName;
  };
  output('y', y.name, outShape, outDtype);
  const gradOutputs = gradVals.map((gv, k) => (gv && needs[k] ? output(`grad${k}`, gv.name, vals[k].shape) : null));
  const session = await ort.InferenceSession.create(b.toBytes());
  try {
    const feeds: Record<string, ort.Tensor> = {};
    inputs64.forEach((t, k) => {
      feeds[`x${k}`] = t.dtype === 'int64' ? new ort.Tensor('int64', BigInt64Array.from(t.data as Int32Array, (v) => BigInt(v)), t.shape) : new ort.Tensor('float32', Float32Array.from(t.values), t.shape);
    });
    const yShape = numbers(outShape);
    feeds.g = new ort.Tensor('float32', Float32Array.from(upstreamFor(yShape)), yShape);
    const out = await session.run(feeds);
    return { y: Float64Array.from(out.y.data as Float32Array | BigInt64Array, Number), grads: gradOutputs.map((n) => (n ? (out[n].data as Float32Array) : null)) };
  } finally {
    await session.release();
  }
}

// -- PyTorch, all cases in one python process ----------------------------------------------

interface TorchCase {
  expression: string;
  inputs: { data: number[]; shape: number[]; ids: boolean; mask: boolean; grad: boolean }[];
  upstream: number[];
  training: boolean;
}

const TORCH_SCRIPT = `
import json, sys, math
import torch
import torch.nn as nn
import torch.nn.functional as F
torch.set_default_dtype(torch.float64)
class Module:
    training = True
self = Module()
results = {}
for key, case in json.load(sys.stdin).items():
    self.training = case["training"]
    env = {"torch": torch, "nn": nn, "F": F, "self": self}
    tensors = []
    for k, spec in enumerate(case["inputs"]):
        dtype = torch.int64 if spec["ids"] else torch.bool if spec["mask"] else torch.float64
        t = torch.tensor(spec["data"], dtype=dtype).reshape(spec["shape"])
        if spec["grad"]:
            t.requires_grad_(True)
        env["a%d" % k] = t
        tensors.append(t)
    y = eval(case["expression"], env)
    grads = [None] * len(tensors)
    if y.requires_grad:
        y.backward(torch.tensor(case["upstream"]).reshape(y.shape))
        grads = [t.grad.flatten().tolist() if t.grad is not None else None for t in tensors]
    results[key] = {"y": y.detach().flatten().tolist(), "shape": list(y.shape), "grads": grads}
print(json.dumps(results))
`;

function torchCases(): Record<string, TorchCase> {
  const out: Record<string, TorchCase> = {};
  for (const [name, cases] of Object.entries(CASES) as [OpName, readonly AnyCase[]][]) {
    const def = OPS[name] as unknown as AnyDef;
    for (const c of cases) {
      const inputs = inputsOf(name, c);
      const reached = new Set(gradInputs(def, c));
      const outShape = ruleShape(def, c);
      const expression = def.pytorch(c.inputs.map((_, k) => `a${k}`), c.attrs, { inModule: true, outShape, inShapes: c.inputs.map(symbolicShape), inputDim: () => null });
      out[`${name}/${c.label}`] = {
        expression,
        inputs: inputs.map((t, k) => ({ data: [...t.data], shape: t.shape.slice(), ids: t.dtype === 'int64', mask: isMask(def, c, k), grad: reached.has(k) })),
        upstream: [...upstreamFor(numbers(outShape))],
        training: c.pythonTraining ?? true,
      };
    }
  }
  return out;
}

type TorchResult = { y: number[]; shape: number[]; grads: (number[] | null)[] };

function runTorch(): Record<string, TorchResult> | string {
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return `PyTorch is not importable by ${PYTHON}`;
  const run = spawnSync(PYTHON, ['-c', TORCH_SCRIPT], { input: JSON.stringify(torchCases()), encoding: 'utf8', maxBuffer: 64 << 20 });
  if (run.status !== 0) throw new Error(`torch failed: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

const torch = runTorch();

// -- the tests ----------------------------------------------------------------------------

test('every op of the registry has test cases, and every key is its op\'s name', () => {
  for (const def of ALL_OPS) assert.ok((CASES[def.name as OpName]?.length ?? 0) > 0, `${def.name} has no case in test/ops/cases.ts`);
  for (const [key, def] of Object.entries(OPS)) assert.equal(def.name, key);
});

test('an op has a notation exactly when it is an operator, and no two operators are written alike', () => {
  const written = new Set<string>();
  for (const def of ALL_OPS) {
    assert.equal(def.notation !== undefined, def.surface === 'operator', def.name);
    if (def.notation === undefined) continue;
    const spelling = def.notation.kind === 'subscript' ? 'x[...]' : `${def.notation.kind} ${def.notation.symbol}`;
    assert.ok(!written.has(spelling), `two operators are written ${spelling}`);
    written.add(spelling);
  }
});

for (const [name, cases] of Object.entries(CASES) as [OpName, readonly AnyCase[]][]) {
  const def = OPS[name] as unknown as AnyDef;
  describe(name, () => {
    for (const c of cases) {
      test(`${c.label}: the shape rule gives the TS kernel's shape, symbolic and constant`, () => {
        const inputs = inputsOf(name, c).map(as32);
        const y = runTs(def, c, inputs);
        assert.deepEqual(y.shape, numbers(ruleShape(def, c)));
      });

      test(`${c.label}: TS gradients equal finite differences in float64`, () => {
        const inputs = inputsOf(name, c);
        if (gradInputs(def, c).length === 0) {
          const leaves = inputs.map((t) => new Tensor(t.data, t.shape, t.dtype, t.dtype !== 'int64'));
          assert.equal(runTs(def, c, leaves).requiresGrad, false, 'no gradient flows through it');
          return;
        }
        // Only the inputs a gradient reaches are perturbed: the others (labels, class weights) are constants.
        const reached = gradInputs(def, c);
        const withLeaves = (xs: Tensor[]) => inputs.map((t, k) => (reached.includes(k) ? xs[reached.indexOf(k)] : t));
        const checked = c.gradcheckAttrs === undefined ? c : { ...c, attrs: c.gradcheckAttrs };
        const result = gradcheck((...xs) => runTs(def, checked, withLeaves(xs)), reached.map((k) => inputs[k]));
        assert.ok(result.ok, result.message);
      });

      test(`${c.label}: the ONNX forward and backward equal the TS kernel`, async () => {
        const inputs = inputsOf(name, c);
        if (c.onnxUnsupported) {
          await assert.rejects(onnxForwardBackward(name, def, c, inputs), (error: unknown) => error instanceof OnnxUnsupported && error.construct === c.onnxUnsupported);
          return;
        }
        const ts = tsForwardBackward(def, c, inputs);
        const onnx = await onnxForwardBackward(name, def, c, inputs);
        close(onnx.y, ts.y.data, 1e-5, 1e-4, 'forward');
        ts.grads.forEach((g, k) => {
          if (g) close(onnx.grads[k] ?? [], g, 1e-5, 1e-4, `gradient of input ${k}`);
        });
      });

      test(`${c.label}: the PyTorch form equals torch in value and gradient`, (t) => {
        if (typeof torch === 'string') return t.skip(torch);
        const expected = torch[`${name}/${c.label}`];
        const inputs = inputsOf(name, c);
        const reached = new Set(gradInputs(def, c));
        const leaves = inputs.map((x, k) => (reached.has(k) ? new Tensor(x.values, x.shape, x.dtype, true) : x));
        const y = runTs(def, c, leaves);
        assert.deepEqual(y.shape, expected.shape);
        close(y.data, expected.y, 1e-9, 1e-7, 'forward');
        if (!y.requiresGrad) return;
        backward(y, new Tensor(upstreamFor(y.shape), y.shape, 'float64'));
        leaves.forEach((x, k) => {
          if (reached.has(k)) close(x.grad?.values ?? new Float64Array(x.size), expected.grads[k] ?? [], 1e-9, 1e-7, `gradient of input ${k}`);
        });
      });
    }
  });
}
