// The PyTorch part of the differential test: each case's exported module (engine/src/export/
// pytorch.ts, what `nn export --format pytorch` writes) loads the case's initial weights and
// runs its first batch in eval mode; its output and loss must be the TS engine's. Many
// cases share one python process (importing torch takes seconds).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { close, TOLERANCE, type Failure, type PytorchJob } from './harness.js';

/** Debian's python3 with python3-torch (not the pyenv python on PATH). */
export const PYTHON = '/usr/bin/python3';

/** The environment a user's PyTorch runs with (docs: the OpenBLAS build and glibc's malloc settings). */
const TORCH_ENV = {
  ...process.env,
  LD_LIBRARY_PATH: '/usr/lib/x86_64-linux-gnu/openblas-openmp',
  GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456',
  OMP_NUM_THREADS: '1',
};

/** Why the PyTorch comparison cannot run here, or null when torch imports. */
export function torchMissing(): string | null {
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8', env: TORCH_ENV });
  return probe.status === 0 ? null : `${PYTHON} cannot import torch (python3-torch is not installed)`;
}

const DRIVER = `
import importlib.util, json, sys, traceback
import torch
import torch.nn.functional as F

def loss_of(kind, y, labels, classes):
    if kind == "cross_entropy":
        # Scores [B, T, C] against labels [B, T] (a text set's next characters): one row per position.
        return F.cross_entropy(y.reshape(-1, y.shape[-1]), labels.reshape(-1))
    target = labels.to(torch.float32)
    # Class labels against [B, classes] scores are compared one-hot (docs/language.md, section 9).
    if classes is not None and target.dim() == 1 and y.dim() == 2 and y.shape[1] == classes and classes > 1:
        target = F.one_hot(labels.to(torch.int64), classes).to(torch.float32)
    if target.numel() == y.numel():
        target = target.reshape(y.shape)
    if kind == "mse":
        return F.mse_loss(y, target)
    return F.binary_cross_entropy_with_logits(y, target)

def read(path, dtype, shape):
    return torch.frombuffer(bytearray(open(path, "rb").read()), dtype=dtype).reshape(shape)

results = []
for job in json.load(open(sys.argv[1])):
    try:
        spec = importlib.util.spec_from_file_location("generated_model", job["dir"] + "/model.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        model = module.load_model(job["dir"] + "/weights.safetensors")
        model.eval()
        x = read(job["dir"] + "/input.bin", torch.int64 if job["inputDtype"] == "int64" else torch.float32, job["inputShape"])
        labels = read(job["dir"] + "/labels.bin", torch.int64 if job["loss"] == "cross_entropy" else torch.float32, job["labelShape"])
        with torch.no_grad():
            y = model(x)
            loss = loss_of(job["loss"], y, labels, job["classes"])
        open(job["dir"] + "/torch_output.bin", "wb").write(y.contiguous().to(torch.float32).numpy().tobytes())
        result = {"shape": list(y.shape), "loss": float(loss)}
        # The same module in float64: PyTorch's own round-off, to judge a case that magnifies it.
        try:
            with torch.no_grad():
                y64 = model.double()(x if x.dtype == torch.int64 else x.double())
                result["loss64"] = float(loss_of(job["loss"], y64, labels, job["classes"]))
            open(job["dir"] + "/torch_output64.bin", "wb").write(y64.contiguous().numpy().tobytes())
        except Exception:
            pass
        results.append(result)
    except Exception:
        results.append({"error": traceback.format_exc()[-1500:]})
json.dump(results, open(sys.argv[2], "w"))
`;

/** Runs every job in one python process; returns each job's failures (empty when PyTorch agrees). */
export function runPytorchJobs(jobs: readonly PytorchJob[]): Failure[][] {
  if (jobs.length === 0) return [];
  const dir = mkdtempSync(join(tmpdir(), 'nn-sound-torch-'));
  try {
    const spec = jobs.map((j) => ({ dir: j.dir, loss: j.loss, classes: j.classes, inputDtype: j.inputDtype, inputShape: j.inputShape, labelShape: j.labelShape }));
    writeFileSync(join(dir, 'jobs.json'), JSON.stringify(spec));
    writeFileSync(join(dir, 'driver.py'), DRIVER);
    const run = spawnSync(PYTHON, [join(dir, 'driver.py'), join(dir, 'jobs.json'), join(dir, 'results.json')], { encoding: 'utf8', env: TORCH_ENV, maxBuffer: 1 << 26 });
    if (run.status !== 0) return jobs.map(() => [{ stage: 'pytorch', message: `the python driver failed: ${run.stderr.slice(-1500)}` }]);
    const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as (TorchResult | { error: string })[];
    return jobs.map((job, i) => compare(job, results[i]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface TorchResult {
  shape: number[];
  loss: number;
  /** The loss of the module run in float64, when it runs so. */
  loss64?: number;
}

/**
 * Where the TS engine and PyTorch's float32 differ, the TS engine still agrees when it is
 * within the tolerance of PyTorch's own float64 run: a layer norm of a row whose values are
 * all equal gives PyTorch -5.8e-6 for 0, its round-off times 1/√eps.
 */
function compare(job: PytorchJob, result: TorchResult | { error: string }): Failure[] {
  if ('error' in result) return [{ stage: 'pytorch', message: `the exported module fails in PyTorch:\n${result.error}` }];
  const failures: Failure[] = [];
  if (result.shape.join() !== job.outputShape.join()) {
    failures.push({ stage: 'pytorch', message: `PyTorch's output has shape [${result.shape}], the TS engine's [${job.outputShape}]` });
    return failures;
  }
  if (job.argmaxTie) return failures;
  const bytes = readFileSync(join(job.dir, 'torch_output.bin'));
  const output = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const path64 = join(job.dir, 'torch_output64.bin');
  const bytes64 = existsSync(path64) ? readFileSync(path64) : null;
  const output64 = bytes64 && new Float64Array(bytes64.buffer.slice(bytes64.byteOffset, bytes64.byteOffset + bytes64.byteLength));
  const error = relativeDifference(output, job.output);
  if (!(error <= TOLERANCE) && !(output64 && relativeDifference(output64, job.output) <= TOLERANCE)) {
    failures.push({ stage: 'pytorch', message: `PyTorch's output differs from the TS engine's by ${error.toExponential(2)} (relative)` });
  }
  if (job.lossValue !== null && !close(result.loss, job.lossValue) && !(result.loss64 !== undefined && close(result.loss64, job.lossValue))) {
    failures.push({ stage: 'pytorch', message: `PyTorch's ${job.loss} loss is ${result.loss}, the TS engine's ${job.lossValue}` });
  }
  return failures;
}

/** The largest difference between two outputs, relative to the TS engine's largest value (at least 1e-6). */
function relativeDifference(output: ArrayLike<number>, ts: ArrayLike<number>): number {
  let diff = 0;
  let scale = 1e-6;
  for (let i = 0; i < output.length; i++) {
    diff = Math.max(diff, Math.abs(output[i] - ts[i]));
    scale = Math.max(scale, Math.abs(ts[i]));
  }
  return diff / scale;
}
