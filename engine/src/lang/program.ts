// The checker's entry point: parse, bind, check fns and models (forward shapes, then the
// backward analysis), check `train` blocks, and gather the editor facts and the IR.

import { concreteShape, Dim, formatShape, type Shape } from '../shape/dim.js';
import type {
  BindingInfo,
  CheckResult,
  DataHeaderReader,
  Diagnostic,
  FnIR,
  FnSummary,
  Graph,
  LayerInfo,
  ModelIR,
  ModelSummary,
  TextRange,
  TrainIR,
  ValueId,
} from './api.js';
import { bind } from './binder.js';
import { gradientReach, producers, saturatingChains, softmaxBeforeCrossEntropy, stackedLinearLayers, unreachedParameters, type GradientReach } from './gradients.js';
import { makeDiagnostic } from './diagnostics.js';
import type { GraphBuilder } from './ir.js';
import { bytesPerElement, graphFlops, internalBytes, opInternals } from './costs.js';
import { formatQuantity } from './quantity.js';
import type { Internal } from '../ops/def.js';
import { elementCount } from '../shape/rules.js';
import { formatShapeOnce } from './facts.js';
import { LineIndex } from './lines.js';
import { resolveImports, type ImportedFile, type SourceFiles } from './imports.js';
import { parse } from './parser.js';
import type { CheckReuse, ItemFacts } from './reuse.js';
import { ShapeChecker, type BodyResult, type CheckContext, type PatternDim, type PendingBinding, type Signature } from './shapes.js';
import type { FnItem, ModelItem, TrainItem } from './syntax.js';
import { SemanticModel } from './semantics.js';
import { checkTrain } from './training.js';
import { DEFAULT_LOSS } from './trainCatalogue.js';

export interface CheckOptions {
  /** Reads data-file headers for `train` blocks (the CLI and server pass one); without it, file data sets are not checked against the model. */
  readDataHeader?: DataHeaderReader;
  /** The user's opt-in (`nn.allowPathsOutsideWorkspace`): `train` paths may then leave the file's folder. */
  allowPathsOutsideWorkspace?: boolean;
  /** Where a `save` folder really leads when a symlink takes it out of the file's folder, else null (the caller follows links: no I/O here). */
  saveFolderOutside?: (path: string) => string | null;
  /** Keep the tokens and resolve names for the editor (`CheckResult.semantics`). */
  semantics?: boolean;
  /** Reads the files `import` names (the CLI from disk, the server its open documents first); without it, an import is NN2180. */
  files?: SourceFiles;
  /** The checked file's own path: imports are relative to it. */
  path?: string;
  /** Files whose check is under way around this one, for an imported file checked on its own. */
  importStack?: readonly string[];
  /** The diagnostics of the imported files checked so far in this check, by path (a file imported twice is checked once). */
  importChecks?: Map<string, Diagnostic[]>;
  /** The document's previous check (the server's): items the edit did not touch keep their trees, and clean fns and models away from it their facts. */
  reuse?: CheckReuse;
}

export function checkProgram(source: string, options: CheckOptions = {}): CheckResult {
  // With `options.reuse` (the server's re-check), untouched items keep their trees, and clean fns and models their facts.
  const session = options.reuse?.begin(source) ?? null;
  const { tree, errors, tokens } = session ? session.parse(options.semantics === true) : parse(source, { tokens: options.semantics === true });
  const importChecks = options.importChecks ?? new Map<string, Diagnostic[]>();
  const checkImported = (path: string, text: string, stack: readonly string[]): Diagnostic[] => {
    let diagnostics = importChecks.get(path);
    if (diagnostics === undefined) importChecks.set(path, (diagnostics = checkProgram(text, { files: options.files, path, importStack: stack, importChecks }).diagnostics));
    return diagnostics;
  };
  const imported = resolveImports(tree, source, { files: options.files, path: options.path, stack: options.importStack }, checkImported);
  // Imported definitions are checked in one text with the file's own, past its end.
  const text = imported?.text ?? source;
  let lines: LineIndex | null = null; // only a duplicate definition's message needs line numbers
  const symbols = bind(imported ? { ...tree, items: [...tree.items, ...imported.items] } : tree, (offset) => (lines ??= new LineIndex(text)).lineOf(offset));
  const ctx: CheckContext = { symbols, text, diagnostics: [], calls: [], callRemovals: [], instanceErrors: [] };
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
      ctx.diagnostics.push(makeDiagnostic('NN9001', name.range, [name.name, error instanceof Error ? error.message : String(error)]));
      return null;
    }
  };

  const checkFnFacts = (fn: FnItem): FnFacts | null => {
    const checked = guarded(fn.name, () => checker.checkFn(fn));
    if (checked === null) return null;
    const variadic = checked.signature.inputs.some((i) => i.pattern?.some((d) => !(d instanceof Dim)));
    const clean = checked.forward.errors === 0 && (checked.backward?.errors ?? 0) === 0;
    const wider = variadic && clean ? guarded(fn.name, () => checker.variadicError(fn)) : null;
    if (wider) {
      wider.related.unshift({ range: fn.name.range, message: `checked with each variadic group of two dims (\`*S\` as \`S_1, S_2\`): a group stands for any number of dims` });
      ctx.diagnostics.push(wider);
    }
    const forwardReach = gradientReach(checked.forward.graph.build(), checked.forward.graph.errorValues);
    const bindings = bindingInfos(checked.forward.bindings, forwardReach);
    if (checked.backward) bindings.push(...bindingInfos(checked.backward.bindings, null));
    const inputs = checked.signature.inputs.map((i) => ({ name: i.name.name, shape: i.pattern ? formatPattern(i.pattern) : '?' }));
    const summary: FnSummary = {
      name: fn.name.name,
      range: fn.range,
      nameRange: fn.name.range,
      hasGrad: fn.grad !== null,
      inputs,
      output: checked.signature.output ? formatPattern(checked.signature.output) : '?',
      gradShapes: checked.backward ? checked.backward.gradShapes.map((s) => (s ? formatShape(s) : '?')) : inputs.map((i) => i.shape),
    };
    const ir: FnIR = {
      name: fn.name.name,
      forward: checked.forward.graph.build(),
      backward: checked.backward ? { graph: checked.backward.graph.build(), gradOutputs: checked.backward.gradOutputs } : null,
    };
    const graphs = ir.backward ? [ir.forward, ir.backward.graph] : [ir.forward];
    return { diagnostics: [], instanceErrors: [], calls: [], bindings, layers: [], summary, graphs, ir };
  };

  const crossEntropyModels = new Set(symbols.trains.filter(trainsWithCrossEntropy).map((t) => t.model.name));
  const checkModelFacts = (model: ModelItem): ModelFacts | null => {
    const checked = guarded(model.name, () => checker.checkModel(model));
    if (checked === null) return null;
    const graph = checked.graph.build();
    const reach = gradientReach(graph, checked.graph.errorValues);
    const broken = hasSyntaxError(model.range);
    if (!broken && graph.output >= 0) ctx.diagnostics.push(...unreachedParameters(checked.layers, reach));
    const byValue = producers(graph);
    ctx.diagnostics.push(...softmaxBeforeCrossEntropy(graph, byValue, crossEntropyModels.has(model.name.name), ctx.callRemovals, text));
    ctx.diagnostics.push(...stackedLinearLayers(graph, byValue, checked.inlined));
    ctx.diagnostics.push(...saturatingChains(graph, checked.inlined));
    const trainable = checked.errors === 0 && !broken && model.hyperParams.length === 0 && !symbols.recursiveModels.has(model.name.name) && checked.graph.unknownShapes.size === 0;
    const ir: ModelIR | null = trainable ? { name: model.name.name, graph, params: graph.params.map((p) => p.param), buffers: graph.buffers.map((b) => b.buffer) } : null;
    return {
      diagnostics: [],
      instanceErrors: [],
      calls: [],
      bindings: bindingInfos(checked.bindings, reach),
      layers: checked.layers.map((layer) => new LazyLayerInfo(model.name.name, layer, checked.graph, reach)),
      summary: new LazyModelSummary(model, checked),
      graphs: [graph],
      hasErrors: checked.errors > 0,
      signature: checked.signature,
      cleanGraph: checked.errors === 0 ? graph : null,
      ir,
    };
  };

  // Imported items mean more than their text: such a file is checked afresh every time.
  if (imported) options.reuse?.clear();
  const reusing = session !== null && !imported;
  session?.attach(symbols);
  const checkedItem = <F extends ItemFacts>(key: string, range: TextRange, check: () => F | null): F | null => {
    // A syntax error at an item may come from the text before it: such an item is checked again.
    const reusable = reusing && !hasSyntaxError(range);
    const reused = reusable ? session.reuse<F>(key, range) : null;
    if (reused) return reused;
    const from = { diagnostics: ctx.diagnostics.length, calls: ctx.calls.length, instanceErrors: ctx.instanceErrors.length };
    const facts = check();
    if (facts === null) return null;
    facts.diagnostics = ctx.diagnostics.splice(from.diagnostics);
    facts.calls = ctx.calls.splice(from.calls);
    facts.instanceErrors = ctx.instanceErrors.splice(from.instanceErrors);
    const clean = facts.instanceErrors.length === 0 && facts.diagnostics.every((d) => d.severity !== 'error');
    // An item with errors is checked again: a did-you-mean reads every name of the file.
    if (reusable && clean) session!.keep(key, range, facts);
    return facts;
  };
  const add = (facts: ItemFacts) => {
    ctx.diagnostics.push(...facts.diagnostics);
    ctx.calls.push(...facts.calls);
    ctx.instanceErrors.push(...facts.instanceErrors);
    result.bindings.push(...facts.bindings);
  };

  for (const fn of symbols.fns.values()) {
    const facts = checkedItem(`fn:${fn.name.name}`, fn.range, () => checkFnFacts(fn));
    if (facts === null) continue;
    add(facts);
    result.fns.push(facts.summary);
    result.fnIrs.set(fn.name.name, facts.ir);
  }

  const signatures = new Map<string, Signature>();
  const modelsWithErrors = new Set<string>();
  const graphs = new Map<string, Graph>();
  for (const model of symbols.models.values()) {
    const facts = checkedItem(`model:${model.name.name}`, model.range, () => checkModelFacts(model));
    if (facts === null) continue;
    add(facts);
    if (facts.hasErrors) modelsWithErrors.add(model.name.name);
    signatures.set(model.name.name, facts.signature);
    if (facts.cleanGraph) graphs.set(model.name.name, facts.cleanGraph);
    for (const layer of facts.layers) layer.frozen = false;
    result.layers.push(...facts.layers);
    result.models.push(facts.summary);
    if (facts.ir) result.irs.set(model.name.name, facts.ir);
  }

  for (const item of symbols.trains) {
    const model = symbols.models.get(item.model.name);
    if (model && model.hyperParams.length > 0) {
      ctx.diagnostics.push(makeDiagnostic('NN4002/hyperParameters', item.model.range, ['model', model.name.name]));
      continue;
    }
    const checked = guarded(item.model, () => checkTrain(item, symbols, signatures.get(item.model.name) ?? null, options, graphs.get(item.model.name) ?? null));
    if (checked === null) continue;
    ctx.diagnostics.push(...checked.diagnostics);
    if (checked.train) result.trains.push(checked.train satisfies TrainIR);
  }
  markFrozen(result.layers, result.trains);

  // An error inside a block instance is the instance's (NN2017) only when the block checks on its own.
  const instanceErrors = ctx.instanceErrors.filter((e) => !modelsWithErrors.has(e.block)).map((e) => e.diagnostic);
  result.diagnostics = dedupe([...errors, ...(imported?.diagnostics ?? []), ...symbols.diagnostics, ...ctx.diagnostics, ...instanceErrors]);
  if (imported) keepOwn(result, source.length, imported.files);
  if (tokens) result.semantics = new SemanticModel(source, tree, tokens, symbols);
  session?.finish();
  return result;
}

/**
 * Keeps what belongs to the file itself: an imported file's own diagnostics and facts are its
 * check's (summarized at the import as NN2183); its fns' IR stays, since the file's models inline them.
 */
function keepOwn(result: CheckResult, end: number, files: ImportedFile[]): void {
  const own = (range: TextRange) => range.start <= end;
  result.diagnostics = result.diagnostics.filter((d) => own(d.range));
  for (const d of result.diagnostics) if (d.related.some((r) => !own(r.range))) d.related = d.related.filter((r) => own(r.range));
  result.bindings = result.bindings.filter((b) => own(b.range));
  result.layers = result.layers.filter((l) => own(l.range));
  result.calls = result.calls.filter((c) => own(c.range));
  result.importedModels = result.models.filter((m) => !own(m.range));
  result.importedFns = result.fns.filter((f) => !own(f.range));
  result.models = result.models.filter((m) => own(m.range));
  result.fns = result.fns.filter((f) => own(f.range));
  for (const model of result.importedModels) result.irs.delete(model.name);
  result.imports = files;
}

/** A layer whose parameters a `train` block's `freeze` names all is frozen (the hover says so). */
function markFrozen(layers: readonly LayerInfo[], trains: readonly TrainIR[]): void {
  for (const train of trains) {
    const frozen = new Set(train.controls?.frozen ?? []);
    if (frozen.size === 0) continue;
    for (const layer of layers) {
      if (layer.model !== train.model || layer.params.length === 0) continue;
      if (layer.params.every((p) => frozen.has(p.name))) (layer as LazyLayerInfo).frozen = true;
    }
  }
}

/** A fn's facts: its summary and IR. */
interface FnFacts extends ItemFacts {
  summary: FnSummary;
  ir: FnIR;
}

/** A model's facts: its summary, signature (a `train` block checks against it) and, when it can be trained, its IR. */
interface ModelFacts extends ItemFacts {
  layers: LazyLayerInfo[];
  summary: LazyModelSummary;
  hasErrors: boolean;
  signature: Signature;
  /** The graph of a model without errors, which its `train` blocks check data against. */
  cleanGraph: Graph | null;
  ir: ModelIR | null;
}

function trainsWithCrossEntropy(item: TrainItem): boolean {
  const loss = item.entries.find((e) => e.key.name === 'loss');
  if (loss === undefined) return DEFAULT_LOSS === 'cross_entropy';
  const value = loss.value.kind === 'call' ? loss.value.callee : loss.value;
  return value.kind === 'name' && value.name === 'cross_entropy';
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
// so the facts below format on first read: getters on the class (no closures per fact),
// and `toJSON` so that JSON carries every formatted field (the dims themselves stay out).

/** Binding facts of one body; `reach` null for a grad block (no gradient flows into it). */
function bindingInfos(pending: PendingBinding[], reach: GradientReach | null): BindingInfo[] {
  const out: BindingInfo[] = new Array(pending.length);
  for (let k = 0; k < pending.length; k++) out[k] = new LazyBindingInfo(pending[k], reach !== null && reach.has(pending[k].value));
  return out;
}

class LazyBindingInfo implements BindingInfo {
  readonly model: string;
  readonly name: string;
  readonly range: TextRange;
  hintOffset: number; // moved when a re-check reuses the binding (reuse.ts)
  readonly value: ValueId;
  readonly dims: Shape | null;

  constructor(
    b: PendingBinding,
    readonly receivesGradient: boolean,
  ) {
    this.model = b.owner;
    this.name = b.name;
    this.range = b.range;
    this.hintOffset = b.hintOffset;
    this.value = b.value;
    this.dims = b.shape;
  }

  get shape(): string {
    return this.dims ? formatShapeOnce(this.dims) : '?';
  }

  get gradShape(): string | null {
    return this.receivesGradient ? this.shape : null;
  }

  toJSON(): Omit<BindingInfo, 'dims'> {
    const { model, name, range, hintOffset, shape, gradShape, receivesGradient, value } = this;
    return { model, name, range, hintOffset, shape, gradShape, receivesGradient, value };
  }
}

type CheckedLayer = ReturnType<ShapeChecker['checkModel']>['layers'][number];

class LazyLayerInfo implements LayerInfo {
  readonly name: string;
  readonly ctor: string;
  readonly range: TextRange;
  readonly callRanges: TextRange[];
  readonly receivesGradient: boolean;
  frozen = false;
  private knownParams: { name: string; shape: number[] }[] | null = null;
  private shownArgs: Record<string, number | boolean | string> | null = null;

  constructor(
    readonly model: string,
    private readonly layer: CheckedLayer,
    private readonly graph: GraphBuilder,
    reach: GradientReach,
  ) {
    this.name = layer.localName;
    this.ctor = layer.ctor;
    this.range = layer.ctorRange;
    this.callRanges = layer.callRanges;
    let reached = layer.params.length === 0;
    for (const p of layer.params) if (reach.has(p.value)) reached = true;
    this.receivesGradient = reached;
  }

  /** The constructor arguments as the editor shows them (made once, on first read). */
  get args(): Record<string, number | boolean | string> {
    return (this.shownArgs ??= editorArgs(this.layer.args));
  }

  /** The parameters whose shape is known (made once, so readers share the array). */
  get params(): { name: string; shape: number[] }[] {
    if (this.knownParams === null) {
      this.knownParams = [];
      for (const p of this.layer.params) {
        const shape = concreteShape(p.shape);
        if (shape !== null) this.knownParams.push({ name: p.name, shape });
      }
    }
    return this.knownParams;
  }

  get paramCount(): number {
    let total = 0;
    for (const p of this.params) total += p.shape.reduce((a, b) => a * b, 1);
    return total;
  }

  get input(): Shape | null {
    return this.layer.inShape;
  }

  get output(): Shape | null {
    return this.layer.outShape;
  }

  get inShape(): string | null {
    return this.layer.inShape ? formatShapeOnce(this.layer.inShape) : null;
  }

  get outShape(): string | null {
    return this.layer.outShape ? formatShapeOnce(this.layer.outShape) : null;
  }

  get flopCount(): Dim | null {
    const nodes = this.layer.nodes;
    return (nodes && graphFlops(this.graph, nodes.from, nodes.to)) ?? null;
  }

  get flops(): string {
    return this.flopCount?.toString() ?? '?';
  }

  /** What the layer's own op keeps for its backward (a built-in layer is one node). */
  get internals(): Internal[] {
    const nodes = this.layer.nodes;
    if (!nodes || nodes.to - nodes.from !== 1) return [];
    const node = this.graph.nodes[nodes.from];
    const shape = (id: number) => (this.graph.unknownShapes.has(id) ? null : this.graph.values[id].shape);
    return opInternals(node.op, node.inputs.map(shape), shape(node.outputs[0]), node.attrs);
  }

  get activationBytes(): string {
    return this.layer.outShape ? formatQuantity(elementCount(this.layer.outShape).scale(bytesPerElement('float32')).add(internalBytes(this.internals))) : '?';
  }

  toJSON(): Omit<LayerInfo, 'input' | 'output' | 'flopCount' | 'internals'> {
    const { model, name, ctor, args, range, callRanges, inShape, outShape, params, paramCount, flops, activationBytes, receivesGradient, frozen } = this;
    return { model, name, ctor, args, range, callRanges, inShape, outShape, params, paramCount, flops, activationBytes, receivesGradient, frozen };
  }
}

type CheckedModel = BodyResult & { signature: Signature };

/**
 * A model's summary, its FLOPs counted on first read. A class, not an object literal with a
 * getter: V8 keeps a literal's getter in the literal's hidden class, an old-generation object,
 * and that getter's closure would hold every check's graph through young collections.
 */
class LazyModelSummary implements ModelSummary {
  readonly name: string;
  readonly range: TextRange;
  readonly nameRange: TextRange;
  readonly hyperParams: string[];
  readonly inputs: { name: string; shape: string }[];
  readonly output: string;
  readonly paramCount: number;

  constructor(
    model: ModelItem,
    private readonly checked: CheckedModel,
  ) {
    let paramCount = 0;
    for (const p of checked.graph.params) paramCount += knownElementCount(checked.graph.values[p.value].shape);
    this.name = model.name.name;
    this.range = model.range;
    this.nameRange = model.name.range;
    this.hyperParams = model.hyperParams.map((h) => h.name);
    this.inputs = checked.signature.inputs.map((i) => ({ name: i.name.name, shape: (i.dtype === 'int64' ? 'int' : '') + (i.pattern ? formatPattern(i.pattern) : '?') }));
    this.output = checked.signature.output ? formatPattern(checked.signature.output) : '?';
    this.paramCount = paramCount;
  }

  get flopCount(): Dim | null {
    return graphFlops(this.checked.graph) ?? null;
  }

  get flops(): string {
    return this.flopCount?.toString() ?? '?';
  }

  toJSON(): Omit<ModelSummary, 'flopCount'> {
    const { name, range, nameRange, hyperParams, inputs, output, paramCount, flops } = this;
    return { name, range, nameRange, hyperParams, inputs, output, paramCount, flops };
  }
}

/** The number of elements of a shape whose dims are all known, else 0. */
function knownElementCount(shape: Shape): number {
  let count = 1;
  for (const d of shape) {
    const n = d.constant();
    if (n === null) return 0;
    count *= n;
  }
  return count;
}

/** A layer's bound constructor arguments as the editor shows them: known sizes, numbers and flags. */
function editorArgs(args: LayerInstanceArgs): Record<string, number | boolean | string> {
  const out: Record<string, number | boolean | string> = {};
  for (const [name, value] of Object.entries(args)) {
    if (typeof value === 'number' || typeof value === 'boolean') out[name] = value;
    else if (value instanceof Dim && value.constant() !== null) out[name] = value.constant()!;
    else if (Array.isArray(value) && value.length === 2 && value.every((d) => d instanceof Dim && d.constant() !== null)) {
      // A pair (`kernel = (1, 3)`): one number where both axes agree, as it is usually written.
      const [h, w] = value.map((d: Dim) => d.constant()!);
      out[name] = h === w ? h : `(${h}, ${w})`;
    }
  }
  return out;
}

type LayerInstanceArgs = CheckedLayer['args'];

function formatPattern(pattern: PatternDim[]): string {
  return `[${pattern.map((d) => (d instanceof Dim ? d.toString() : `*${d.variadic}`)).join(', ')}]`;
}
