// What runs, probes and init-time passes found, per model: the engine's per-layer gradient
// statistics (as the run events carry them) with their trend, and findings (NN5001–NN5010).
// Each result is anchored to the text of the items it concerns and disappears once that text changes.

import type { TextRange } from '../../../engine/src/lang/api.js';
import type { SemanticItem, SemanticModel } from '../../../engine/src/lang/semantics.js';
import type { Finding, LayerGradStats, ParamGradStats } from '../../../engine/src/core/events.js';
import { aggregateGradStats } from '../../../engine/src/core/stats.js';

export type StatsSource = 'init' | 'probe' | 'run';

/** A layer's statistics at the flow's step, its parameters' own, and its norm's history. */
export interface LayerFlow {
  stats: LayerGradStats;
  params: ParamGradStats[];
  history: number[]; // gradNorm per recorded step, oldest first (bounded)
}

export interface GradientFlow {
  model: string;
  source: StatsSource;
  /** For an init-time pass: whether it ran on the data set's first batch or on random inputs. */
  inputs?: 'data' | 'random';
  step: number;
  layers: Map<string, LayerFlow>;
}

/** What one step, probe or pass measured: the engine's per-parameter and per-layer statistics. */
export interface GradientStats {
  params: readonly ParamGradStats[];
  layers: readonly LayerGradStats[];
}

const maxHistory = 120;

/** The layers of a measurement, extending the trend of a previous flow. */
function layerFlows(stats: GradientStats, previous?: GradientFlow): Map<string, LayerFlow> {
  const out = new Map<string, LayerFlow>();
  for (const layer of stats.layers) {
    const history = [...(previous?.layers.get(layer.layer)?.history ?? []), layer.gradNorm];
    out.set(layer.layer, {
      stats: layer,
      params: stats.params.filter((p) => p.layer === layer.layer),
      history: history.length > maxHistory ? thin(history) : history,
    });
  }
  return out;
}

/**
 * A layer's statistics: its own, or for a block instance (`res1`) those of its inner layers
 * (`res1.conv1`, ...) taken together, by the engine's one formula.
 */
export function layerStats(flow: GradientFlow, layer: string): LayerFlow | null {
  const own = flow.layers.get(layer);
  if (own) return own;
  const params = [...flow.layers.values()].filter((l) => l.stats.layer.startsWith(`${layer}.`)).flatMap((l) => l.params);
  return params.length === 0 ? null : { stats: aggregateGradStats(layer, params), params, history: [] };
}

/** Halves a history by keeping every other point (the latest always kept). */
function thin(history: number[]): number[] {
  return history.filter((_, i) => (history.length - 1 - i) % 2 === 0);
}

/** The text of the items a result depends on, so it can be dropped when they change. */
interface Anchor {
  itemKind: SemanticItem['kind'];
  itemName: string;
  itemText: string;
}

interface AnchoredFinding {
  finding: Finding;
  anchor: Anchor;
  relative: TextRange; // the finding's range relative to its item's start
}

interface ModelResult {
  model: Anchor;
  flow: GradientFlow | null;
  findings: AnchoredFinding[];
}

function anchorOf(item: SemanticItem, text: string): Anchor {
  return { itemKind: item.kind, itemName: item.name, itemText: text.slice(item.range.start, item.range.end) };
}

function locate(anchor: Anchor, index: SemanticModel, text: string): SemanticItem | null {
  const item = index.items.find((it) => it.kind === anchor.itemKind && it.name === anchor.itemName);
  return item && text.slice(item.range.start, item.range.end) === anchor.itemText ? item : null;
}

function modelItem(index: SemanticModel, model: string): SemanticItem | null {
  return index.items.find((it) => it.kind === 'model' && it.name === model) ?? null;
}

/** One document's results: the latest run or probe, and the latest init-time pass, per model. */
export class RunResults {
  private readonly trained = new Map<string, ModelResult>();
  private readonly atInit = new Map<string, ModelResult>();

  /** Records a run's or probe's gradient statistics (one step event or a probe's end). */
  recordStats(model: string, source: 'probe' | 'run', step: number, stats: GradientStats, index: SemanticModel, text: string): void {
    const item = modelItem(index, model);
    if (!item) return;
    const previous = this.trained.get(model);
    const sameRun = previous?.flow?.source === source && source === 'run' && previous.flow.step < step ? previous.flow : undefined;
    const flow: GradientFlow = { model, source, step, layers: layerFlows(stats, sameRun) };
    this.trained.set(model, { model: anchorOf(item, text), flow, findings: sameRun ? (previous?.findings ?? []) : [] });
  }

  /** Records the findings of a run or probe, anchored at the items their ranges fall in. */
  recordFindings(model: string, findings: readonly Finding[], index: SemanticModel, text: string): void {
    const item = modelItem(index, model);
    if (!item) return;
    const result = this.trained.get(model) ?? { model: anchorOf(item, text), flow: null, findings: [] };
    result.findings = [];
    for (const finding of findings) {
      const owner = index.items.find((it) => it.range.start <= finding.range.start && finding.range.end <= it.range.end) ?? item;
      result.findings.push({
        finding,
        anchor: anchorOf(owner, text),
        relative: { start: finding.range.start - owner.range.start, end: finding.range.end - owner.range.start },
      });
    }
    this.trained.set(model, result);
  }

  /** Replaces the init-time statistics of a model (one forward + backward at initialization). */
  recordInit(model: string, stats: GradientStats, inputs: 'data' | 'random', index: SemanticModel, text: string): void {
    const item = modelItem(index, model);
    if (!item) return;
    this.atInit.set(model, { model: anchorOf(item, text), flow: { model, source: 'init', inputs, step: 0, layers: layerFlows(stats) }, findings: [] });
  }

  /** The gradient flow to show for a model now: a valid run or probe, else a valid init pass. */
  flow(model: string, index: SemanticModel, text: string): GradientFlow | null {
    for (const results of [this.trained, this.atInit]) {
      const result = results.get(model);
      if (result?.flow && locate(result.model, index, text)) return result.flow;
    }
    return null;
  }

  /** Every model with a flow to show now. */
  flows(index: SemanticModel, text: string): GradientFlow[] {
    const models = new Set([...this.trained.keys(), ...this.atInit.keys()]);
    return [...models].map((m) => this.flow(m, index, text)).filter((f): f is GradientFlow => f !== null);
  }

  /** True when a run or probe left findings (valid or not) to place. */
  hasFindings(): boolean {
    return [...this.trained.values()].some((r) => r.findings.length > 0);
  }

  /** Findings still valid for the current text, with ranges moved to where their items are now. */
  findings(index: SemanticModel, text: string): Finding[] {
    const out: Finding[] = [];
    for (const result of this.trained.values()) {
      if (!locate(result.model, index, text)) continue;
      for (const anchored of result.findings) {
        const owner = locate(anchored.anchor, index, text);
        if (!owner) continue;
        const start = owner.range.start + anchored.relative.start;
        out.push({ ...anchored.finding, range: { start, end: owner.range.start + anchored.relative.end } });
      }
    }
    return out;
  }
}
