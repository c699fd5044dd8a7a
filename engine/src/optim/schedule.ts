// The learning rate of each optimizer step under a `train` block's schedule and warmup, in the
// closed forms of torch.optim.lr_scheduler (StepLR, CosineAnnealingLR, LinearLR, OneCycleLR; a
// warmup is LinearLR(start_factor = 1/N, total_iters = N) before the schedule, as SequentialLR runs them).

import type { ScheduleSpec, TrainControls } from '../lang/api.js';

/** The schedule's learning rate `t` steps after it starts (t = 0: the first step it governs). */
function scheduled(schedule: ScheduleSpec | null, base: number, t: number, steps: number): number {
  if (schedule === null) return base;
  switch (schedule.kind) {
    case 'step':
      return base * schedule.gamma ** Math.floor(t / schedule.stepSize);
    case 'cosine': {
      const tMax = schedule.tMax ?? Math.max(1, steps);
      return schedule.etaMin + ((base - schedule.etaMin) * (1 + Math.cos((Math.PI * t) / tMax))) / 2;
    }
    case 'linear': {
      const { startFactor, endFactor, totalIters } = schedule;
      return base * (startFactor + ((endFactor - startFactor) * Math.min(t, totalIters)) / totalIters);
    }
    case 'one_cycle':
      return oneCycle(schedule, base, t, steps);
  }
}

/** The cosine from `start` (pct 0) to `end` (pct 1), OneCycleLR's `_annealing_cos`. */
function annealCos(start: number, end: number, pct: number): number {
  return end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
}

/**
 * OneCycleLR's rate at step t of `steps` (max_lr = base, two phases): up from base / div_factor
 * until step pct_start · steps − 1, then down to that / final_div_factor at step steps − 1.
 */
function oneCycle(schedule: Extract<ScheduleSpec, { kind: 'one_cycle' }>, base: number, t: number, steps: number): number {
  const initial = base / schedule.divFactor;
  const last = initial / schedule.finalDivFactor;
  const warmEnd = schedule.pctStart * steps - 1;
  const phases = [
    { end: warmEnd, from: initial, to: base },
    { end: steps - 1, from: base, to: last },
  ];
  let start = 0;
  for (const [i, phase] of phases.entries()) {
    if (t <= phase.end || i === phases.length - 1) return annealCos(phase.from, phase.to, phase.end === start ? 1 : (t - start) / (phase.end - start));
    start = phase.end;
  }
  return last;
}

/**
 * The learning rate of the 1-based optimizer step `step` of a run of `totalSteps` steps with
 * base rate `base`. A cosine schedule without `T_max` anneals over the steps after the warmup.
 */
export function learningRate(controls: Pick<TrainControls, 'schedule' | 'warmup'> | undefined, base: number, step: number, totalSteps: number): number {
  const t = step - 1;
  const warmup = controls?.warmup ?? 0;
  const schedule = controls?.schedule ?? null;
  if (t < warmup) return base * (1 / warmup + ((1 - 1 / warmup) * t) / warmup);
  return scheduled(schedule, base, t - warmup, totalSteps - warmup);
}

/** Whether the learning rate changes from step to step. */
export function hasSchedule(controls: Pick<TrainControls, 'schedule' | 'warmup'> | undefined): boolean {
  return (controls?.schedule ?? null) !== null || (controls?.warmup ?? 0) > 0;
}
