// The `train` block's training controls (LANGUAGE.md §9): `schedule`, `warmup`,
// `clip_grad_norm`, `clip_grad_value`, `early_stopping`, `freeze`, `accumulate`, `no_decay` and `checkpoint`,
// each bad value an NN4002 at it.

import type { Graph, ParamInfo, ScheduleSpec, TextRange, TrainControls } from './api.js';
import { checkpointableInstances, sideEffectIn } from './checkpoints.js';
import type { DiagnosticArg, VariantsOf } from './diagnostics.js';
import { didYouMean } from './fixes.js';
import type { Expr } from './syntax.js';
import { NO_DECAY_GROUPS, SCHEDULES, scheduleDef, trainCallSignature, type TrainParam } from './trainCatalogue.js';

/** What the block's checker lends: values, call arguments and the NN4002 report. */
export interface ControlReader {
  entries: ReadonlyMap<string, Expr>;
  /** A number the expression evaluates to (constants folded), else null. */
  number(expr: Expr): number | null;
  /** A string or bare name's text, else null. */
  word(expr: Expr): string | null;
  /** A call's arguments by name, or null when one is unknown (reported). */
  callArgs(expr: Expr, key: string, params: readonly TrainParam[]): Map<string, Expr> | null;
  /** The name a call or bare name calls. */
  callee(expr: Expr): { name: string; range: TextRange } | null;
  /** Reports an NN4002 case with its arguments (the entry's key first). */
  bad(id: VariantsOf<'NN4002'>, range: TextRange, args: readonly DiagnosticArg[], fix?: ReturnType<typeof didYouMean>): void;
  /** The model's parameters, when its graph checked. */
  params: readonly ParamInfo[] | null;
  /** The model's graph, when it checked. */
  graph: Graph | null;
}

/** Whether `name` (a layer, block instance or raw `param`) owns parameter `p`: `res1` owns `res1.conv1.weight`. */
function owns(name: string, p: ParamInfo): boolean {
  return p.layer === name || p.layer.startsWith(`${name}.`);
}

/**
 * The names of a layer list (`freeze = [a, b]`, `checkpoint = [a, b]`), each one `known`
 * accepts or reported as the `unknown` case with the model's `candidates` (and a
 * did-you-mean); null names when the model's graph did not check.
 */
function layerListOf(expr: Expr, key: string, reader: ControlReader, candidates: readonly string[] | null, known: (name: string) => boolean, unknown: VariantsOf<'NN4002'>): string[] {
  const items = expr.kind === 'list' ? expr.items : [expr];
  const names: string[] = [];
  for (const item of items) {
    if (item.kind !== 'name') {
      reader.bad('NN4002/layerList', item.range, [key]);
      continue;
    }
    if (candidates === null) continue;
    if (!known(item.name)) {
      reader.bad(unknown, item.range, [key, item.name, candidates.join(', ')], didYouMean(item.range, item.name, candidates));
      continue;
    }
    names.push(item.name);
  }
  return names;
}

/** The parameters `freeze = [a, b]` names, each name checked against the model's layers. */
function frozenOf(expr: Expr, reader: ControlReader): string[] {
  const params = reader.params;
  const layers = params ? [...new Set(params.map((p) => p.layer.split('.')[0]))] : null;
  const names = layerListOf(expr, 'freeze', reader, layers, (name) => params!.some((p) => owns(name, p)), 'NN4002/unknownLayer');
  const frozen = new Set(params ? params.filter((p) => names.some((name) => owns(name, p))).map((p) => p.name) : []);
  if (params !== null && params.length > 0 && frozen.size === params.length) reader.bad('NN4002/allFrozen', expr.range, ['freeze']);
  return params ? params.filter((p) => frozen.has(p.name)).map((p) => p.name) : [];
}

/** The layer and block instances `checkpoint = [a, b]` names: applied by the model, with no op that recomputing would change. */
function checkpointOf(expr: Expr, reader: ControlReader): string[] {
  const graph = reader.graph;
  const instances = graph ? checkpointableInstances(graph) : null;
  const names = layerListOf(expr, 'checkpoint', reader, instances, (name) => instances!.includes(name), 'NN4002/unknownInstance');
  return names.filter((name) => {
    const calls = graph!.instanceCalls!.filter((c) => c.layer === name);
    const side = calls.map((c) => sideEffectIn(graph!.nodes, c)).find((s) => s !== null);
    if (!side) return true;
    const item = (expr.kind === 'list' ? expr.items : [expr]).find((i) => i.kind === 'name' && i.name === name)!;
    reader.bad('NN4002/sideEffect', item.range, ['checkpoint', name, side.node.layer ?? side.node.op, side.effect]);
    return false;
  });
}

/** The arguments of a schedule call, each checked against its parameter. */
function scheduleOf(expr: Expr, reader: ControlReader): ScheduleSpec | null {
  const callee = reader.callee(expr);
  const def = callee ? scheduleDef(callee.name) : undefined;
  if (!def) {
    const names = Object.values(SCHEDULES).map((s) => s.name);
    reader.bad('NN4002/expected', expr.range, ['schedule', Object.values(SCHEDULES).map((s) => `\`${trainCallSignature(s.name, s.params)}\``).join(', ')], callee ? didYouMean(callee.range, callee.name, names) : undefined);
    return null;
  }
  const args = reader.callArgs(expr, 'schedule', def.params);
  if (!args) return null;
  const values: Record<string, number | null> = {};
  let ok = true;
  for (const p of def.params) {
    const arg = args.get(p.name);
    if (arg === undefined) {
      if (p.default === undefined && p.defaultText === undefined) {
        reader.bad('NN4002/needs', expr.range, ['schedule', def.name, p.name]);
        ok = false;
      }
      values[p.name] = p.default ?? null;
      continue;
    }
    const v = reader.number(arg);
    const fits = v !== null && Number.isFinite(v) && (p.kind === 'count' ? Number.isInteger(v) && v >= 1 : v >= 0 && v < (p.below ?? Infinity));
    if (fits) values[p.name] = v;
    else {
      if (p.kind === 'count') reader.bad('NN4002/argumentInteger', arg.range, ['schedule', p.name, 1]);
      else if (p.below === undefined) reader.bad('NN4002/argumentNonNegative', arg.range, ['schedule', p.name]);
      else reader.bad('NN4002/argumentBelow', arg.range, ['schedule', p.name, p.below]);
      ok = false;
    }
  }
  // OneCycleLR's rates divide by these: 0 would make them infinite (or the warm phase empty).
  if (def.name === 'one_cycle') {
    for (const name of ['pct_start', 'div_factor', 'final_div_factor']) {
      const arg = args.get(name);
      if (ok && arg !== undefined && values[name] === 0) {
        reader.bad('NN4002/argumentAboveZero', arg.range, ['schedule', name]);
        ok = false;
      }
    }
  }
  if (!ok) return null;
  const n = (name: string): number => values[name] as number;
  switch (def.name) {
    case 'step':
      return { kind: 'step', stepSize: n('step_size'), gamma: n('gamma') };
    case 'cosine':
      return { kind: 'cosine', tMax: values.T_max ?? null, etaMin: n('eta_min') };
    case 'linear':
      return { kind: 'linear', startFactor: n('start_factor'), endFactor: n('end_factor'), totalIters: n('total_iters') };
    case 'one_cycle':
      return { kind: 'one_cycle', pctStart: n('pct_start'), divFactor: n('div_factor'), finalDivFactor: n('final_div_factor') };
  }
}

/** The parameters `no_decay` exempts from weight decay: those of fewer than 2 dims (biases, norm weights) for `"bias_and_norm"`. */
function noDecayOf(expr: Expr, reader: ControlReader): string[] {
  const group = reader.word(expr);
  if (group === null || !(NO_DECAY_GROUPS as readonly string[]).includes(group)) {
    reader.bad('NN4002/expected', expr.range, ['no_decay', NO_DECAY_GROUPS.map((g) => `\`"${g}"\``).join(' or ')]);
    return [];
  }
  if (group === 'none' || reader.params === null) return [];
  return reader.params.filter((p) => p.shape.length < 2).map((p) => p.name);
}

/** The controls the block gives; absent keys take their defaults (none). */
export function checkControls(reader: ControlReader, lr: number): TrainControls {
  const { entries } = reader;
  const positive = (key: string): number | null => {
    const expr = entries.get(key);
    if (expr === undefined) return null;
    const v = reader.number(expr);
    if (v !== null && Number.isFinite(v) && v > 0) return v;
    reader.bad('NN4002/positive', expr.range, [key]);
    return null;
  };
  const integer = (key: string, min: number): number | null => {
    const expr = entries.get(key);
    if (expr === undefined) return null;
    const v = reader.number(expr);
    if (v !== null && Number.isInteger(v) && v >= min) return v;
    reader.bad('NN4002/integer', expr.range, [key, min]);
    return null;
  };
  const scheduleExpr = entries.get('schedule');
  const schedule = scheduleExpr ? scheduleOf(scheduleExpr, reader) : null;
  if (schedule?.kind === 'cosine' && scheduleExpr && schedule.etaMin > lr) {
    reader.bad('NN4002/etaMin', scheduleExpr.range, ['schedule', schedule.etaMin, lr]);
  }
  let warmup = integer('warmup', 0) ?? 0;
  const warmupExpr = entries.get('warmup');
  if (schedule?.kind === 'one_cycle' && warmup > 0 && warmupExpr) {
    reader.bad('NN4002/oneCycleWarmup', warmupExpr.range, ['warmup']);
    warmup = 0;
  }
  const noDecay = entries.has('no_decay') ? noDecayOf(entries.get('no_decay') as Expr, reader) : [];
  const checkpoint = entries.has('checkpoint') ? checkpointOf(entries.get('checkpoint') as Expr, reader) : [];
  return {
    schedule,
    warmup,
    clipGradNorm: positive('clip_grad_norm'),
    clipGradValue: positive('clip_grad_value'),
    earlyStopping: integer('early_stopping', 1),
    frozen: entries.has('freeze') ? frozenOf(entries.get('freeze') as Expr, reader) : [],
    accumulate: integer('accumulate', 1) ?? 1,
    ...(noDecay.length > 0 ? { noDecay } : {}),
    ...(checkpoint.length > 0 ? { checkpoint } : {}),
  };
}
