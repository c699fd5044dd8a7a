// ONNX training-path benchmark: training steps per second at batch 64 (forward, backward,
// optimizer update) for the MLP 784-256-128-10 and the small CNN, on the ONNX path (through
// OnnxTrainer.run, as the training loop calls it: several steps per session run), the TS
// engine and PyTorch CPU (Debian's python3-torch with OpenBLAS, same thread count, same
// model, batch and optimizer), printed as ratios. Two settings: one thread, timed in CPU
// seconds of the process (other jobs on a shared machine do not count), and every core,
// timed in wall seconds (what a user waits for). Each number is the best of ROUNDS rounds
// (the rounds alternate between the back ends, so a burst of load hits all of them). Both
// sides run with the same glibc malloc thresholds (large buffers are kept instead of being
// mapped and unmapped every step).
// Run: npx tsx bench/onnx/run.ts [rounds]

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FnIR, ModelIR, OptimizerSpec } from '../../engine/src/lang/api.js';
import { checkProgram } from '../../engine/src/lang/program.js';
import { lowerModel } from '../../engine/src/backend-ts/lower.js';
import { Rng } from '../../engine/src/random.js';
import { Tensor } from '../../engine/src/tensor/tensor.js';
import * as E from '../../engine/src/index.js';
import { OnnxTrainer, type OnnxTrainerOptions } from '../../engine/src/backend-onnx/session.js';
import { exportPytorch } from '../../engine/src/export/pytorch.js';
import { availableCores } from '../../engine/src/kernels/threads.js';
import { kernelThreadsStarted, setKernelThreads } from '../../engine/src/kernels/pool.js';

const BATCH = 64;
const MIN_SECONDS = 1.5;
const ROUNDS = Number(process.argv[2] ?? 3);

/** A thread count and the clock it is timed with: CPU seconds on one thread, wall seconds on all cores. */
interface Setting {
  threads: number;
  clock: 'cpu' | 'wall';
}
const SETTINGS: Setting[] = [{ threads: 1, clock: 'cpu' }, { threads: availableCores(), clock: 'wall' }];
const MALLOC_TUNABLES = 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456';

const MODELS = {
  'MLP 784-256-128-10': `model Mlp(x: [B, 784]) -> [B, 10] {
  fc1 = Linear(784, 256)
  fc2 = Linear(256, 128)
  fc3 = Linear(128, 10)
  return fc3(relu(fc2(relu(fc1(x)))))
}`,
  'CNN conv8-pool-conv16-pool-fc10': `model Cnn(x: [B, 1, 28, 28]) -> [B, 10] {
  conv1 = Conv2d(1, 8, 3)
  conv2 = Conv2d(8, 16, 3)
  fc    = Linear(400, 10)
  h = max_pool2d(relu(conv1(x)), 2)
  h = max_pool2d(relu(conv2(h)), 2)
  return fc(flatten(h, 1))
}`,
};

const OPTIMIZERS: Record<string, Exclude<OptimizerSpec, { kind: 'RMSprop' }>> = {
  SGD: { kind: 'SGD', lr: 0.01, momentum: 0.9, weightDecay: 0 },
  Adam: { kind: 'Adam', lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 },
};

function cpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

const wallSeconds = (): number => performance.now() / 1000;

/**
 * Steps per second of `run` (which takes some training steps and returns how many) on
 * `clock` after `warmUp` calls, over at least MIN_SECONDS.
 */
async function stepsPerSecond(run: () => Promise<number>, clock: Setting['clock'], warmUp = 20): Promise<number> {
  const now = clock === 'cpu' ? cpuSeconds : wallSeconds;
  for (let i = 0; i < warmUp; i++) await run();
  let steps = 0;
  const start = now();
  while (now() - start < MIN_SECONDS) steps += await run();
  return steps / (now() - start);
}

function batchFor(model: ModelIR): { x: Float32Array; shape: number[]; labels: Int32Array } {
  const rng = new Rng(1);
  const shape = model.graph.values[model.graph.inputs[0]].shape.map((d) => d.constant() ?? BATCH);
  const x = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal());
  const labels = Int32Array.from({ length: BATCH }, () => Math.floor(rng.next() * 10));
  return { x, shape, labels };
}

function initialWeights(model: ModelIR, fns: ReadonlyMap<string, FnIR>): Map<string, Float32Array> {
  const lowered = lowerModel(model, fns, 0, () => 1);
  return new Map([...lowered.params, ...lowered.buffers].map((p) => [p.name, Float32Array.from(p.tensor.values)]));
}

/** The steps per session run the ONNX trainer chose, by model. */
const stepsPerRun = new Map<string, number>();

async function benchOnnx(model: ModelIR, fns: ReadonlyMap<string, FnIR>, optimizer: OptimizerSpec, stats: OnnxTrainerOptions, setting: Setting): Promise<number> {
  const options = { threads: setting.threads, dropout: false, ...stats };
  const trainer = await OnnxTrainer.create(model, fns, { loss: 'cross_entropy', optimizer }, initialWeights(model, fns), options);
  const { x, shape, labels } = batchFor(model);
  // As the training loop does: stepsPerRun batches per call, one session run over them.
  const batch = { inputs: { data: x, shape }, labels: { data: labels, shape: [BATCH] } };
  const batches = Array.from({ length: trainer.stepsPerRun }, () => batch);
  stepsPerRun.set(model.name, trainer.stepsPerRun);
  const result = await stepsPerSecond(async () => (await trainer.run(batches)).length, setting.clock, 3);
  await trainer.release();
  return result;
}

async function benchTs(model: ModelIR, fns: ReadonlyMap<string, FnIR>, optimizer: OptimizerSpec, setting: Setting): Promise<number> {
  // The kernel threads are on before the model is built, as the training loop does.
  setKernelThreads(setting.threads);
  await kernelThreadsStarted();
  const lowered = lowerModel(model, fns, 0, () => 1);
  const opt = E.optimizerFromSpec(optimizer, lowered.params.map((p) => p.tensor));
  const { x, shape, labels } = batchFor(model);
  const input = new Tensor(x, shape, 'float32');
  const target = new Tensor(labels, [BATCH], 'int64');
  const mode = { dropout: false, batchNormTraining: true, rng: new Rng(0), detectNonFinite: false };
  const result = await stepsPerSecond(async () => {
    opt.zeroGrad();
    const loss = E.crossEntropy(lowered.forward([input], mode), target);
    loss.backward();
    opt.step();
    return 1;
  }, setting.clock, 5);
  setKernelThreads(1);
  return result;
}

/** The PyTorch side: the exported module, the same optimizer, one fixed batch. */
function pytorchScript(models: { key: string; module: string; className: string; shape: number[] }[], setting: Setting): string {
  const optimizers = Object.entries(OPTIMIZERS).map(([name, o]) => `"${name}": ${o.kind === 'SGD'
    ? `lambda p: torch.optim.SGD(p, lr=${o.lr}, momentum=${o.momentum})`
    : `lambda p: torch.optim.Adam(p, lr=${o.lr}, betas=(${o.beta1}, ${o.beta2}), eps=${o.eps})`}`).join(', ');
  return `
import importlib.util, json, sys, time
import torch
import torch.nn.functional as F
torch.set_num_threads(${setting.threads})
clock = time.${setting.clock === 'cpu' ? 'process_time' : 'perf_counter'}
torch.manual_seed(0)
optimizers = {${optimizers}}
results = {}
for key, path, class_name, shape in ${JSON.stringify(models.map((m) => [m.key, m.module, m.className, m.shape]))}:
    spec = importlib.util.spec_from_file_location(class_name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for opt_name, make in optimizers.items():
        model = getattr(module, class_name)()
        for p in model.parameters():
            torch.nn.init.uniform_(p, -0.05, 0.05)
        opt = make(model.parameters())
        x = torch.randn(*shape)
        y = torch.randint(0, 10, (${BATCH},))
        def step():
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
        for _ in range(20):
            step()
        steps = 0
        start = clock()
        while clock() - start < ${MIN_SECONDS}:
            step()
            steps += 1
        results[key + "|" + opt_name] = steps / (clock() - start)
print(json.dumps(results))
`;
}

function benchPytorch(entries: { key: string; model: ModelIR; fns: ReadonlyMap<string, FnIR> }[], setting: Setting): Record<string, number> | string {
  const dir = mkdtempSync(join(tmpdir(), 'nn-bench-'));
  try {
    const models = entries.map(({ key, model, fns }, i) => {
      const module = join(dir, `m${i}.py`);
      writeFileSync(module, exportPytorch(model, fns, 'bench'));
      return { key, module, className: model.name, shape: batchFor(model).shape };
    });
    writeFileSync(join(dir, 'bench.py'), pytorchScript(models, setting));
    const result = spawnSync('/usr/bin/python3', [join(dir, 'bench.py')], {
      encoding: 'utf8',
      env: {
        ...process.env,
        LD_LIBRARY_PATH: '/usr/lib/x86_64-linux-gnu/openblas-openmp',
        GLIBC_TUNABLES: MALLOC_TUNABLES,
        OMP_NUM_THREADS: String(setting.threads),
      },
    });
    if (result.status !== 0) return `PyTorch not run: ${result.stderr.trim().split('\n').pop()}`;
    return JSON.parse(result.stdout.trim().split('\n').pop() as string) as Record<string, number>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const entries = Object.entries(MODELS).map(([key, text]) => {
    const check = checkProgram(text);
    const model = [...check.irs.values()][0];
    if (!model) throw new Error(`${key}: ${check.diagnostics.map((d) => d.message).join('; ')}`);
    return { key, model, fns: check.fnIrs };
  });
  const variants: [string, OnnxTrainerOptions][] = [['every step', { statsEvery: 1 }], ['sampled (one step per run)', { statsAt: 'sampled' }], ['no stats', { stats: false }]];
  for (const setting of SETTINGS) {
    const label = `${setting.threads} thread(s), ${setting.clock === 'cpu' ? 'CPU' : 'wall'} time`;
    console.log(`\ntraining steps/s at batch ${BATCH}, ${label}; ONNX with the per-parameter gradient statistics every step, on the last step of each session run (as the training loop runs it), and without`);
    const best = new Map<string, number>();
    const keep = (key: string, value: number): void => { best.set(key, Math.max(best.get(key) ?? 0, value)); };
    for (let round = 0; round < ROUNDS; round++) {
      const torch = benchPytorch(entries, setting);
      if (typeof torch === 'string') console.log(torch);
      else for (const [key, value] of Object.entries(torch)) keep(`pytorch|${key}`, value);
      for (const { key, model, fns } of entries) {
        for (const [optName, optimizer] of Object.entries(OPTIMIZERS)) {
          for (const [variant, stats] of variants) keep(`onnx ${variant}|${key}|${optName}`, await benchOnnx(model, fns, optimizer, stats, setting));
          keep(`ts|${key}|${optName}`, await benchTs(model, fns, optimizer, setting));
        }
      }
    }
    const ratio = (a: number, b: number): string => (Number.isFinite(a / b) && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');
    const n = (x: number | undefined): string => (x === undefined ? 'n/a' : x.toFixed(0)).padStart(4);
    console.log(`onnx: gradient statistics every step / at each run's end (the training loop) / none; steps per session run: ${[...stepsPerRun].map(([m, k]) => `${m} ${k}`).join(', ')}`);
    for (const { key } of entries) {
      for (const optName of Object.keys(OPTIMIZERS)) {
        const [every, sampled, none] = variants.map(([variant]) => best.get(`onnx ${variant}|${key}|${optName}`) ?? NaN);
        const ts = best.get(`ts|${key}|${optName}`) ?? NaN;
        const pt = best.get(`pytorch|${key}|${optName}`) ?? NaN;
        console.log(`${`${key} ${optName}`.padEnd(38)} onnx ${n(every)} / ${n(sampled)} / ${n(none)}  ts ${n(ts)}  pytorch ${n(pt)}   onnx/pytorch ${ratio(every, pt)} / ${ratio(sampled, pt)} / ${ratio(none, pt)}  onnx/ts ${ratio(every, ts)}`);
      }
    }
  }
}

if (process.env.GLIBC_TUNABLES !== MALLOC_TUNABLES) {
  // The tunables are read at process start: run this script again with them.
  const again = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, GLIBC_TUNABLES: MALLOC_TUNABLES } });
  process.exitCode = again.status ?? 1;
} else {
  void main();
}
