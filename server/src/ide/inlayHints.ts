// Inlay hints: the shape after each binding and pipe stage, and each layer's gradient norm
// from the latest run, probe or init-time pass, labelled with where it came from.

import type { TextRange } from '../../../engine/src/lang/api.js';
import type { Analysis } from './analysis.js';
import { formatStat } from './format.js';
import { flowLabel, type FlowLookup } from './hover.js';
import { layerStats } from './runResults.js';

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
    for (const b of analysis.check.bindings) {
      if (!inRange(b.hintOffset)) continue;
      // A binding's range is its name (a definition); a pipe stage's is its expression.
      const isBinding = analysis.semantics.occurrenceAt(b.range.start)?.role === 'definition';
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
        label: `∇ ${formatStat(stats.stats.gradNorm)} (${flowLabel(flow)})`,
        kind: 'gradient',
        tooltip: `‖dL/d${layer.name}‖ over its parameters, max |g| ${formatStat(stats.stats.gradMax)}`,
      });
    }
  }
  return hints.sort((a, b) => a.offset - b.offset);
}
