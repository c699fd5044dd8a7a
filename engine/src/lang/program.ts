// The checker's entry point: parse, bind, check fns and models (forward shapes, then the
// backward analysis), check `train` blocks, and gather the editor facts and the IR.

import { concreteShape, Dim, formatShape } from '../shape/dim.js';
import type {
  BindingInfo,
  CheckResult,
  DataHeaderReader,
  Diagnostic,
  FnIR,
  FnSummary,
  IrNode,
  LayerInfo,
  ModelIR,
  ModelSummary,
  TrainIR,
  ValueId,
} from './api.js';
import { bind } from './binder.js';
import { gradientReach, saturatingChains, softmaxBeforeCrossEntropy, stackedLinearLayers, unreachedParameters } from './gradients.js';
import { makeDiagnostic } from './diagnostics.js';
import { bytesPerElement, elementCount } from './layers.js';
import { LineIndex } from './lines.js';
import { parse } from './parser.js';
import { formatShapeOnce, ShapeChecker, type BodyResult, type CheckContext, type PatternDim, type PendingBinding } from './shapes.js';
import type { ModelItem, TrainItem } from './syntax.js';
import { checkTrain } from './training.js';

export interface CheckOptions {
  /** Reads data-file headers for `train` blocks (the CLI and server pass one); without it, file data sets are not checked against the model. */
  readDataHeader?: DataHeaderReader;
  /** The user's opt-in (`nn.allowPathsOutsideWorkspace`): `train` paths may then leave the file's folder. */
  allowPathsOutsideWorkspace?: boolean;
}

export function checkProgram(text: string, options: CheckOptions = {}): CheckResult {
  const { tree, errors } = parse(text);
  const lines = new LineIndex(text);
  const symbols = bind(tree, (offset) => lines.lineOf(offset));
  const ctx: CheckContext = { symbols, text, diagnostics: [], calls: [], softmaxRemovals: new Map() };
  const checker = new ShapeChecker(ctx);
  const result: CheckResult = { diagnostics: [], bindings: [], layers: [], calls: ctx.calls, models: [], fns: [], irs: new Map(), fnIrs: new Map(), trains: [] };
  const brokenRanges = errors.map((e) => e.range);
  const hasSyntaxError = (range: { start: number; end: number }) => brokenRanges.some((r) => r.start >= range.start && r.start <= range.end);

  // A last line of defence: the checker never throws on user input; should an item still
  // break an internal invariant, it is reported at the item and the rest of the file is checked.
  const guarded = <T>(name: { name: string; range: { start: number; end: number } }, run: () => T): T | null => {
    try {
      return run();
    } catch (error) {
      ctx.diagnostics.push(makeDiagnostic('NN2003', name.range, [name.name, `it cannot be analysed (${error instanceof Error ? error.message : String(error)})`]));
      return null;
    }
  };

  for (const fn of symbols.fns.values()) {
    const checked = guarded(fn.name, () => checker.checkFn(fn));
    if (checked === null) continue;
    const forwardReach = gradientReach(checked.forward.graph.build());
    result.bindings.push(...bindingInfos(checked.forward.bindings, forwardReach));
    if (checked.backward) result.bindings.push(...bindingInfos(checked.backward.bindings, new Set()));
    const inputs = checked.signature.inputs.map((i) => ({ name: i.name.name, shape: formatPattern(i.pattern) }));
    result.fns.push({
      name: fn.name.name,
      range: fn.range,
      nameRange: fn.name.range,
      hasGrad: fn.grad !== null,
      inputs,
      output: checked.signature.output ? formatPattern(checked.signature.output) : '?',
      gradShapes: checked.backward ? checked.backward.gradShapes.map((s) => (s ? formatShape(s) : '?')) : inputs.map((i) => i.shape),
    } satisfies FnSummary);
    const fnIr: FnIR = {
      name: fn.name.name,
      forward: checked.forward.graph.build(),
      backward: checked.backward ? { graph: checked.backward.graph.build(), gradOutputs: checked.backward.gradOutputs } : null,
    };
    result.fnIrs.set(fn.name.name, fnIr);
  }

  const crossEntropyModels = new Set(symbols.trains.filter(trainsWithCrossEntropy).map((t) => t.model.name));
  const signatures = new Map<string, ReturnType<ShapeChecker['checkModel']>['signature']>();
  for (const model of symbols.models.values()) {
    const checked = guarded(model.name, () => checker.checkModel(model));
    if (checked === null) continue;
    signatures.set(model.name.name, checked.signature);
    const graph = checked.graph.build();
    const reach = gradientReach(graph);
    const broken = hasSyntaxError(model.range);
    result.bindings.push(...bindingInfos(checked.bindings, reach));
    result.layers.push(...checked.layers.map((layer) => layerInfo(model.name.name, layer, reach)));
    if (!broken && graph.output >= 0) ctx.diagnostics.push(...unreachedParameters(checked.layers, reach));
    ctx.diagnostics.push(...softmaxBeforeCrossEntropy(graph, crossEntropyModels.has(model.name.name), ctx.softmaxRemovals));
    ctx.diagnostics.push(...stackedLinearLayers(graph, checked.inlined));
    ctx.diagnostics.push(...saturatingChains(graph, checked.inlined));
    result.models.push(modelSummary(model, checked));
    const clean = checked.errors === 0 && !broken && model.hyperParams.length === 0 && !symbols.recursiveModels.has(model.name.name) && checked.graph.unknownShapes.size === 0;
    if (clean) {
      result.irs.set(model.name.name, {
        name: model.name.name,
        graph,
        params: graph.params.map((p) => p.param),
        buffers: graph.buffers.map((b) => b.buffer),
      } satisfies ModelIR);
    }
  }

  for (const item of symbols.trains) {
    const model = symbols.models.get(item.model.name);
    if (model && model.hyperParams.length > 0) {
      ctx.diagnostics.push(makeDiagnostic('NN4002', item.model.range, ['model', `\`${model.name.name}\` has hyper-parameters; train a model that uses it as a block`]));
      continue;
    }
    const checked = guarded(item.model, () => checkTrain(item, symbols, signatures.get(item.model.name) ?? null, options));
    if (checked === null) continue;
    ctx.diagnostics.push(...checked.diagnostics);
    if (checked.train) result.trains.push(checked.train satisfies TrainIR);
  }

  result.diagnostics = dedupe([...errors, ...symbols.diagnostics, ...ctx.diagnostics]);
  return result;
}

function trainsWithCrossEntropy(item: TrainItem): boolean {
  const loss = item.entries.find((e) => e.key.name === 'loss');
  return loss === undefined || (loss.value.kind === 'name' && loss.value.name === 'cross_entropy');
}

function dedupe(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const d of diagnostics) {
    const key = `${d.code}:${d.range.start}:${d.range.end}:${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out.sort((a, b) => a.range.start - b.range.start || a.range.end - b.range.end);
}

// The editor shows few of the formatted shapes of a check (the hints on screen, one hover),
// so the facts below format on first read: plain getters, which JSON, structured clone and
// spreading all read like fields.

function bindingInfos(pending: PendingBinding[], reach: Set<ValueId>): BindingInfo[] {
  return pending.map((b) => bindingInfo(b, reach.has(b.value)));
}

function bindingInfo(b: PendingBinding, receivesGradient: boolean): BindingInfo {
  const shape = b.shape;
  const format = () => (shape ? formatShapeOnce(shape) : '?');
  return {
    model: b.owner,
    name: b.name,
    range: b.range,
    hintOffset: b.hintOffset,
    get shape() {
      return format();
    },
    get gradShape() {
      return receivesGradient ? format() : null;
    },
    receivesGradient,
  };
}

function layerInfo(model: string, layer: ReturnType<ShapeChecker['checkModel']>['layers'][number], reach: Set<ValueId>): LayerInfo {
  const params = layer.params.flatMap((p) => {
    const shape = concreteShape(p.shape);
    return shape ? [{ name: p.name, shape }] : [];
  });
  const { inShape, outShape, flops } = layer;
  return {
    model,
    name: layer.localName,
    ctor: layer.ctor,
    args: layer.args,
    range: layer.ctorRange,
    callRanges: layer.callRanges,
    get inShape() {
      return inShape ? formatShapeOnce(inShape) : null;
    },
    get outShape() {
      return outShape ? formatShapeOnce(outShape) : null;
    },
    params,
    paramCount: params.reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0),
    get flops() {
      return flops ? flops.toString() : '?';
    },
    get activationBytes() {
      return outShape ? elementCount(outShape).scale(bytesPerElement('float32')).toString() : '?';
    },
    receivesGradient: layer.params.length === 0 || layer.params.some((p) => reach.has(p.value)),
  };
}

function modelSummary(model: ModelItem, checked: BodyResult & { signature: ReturnType<ShapeChecker['checkModel']>['signature'] }): ModelSummary {
  let flops: Dim | null = Dim.of(0);
  for (const node of checked.graph.nodes as IrNode[]) {
    const f = checked.nodeFlops.get(node);
    flops = flops && f ? flops.add(f) : null;
  }
  const paramCount = checked.graph.params.reduce((sum, p) => sum + (concreteShape(checked.graph.values[p.value].shape)?.reduce((a, b) => a * b, 1) ?? 0), 0);
  return {
    name: model.name.name,
    range: model.range,
    nameRange: model.name.range,
    hyperParams: model.hyperParams.map((h) => h.name),
    inputs: checked.signature.inputs.map((i) => ({ name: i.name.name, shape: (i.dtype === 'int64' ? 'int' : '') + formatPattern(i.pattern) })),
    output: checked.signature.output ? formatPattern(checked.signature.output) : '?',
    paramCount,
    flops: flops ? flops.toString() : '?',
  };
}


function formatPattern(pattern: PatternDim[]): string {
  return `[${pattern.map((d) => (d instanceof Dim ? d.toString() : `*${d.variadic}`)).join(', ')}]`;
}
