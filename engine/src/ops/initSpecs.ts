// PyTorch's default initializations as InitSpec values, one shared object per kind and
// fan-in: every `Linear(64, 64)` of a file has the same, and a check keeps them while it lives.

import type { Dim } from '../shape/dim.js';
import type { InitSpec } from '../lang/api.js';

/** Shared specs by kind, then by fan-in (bounded: fan-ins come from the user's text). */
const uniformInits = { kaiming_uniform: new Map<number, InitSpec>(), bias_uniform: new Map<number, InitSpec>() };

/** kaiming_uniform (a weight, a = √5) or bias_uniform (±1/√fanIn) of a fan-in. */
export function uniformInit(kind: 'kaiming_uniform' | 'bias_uniform', fanIn: number): InitSpec {
  const byFanIn = uniformInits[kind];
  const shared = byFanIn.get(fanIn);
  if (shared !== undefined) return shared;
  const init: InitSpec = Object.freeze({ kind, fanIn });
  if (byFanIn.size < 4096) byFanIn.set(fanIn, init);
  return init;
}

export const ONES: InitSpec = Object.freeze({ kind: 'ones' });
export const ZEROS: InitSpec = Object.freeze({ kind: 'zeros' });

/** A dim's value where known; 0 in a block's own check, where sizes may be symbolic (nothing is initialized then). */
export function knownSize(d: Dim): number {
  return d.constant() ?? 0;
}
