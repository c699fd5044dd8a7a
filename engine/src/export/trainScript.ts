// The training side of `nn export --format pytorch --train`: train.py, a PyTorch loop that runs
// a `train` block as `nn train` does (its batches in the same order, loss, optimizer, schedule,
// clipping, frozen parameters, early stopping), in one process or under torchrun with
// DistributedDataParallel, and the data and initial weights it reads, so its losses are nn train's.

import type { OpDef } from '../ops/def.js';
import { OPS } from '../ops/registry.js';
import { pyFloat } from '../ops/unary.js';
import { lossAttrs } from '../lang/trainCatalogue.js';
import type { TargetForm } from '../lang/targets.js';
import { Dim, type Shape } from '../shape/dim.js';
import { epochOrder, makeBatch } from '../core/batches.js';
import { storedTensor, type SafetensorsFile, type StoredTensor } from '../core/safetensors.js';
import type { Split } from '../data/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { batchLayout, evaluatedSplit } from '../run/loop.js';
import { EVAL_BATCH } from '../run/evaluate.js';
import type { Prepared } from '../run/prepare.js';

/** The files written beside the exported module. */
export const TRAIN_SCRIPT = 'train.py';
export const TRAIN_DATA = 'train_data.safetensors';
export const INIT_WEIGHTS = 'init.safetensors';
/** Where train.py writes the weights it ends with (`nn train --init` and `nn export --weights` read them). */
export const TRAINED_WEIGHTS = 'trained.safetensors';

function stored(t: Tensor): StoredTensor {
  return storedTensor(t.shape, t.dtype === 'int64' ? BigInt64Array.from(t.data, (v) => BigInt(v)) : (t.data as Float32Array));
}

/** A whole split as the model's inputs and the loss's targets (the tensors of one batch of every sample, in file order). */
function splitTensors(prepared: Prepared, split: Split): { inputs: StoredTensor; targets: StoredTensor } {
  const all = makeBatch(split, epochOrder(split.count, 0, 0, false), 0, split.count, batchLayout(prepared));
  return { inputs: stored(all.input), targets: stored(all.target) };
}

/**
 * What train.py trains on: the training split (`inputs`, `targets`), the sample order of each of
 * the block's epochs as nn train shuffles them (`order`, [epochs, N]), and the split evaluated
 * after each epoch (`eval_inputs`, `eval_targets`; absent when that is the training split).
 */
export function trainData(prepared: Prepared): SafetensorsFile {
  const { train: spec, trainSplit, evalSplit } = prepared;
  const order = new BigInt64Array(spec.epochs * trainSplit.count);
  for (let epoch = 0; epoch < spec.epochs; epoch++) {
    epochOrder(trainSplit.count, spec.seed, epoch, true).forEach((sample, i) => {
      order[epoch * trainSplit.count + i] = BigInt(sample);
    });
  }
  const training = splitTensors(prepared, trainSplit);
  const tensors = new Map<string, StoredTensor>([
    ['inputs', training.inputs],
    ['targets', training.targets],
    ['order', storedTensor([spec.epochs, trainSplit.count], order)],
  ]);
  if (evalSplit !== null) {
    const evaluated = splitTensors(prepared, evalSplit);
    tensors.set('eval_inputs', evaluated.inputs);
    tensors.set('eval_targets', evaluated.targets);
  }
  return { tensors, metadata: { format: 'nn-studio-train-data-1', model: prepared.model.name, seed: String(spec.seed), batch: String(spec.batch) } };
}

/** The weights nn train starts from (the block's seeded initialization, or what was loaded into the lowered model), by state_dict name. */
export function initialWeights(prepared: Prepared): SafetensorsFile {
  const { lowered } = prepared;
  const tensors = new Map([...lowered.params, ...lowered.buffers].map(({ name, tensor }) => [name, stored(tensor)]));
  return { tensors, metadata: { model: lowered.name, seed: String(prepared.train.seed) } };
}

/** The target's shape in the loss's form, with the output's batch dim. */
function targetShape(form: TargetForm, batch: Dim): Shape {
  if (form.kind === 'one-hot') return [batch, Dim.of(form.classes)];
  return [batch, ...form.shape.map((d) => Dim.of(d))];
}

/** The loss of `output` against `target` in Python, by the loss op's PyTorch form. */
function lossExpression(prepared: Prepared): string {
  const { train: spec, model, target } = prepared;
  const outShape = model.graph.values[model.graph.output].shape;
  const def = OPS[spec.loss] as unknown as OpDef<object>;
  const ctx = { inModule: false, outShape: [], inShapes: [outShape, targetShape(target, outShape[0])], inputDim: () => null };
  const weight = spec.lossWeight ? [`torch.tensor([${spec.lossWeight.map(pyFloat).join(', ')}], device=output.device)`] : [];
  return def.pytorch(['output', 'target', ...weight], lossAttrs(spec.loss, spec.lossArgs), ctx);
}

/** Correct predictions in a batch, counted as backend-ts/objective.ts's correctCount counts them; null for a loss without classes. */
function correctExpression(prepared: Prepared): string | null {
  const form = prepared.target;
  switch (form.kind) {
    case 'class-ids': {
      const positions = form.shape.reduce((a, b) => a * b, 1);
      const right = '(output.reshape(target.numel(), -1).argmax(1) == target.reshape(-1)).sum().item()';
      return positions === 1 ? right : `${right} / ${positions}`;
    }
    case 'one-hot':
      return '(output.reshape(output.shape[0], -1).argmax(1) == target.argmax(1)).sum().item()';
    case 'values':
      return OPS[prepared.train.loss].binaryLogits ? '((output > 0).to(target.dtype) == target).sum().item() / (output.numel() / output.shape[0])' : null;
  }
}

const py = (text: string): string => JSON.stringify(text);

/**
 * The source of train.py for the prepared block; `moduleFile` is the exported module's file name
 * (beside train.py), `source` the `.nn` file's.
 */
export function trainScript(prepared: Prepared, moduleFile: string, source: string): string {
  const { train: spec, model } = prepared;
  const correct = correctExpression(prepared);
  const patience = spec.controls?.earlyStopping ?? null;
  return `# Trains ${model.name} as the \`train\` block of ${source} does, in PyTorch: generated by NN Studio.
# \`python3 train.py\` trains in one process on the batches \`nn train\` takes, in the same order,
# from the same initial weights (${TRAIN_DATA}, ${INIT_WEIGHTS}), so its losses are nn train's
# to float rounding. \`torchrun --nproc_per_node=N train.py\` trains with DistributedDataParallel
# (NCCL on GPUs, gloo on CPU): each rank takes 1/N of every batch, and DDP's averaged gradient
# is the whole batch's. Dropout draws its masks from torch's generator, not nn train's; under
# torchrun batch norm normalizes by each rank's share of a batch, as DDP does.
import argparse
import importlib.util
import json
import os
import struct

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(${py(model.name)}, os.path.join(HERE, ${py(moduleFile)}))
module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(module)

EPOCHS = ${spec.epochs}
BATCH = ${spec.batch}
SEED = ${spec.seed}
EVAL_BATCH = ${EVAL_BATCH}
EVALUATED_ON = ${py(evaluatedSplit(prepared))}
PATIENCE = ${patience ?? 'None'}


def loss_of(output, target):
    """The block's loss, \`${spec.loss}\`."""
    return ${lossExpression(prepared)}


def correct_of(output, target):
    """Correct predictions in a batch, as nn train counts them (None: the loss has no classes)."""
    return ${correct ?? 'None'}


def save_safetensors(path, tensors):
    """Writes float32 tensors as .safetensors, atomically (nn train --init and nn export --weights read it)."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        data = tensors[name].detach().to("cpu", torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header)
    text += " " * ((8 - (8 + len(text)) % 8) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text.encode("utf8"))
        for blob in blobs:
            f.write(blob)
        f.flush()
        os.fsync(f.fileno())
    os.replace(path + ".tmp", path)


def weights_of(model):
    return {name: t for name, t in model.state_dict().items() if not name.endswith("num_batches_tracked")}


def evaluate(model, inputs, targets, device):
    """Mean loss and accuracy over a split in eval mode, in file order, as nn train evaluates."""
    model.eval()
    loss_sum, correct = 0.0, 0.0
    with torch.no_grad():
        for start in range(0, inputs.shape[0], EVAL_BATCH):
            output = model(inputs[start:start + EVAL_BATCH].to(device))
            target = targets[start:start + EVAL_BATCH].to(device)
            loss_sum += loss_of(output, target).item() * output.shape[0]
            right = correct_of(output, target)
            correct = None if right is None or correct is None else correct + right
    model.train()
    return loss_sum / inputs.shape[0], None if correct is None else correct / inputs.shape[0]


def main():
    parser = argparse.ArgumentParser(description="Train ${model.name} as the train block of ${source} does; under torchrun, with DistributedDataParallel.")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="epochs to train (at most the block's, whose sample orders the data file holds)")
    parser.add_argument("--data", default=os.path.join(HERE, ${py(TRAIN_DATA)}))
    parser.add_argument("--init", default=os.path.join(HERE, ${py(INIT_WEIGHTS)}), help="initial weights (.safetensors)")
    parser.add_argument("--save", default=os.path.join(HERE, ${py(TRAINED_WEIGHTS)}), help="where the final weights go (with early stopping, the best epoch's)")
    parser.add_argument("--json", action="store_true", help="one JSON object per step and epoch, as nn train --json prints")
    args = parser.parse_args()

    # torchrun sets WORLD_SIZE, RANK and LOCAL_RANK; without it this is one plain process.
    distributed = "WORLD_SIZE" in os.environ
    if torch.cuda.is_available():
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if distributed:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    torch.manual_seed(SEED + rank)

    data = module.load_safetensors(args.data)
    inputs, targets, orders = data["inputs"], data["targets"], data["order"]
    eval_inputs, eval_targets = data.get("eval_inputs", inputs), data.get("eval_targets", targets)
    if not 1 <= args.epochs <= orders.shape[0]:
        parser.error(f"--epochs must be between 1 and {orders.shape[0]} ({args.data} holds the sample order of {orders.shape[0]} epochs)")
    steps_per_epoch = -(-inputs.shape[0] // BATCH)

    model = module.load_model(args.init).to(device)
    # Frozen parameters stop requiring gradients here, before DDP registers the ones that do.
    optimizer, scheduler = module.make_training(model, args.epochs * steps_per_epoch)
    trained = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None) if distributed else model

    def emit(event, text=None):
        """Rank 0 prints the event as JSON with --json, otherwise its text (steps have none)."""
        if rank == 0 and (args.json or text is not None):
            print(json.dumps(event) if args.json else text, flush=True)

    step, accuracy, best = 0, None, None
    for epoch in range(args.epochs):
        loss_sum = 0.0
        for b in range(steps_per_epoch):
            batch = orders[epoch, b * BATCH:(b + 1) * BATCH]
            mine = torch.tensor_split(batch, world)[rank]
            share = len(mine) / len(batch)
            if len(mine) == 0:
                mine = batch[:1]  # every rank joins each gradient all-reduce; this one adds nothing
            output = trained(inputs[mine].to(device))
            loss = loss_of(output, targets[mine].to(device))
            optimizer.zero_grad()
            # DDP averages the ranks' gradients: weighting each rank's mean loss by its share
            # of the batch times N makes that average the gradient of the whole batch's mean loss.
            (loss * (share * world)).backward()
            module.clip_gradients(model)
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            batch_loss = loss.detach() * share
            if distributed:
                dist.all_reduce(batch_loss)
            step += 1
            loss_sum += batch_loss.item()
            emit({"type": "step", "epoch": epoch, "step": step, "loss": batch_loss.item()})
        stop = torch.zeros(1, device=device)
        if rank == 0:
            test_loss, accuracy = evaluate(model, eval_inputs, eval_targets, device)
            train_loss = loss_sum / steps_per_epoch
            shown = "" if accuracy is None else f"  accuracy {accuracy:.2%}"
            emit({"type": "epoch", "epoch": epoch, "step": step, "trainLoss": train_loss, "testLoss": test_loss, "testAccuracy": accuracy, "evaluatedOn": EVALUATED_ON},
                 f"epoch {epoch + 1}/{args.epochs}  train loss {train_loss:.4f}  {EVALUATED_ON} loss {test_loss:.4f}{shown}")
            if PATIENCE is not None:
                # Early stopping keeps the best epoch's weights, as nn train's best.safetensors does.
                if best is None or test_loss < best[1]:
                    best = (epoch, test_loss)
                    save_safetensors(args.save, weights_of(model))
                elif epoch - best[0] >= PATIENCE and epoch + 1 < args.epochs:
                    stop[0] = 1
        if distributed:
            dist.broadcast(stop, 0)
        if stop.item() > 0:
            break
    if rank == 0:
        if PATIENCE is None:
            save_safetensors(args.save, weights_of(model))
        emit({"type": "end", "step": step, "testAccuracy": accuracy, "saved": args.save}, f"trained {step} steps; weights saved to {args.save}")
    if distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
`;
}
