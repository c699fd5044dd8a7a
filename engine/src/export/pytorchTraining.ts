// The training side of the PyTorch export: a `train` block's optimizer, learning-rate
// schedule (torch.optim.lr_scheduler, warmup through SequentialLR), frozen parameters and gradient clipping
// as Python functions beside the exported module, so a PyTorch loop steps as `nn train` does.

import type { OptimizerSpec, ScheduleSpec, TrainIR } from '../lang/api.js';

/** A number as Python reads it back exactly. */
function py(x: number): string {
  return Number.isInteger(x) ? `${x}.0` : String(x);
}

function optimizerLine(spec: OptimizerSpec): string {
  if (spec.kind === 'SGD') return `torch.optim.SGD(model.parameters(), lr=${py(spec.lr)}, momentum=${py(spec.momentum)}, weight_decay=${py(spec.weightDecay)})`;
  return `torch.optim.${spec.kind}(model.parameters(), lr=${py(spec.lr)}, betas=(${py(spec.beta1)}, ${py(spec.beta2)}), eps=${py(spec.eps)}, weight_decay=${py(spec.weightDecay)})`;
}

/** The scheduler expression over `optimizer`; `steps` is the Python expression of the steps it governs. */
function schedulerOf(schedule: ScheduleSpec, steps: string): string {
  const lr = 'torch.optim.lr_scheduler';
  switch (schedule.kind) {
    case 'step':
      return `${lr}.StepLR(optimizer, step_size=${schedule.stepSize}, gamma=${py(schedule.gamma)})`;
    case 'cosine':
      return `${lr}.CosineAnnealingLR(optimizer, T_max=${schedule.tMax ?? `max(1, ${steps})`}, eta_min=${py(schedule.etaMin)})`;
    case 'linear':
      return `${lr}.LinearLR(optimizer, start_factor=${py(schedule.startFactor)}, end_factor=${py(schedule.endFactor)}, total_iters=${schedule.totalIters})`;
  }
}

/** `make_training(model, total_steps)` and `clip_gradients(model)` for the block. */
export function pytorchTraining(train: TrainIR): string[] {
  const controls = train.controls;
  const warmup = controls?.warmup ?? 0;
  const schedule = controls?.schedule ?? null;
  const main = schedule ? schedulerOf(schedule, warmup > 0 ? `total_steps - ${warmup}` : 'total_steps') : null;
  const warmupLine = `torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=${py(1 / warmup)}, end_factor=1.0, total_iters=${warmup})`;
  const scheduler = warmup > 0
    ? main ? `torch.optim.lr_scheduler.SequentialLR(optimizer, [${warmupLine}, ${main}], milestones=[${warmup}])` : warmupLine
    : main ?? 'None';
  const frozen = controls?.frozen ?? [];
  const clips = [
    ...(controls?.clipGradNorm != null ? [`    torch.nn.utils.clip_grad_norm_(model.parameters(), ${py(controls.clipGradNorm)})`] : []),
    ...(controls?.clipGradValue != null ? [`    torch.nn.utils.clip_grad_value_(model.parameters(), ${py(controls.clipGradValue)})`] : []),
  ];
  return [
    'def make_training(model, total_steps):',
    '    """The optimizer and learning-rate scheduler (None: a constant rate) of the `train` block; call scheduler.step() after every optimizer.step()."""',
    ...(frozen.length > 0 ? [
      `    frozen = {${frozen.map((name) => JSON.stringify(name)).join(', ')}}`,
      '    for name, parameter in model.named_parameters():',
      '        if name in frozen:',
      '            parameter.requires_grad_(False)',
    ] : []),
    `    optimizer = ${optimizerLine(train.optimizer)}`,
    `    scheduler = ${scheduler}`,
    '    return optimizer, scheduler',
    '',
    '',
    'def clip_gradients(model):',
    '    """The `train` block\'s gradient clipping, between loss.backward() and optimizer.step()."""',
    ...(clips.length > 0 ? clips : ['    pass']),
    '',
  ];
}
