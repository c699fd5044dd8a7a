// What runs, probes and init-time passes found, per model: per-layer gradient statistics
// with their trend, and findings (NN5001–NN5005). Each result is anchored to the text of the
// items it concerns and disappears once that text changes.

import type { TextRange } from '../../../engine/src/lang/api.js';
import type { Finding, ParamGradStats } from '../../../engine/src/train/events.js';
import type { Item, NameIndex } from './names.js';

export type StatsSource = 'init' | 'probe' | 'run';

/** Gradient statistics of one layer (its parameters aggregated), with the norm's history. */
export interface LayerGradient {
  layer: string;
  gradNorm: number; // √Σ‖g_p‖² over the layer's parameters
  gradMax: number;
  zeroFraction: number; // mean over the layer's parameters
  updateRatio: number; // max over the layer's parameters
  params: ParamGradStats[];
  history: number[]; // gradNorm per recorded step, oldest first (bounded)
}

export interface GradientFlow {
  model: string;
  source: StatsSource;
  /** For an init-time pass: whether it ran on the data set's first batch or on random inputs. */
  inputs?: 'data' | 'random';
  step: number;
  layers: Map<string, LayerGradient>;
}

const maxHistory = 120;

/** Aggregates per-parameter statistics by layer, extending the trend of a previous flow. */
export function layerGradients(params: readonly ParamGradStats[], previous?: GradientFlow): Map<string, LayerGradient> {
  const byLayer = new Map<string, ParamGradStats[]>();
  for (const stat of params) {
    const list = byLayer.get(stat.layer) ?? [];
    list.push(stat);
    byLayer.set(stat.layer, list);
  }
  const out = new Map<string, LayerGradient>();
  for (const [layer, stats] of byLayer) {
    const gradNorm = Math.sqrt(stats.reduce((s, p) => s + p.gradNorm * p.gradNorm, 0));
    const history = [...(previous?.layers.get(layer)?.history ?? []), gradNorm];
    out.set(layer, {
      layer,
      gradNorm,
      gradMax: Math.max(...stats.map((s) => s.gradMax)),
      zeroFraction: stats.reduce((s, p) => s + p.zeroFraction, 0) / stats.length,
      updateRatio: Math.max(...stats.map((s) => s.updateRatio)),
      params: stats,
      history: history.length > maxHistory ? thin(history) : history,
    });
  }
  return out;
}

/** Halves a history by keeping every other point (the latest always kept). */
function thin(history: number[]): number[] {
  return history.filter((_, i) => (history.length - 1 - i) % 2 === 0);
}

/** The text of the items a result depends on, so it can be dropped when they change. */
interface Anchor {
  itemKind: Item['kind'];
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

function anchorOf(item: Item, text: string): Anchor {
  return { itemKind: item.kind, itemName: item.name, itemText: text.slice(item.range.start, item.range.end) };
}

function locate(anchor: Anchor, index: NameIndex, text: string): Item | null {
  const item = index.items.find((it) => it.kind === anchor.itemKind && it.name === anchor.itemName);
  return item && text.slice(item.range.start, item.range.end) === anchor.itemText ? item : null;
}

function modelItem(index: NameIndex, model: string): Item | null {
  return index.items.find((it) => it.kind === 'model' && it.name === model) ?? null;
}

/** One document's results: the latest run or probe, and the latest init-time pass, per model. */
export class RunResults {
  private readonly trained = new Map<string, ModelResult>();
  private readonly atInit = new Map<string, ModelResult>();

  /** Records a run's or probe's gradient statistics (one step event or a probe's end). */
  recordStats(model: string, source: 'probe' | 'run', step: number, params: readonly ParamGradStats[], index: NameIndex, text: string): void {
    const item = modelItem(index, model);
    if (!item) return;
    const previous = this.trained.get(model);
    const sameRun = previous?.flow?.source === source && source === 'run' && previous.flow.step < step ? previous.flow : undefined;
    const flow: GradientFlow = { model, source, step, layers: layerGradients(params, sameRun) };
    this.trained.set(model, { model: anchorOf(item, text), flow, findings: sameRun ? (previous?.findings ?? []) : [] });
  }

  /** Records the findings of a run or probe, anchored at the items their ranges fall in. */
  recordFindings(model: string, findings: readonly Finding[], index: NameIndex, text: string): void {
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
  recordInit(model: string, params: readonly ParamGradStats[], inputs: 'data' | 'random', index: NameIndex, text: string): void {
    const item = modelItem(index, model);
    if (!item) return;
    this.atInit.set(model, { model: anchorOf(item, text), flow: { model, source: 'init', inputs, step: 0, layers: layerGradients(params) }, findings: [] });
  }

  /** The gradient flow to show for a model now: a valid run or probe, else a valid init pass. */
  flow(model: string, index: NameIndex, text: string): GradientFlow | null {
    for (const results of [this.trained, this.atInit]) {
      const result = results.get(model);
      if (result?.flow && locate(result.model, index, text)) return result.flow;
    }
    return null;
  }

  /** Every model with a flow to show now. */
  flows(index: NameIndex, text: string): GradientFlow[] {
    const models = new Set([...this.trained.keys(), ...this.atInit.keys()]);
    return [...models].map((m) => this.flow(m, index, text)).filter((f): f is GradientFlow => f !== null);
  }

  /** True when a run or probe left findings (valid or not) to place. */
  hasFindings(): boolean {
    return [...this.trained.values()].some((r) => r.findings.length > 0);
  }

  /** Findings still valid for the current text, with ranges moved to where their items are now. */
  findings(index: NameIndex, text: string): Finding[] {
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
