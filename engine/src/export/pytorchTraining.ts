// The training side of the PyTorch export: a `train` block's optimizer (with its no-decay
// parameter group), learning-rate schedule (torch.optim.lr_scheduler, warmup through SequentialLR),
// frozen parameters, gradient clipping and accumulation as Python beside the exported module, so
// a PyTorch loop steps as `nn train` does.

import type { OptimizerSpec, ScheduleSpec, TrainIR } from '../lang/api.js';

/** A number as Python reads it back exactly. */
function py(x: number): string {
  return Number.isInteger(x) ? `${x}.0` : String(x);
}

/** The optimizer over `params`, a Python expression: the parameters or their groups. */
function optimizerLine(spec: OptimizerSpec, params: string): string {
  if (spec.kind === 'SGD') return `torch.optim.SGD(${params}, lr=${py(spec.lr)}, momentum=${py(spec.momentum)}, weight_decay=${py(spec.weightDecay)}${spec.nesterov ? ', nesterov=True' : ''})`;
  if (spec.kind === 'RMSprop') return `torch.optim.RMSprop(${params}, lr=${py(spec.lr)}, alpha=${py(spec.alpha)}, eps=${py(spec.eps)}, weight_decay=${py(spec.weightDecay)}, momentum=${py(spec.momentum)})`;
  return `torch.optim.${spec.kind}(${params}, lr=${py(spec.lr)}, betas=(${py(spec.beta1)}, ${py(spec.beta2)}), eps=${py(spec.eps)}, weight_decay=${py(spec.weightDecay)})`;
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
    case 'one_cycle':
      return `${lr}.OneCycleLR(optimizer, max_lr=[group["lr"] for group in optimizer.param_groups], total_steps=${steps}, pct_start=${py(schedule.pctStart)}, anneal_strategy="cos", cycle_momentum=False, div_factor=${py(schedule.divFactor)}, final_div_factor=${py(schedule.finalDivFactor)})`;
  }
}

/**
 * `ACCUMULATE`, `make_training(model, total_steps)` and `clip_gradients(model)` for the block;
 * `total_steps` counts optimizer steps (one every ACCUMULATE batches).
 */
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
  const noDecay = controls?.noDecay ?? [];
  const clips = [
    ...(controls?.clipGradNorm != null ? [`    torch.nn.utils.clip_grad_norm_(model.parameters(), ${py(controls.clipGradNorm)})`] : []),
    ...(controls?.clipGradValue != null ? [`    torch.nn.utils.clip_grad_value_(model.parameters(), ${py(controls.clipGradValue)})`] : []),
  ];
  const names = (list: readonly string[]): string => `{${list.map((name) => JSON.stringify(name)).join(', ')}}`;
  return [
    '# Batches per optimizer step: (loss / n).backward() on each, n the batches of the step',
    "# (ACCUMULATE, or those left at an epoch's end), then clip_gradients, optimizer.step(), scheduler.step().",
    `ACCUMULATE = ${controls?.accumulate ?? 1}`,
    '',
    '',
    'def make_training(model, total_steps):',
    '    """The optimizer and learning-rate scheduler (None: a constant rate) of the `train` block; call scheduler.step() after every optimizer.step()."""',
    ...(frozen.length > 0 ? [
      `    frozen = ${names(frozen)}`,
      '    for name, parameter in model.named_parameters():',
      '        if name in frozen:',
      '            parameter.requires_grad_(False)',
    ] : []),
    ...(noDecay.length > 0 ? [
      `    no_decay = ${names(noDecay)}`,
      '    groups = [',
      '        {"params": [p for name, p in model.named_parameters() if name not in no_decay]},',
      '        {"params": [p for name, p in model.named_parameters() if name in no_decay], "weight_decay": 0.0},',
      '    ]',
      `    optimizer = ${optimizerLine(train.optimizer, 'groups')}`,
    ] : [`    optimizer = ${optimizerLine(train.optimizer, 'model.parameters()')}`]),
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
