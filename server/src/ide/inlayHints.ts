// Inlay hints: the shape after each binding and pipe stage, and each layer's gradient norm
// from the latest run, probe or init-time pass, labelled with where it came from.

import type { TextRange } from '../../../engine/src/lang/api.js';
import type { Analysis } from './analysis.js';
import { formatStat } from './format.js';
import { flowLabel, layerStats, type FlowLookup } from './hover.js';

export interface InlayHint {
  offset: number;
  label: string;
  kind: 'shape' | 'gradient';
  tooltip?: string;
}

export interface InlayHintOptions {
  shapes: boolean;
  gradients: boolean;
}

export function inlayHints(analysis: Analysis, range: TextRange, options: InlayHintOptions, flowOf: FlowLookup): InlayHint[] {
  const hints: InlayHint[] = [];
  const inRange = (offset: number) => range.start <= offset && offset <= range.end;
  if (options.shapes) {
    const bindingStarts = new Set(analysis.names.occurrences.filter((o) => o.role === 'binding').map((o) => o.range.start));
    for (const b of analysis.check.bindings) {
      if (!inRange(b.hintOffset)) continue;
      const isBinding = bindingStarts.has(b.range.start);
      hints.push({
        offset: b.hintOffset,
        label: isBinding ? `: ${b.shape}` : b.shape,
        kind: 'shape',
        tooltip: b.gradShape ? `dL/d${isBinding ? b.name : 'value'} : ${b.gradShape}` : 'no gradient reaches this value',
      });
    }
  }
  if (options.gradients) {
    for (const layer of analysis.check.layers) {
      if (!inRange(layer.range.end)) continue;
      const flow = flowOf(layer.model);
      const stats = flow ? layerStats(flow, layer.name) : null;
      if (!flow || !stats) continue;
      hints.push({
        offset: layer.range.end,
        label: `∇ ${formatStat(stats.gradNorm)} (${flowLabel(flow)})`,
        kind: 'gradient',
        tooltip: `‖dL/d${layer.name}‖ over its parameters, max |g| ${formatStat(stats.gradMax)}`,
      });
    }
  }
  return hints.sort((a, b) => a.offset - b.offset);
}
