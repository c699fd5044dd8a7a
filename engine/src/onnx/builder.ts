// A small ONNX graph builder: named values, nodes, initializers and typed inputs/outputs
// (dims are numbers or symbolic names such as 'B'), encoded to ModelProto bytes.

import { AttributeType, DataType, IR_VERSION_OF_OPSET, ModelProto } from './schema.js';

export type ElemType = 'float32' | 'int64' | 'bool';
export type OnnxDim = number | string;

/**
 * A node attribute: integers and integer lists are written as plain numbers and arrays,
 * floats as `{ f }` / `{ floats }`, strings as strings.
 */
export type Attr = number | number[] | string | { f: number } | { floats: number[] };

export const OPSET = 17;
const IR_VERSION = IR_VERSION_OF_OPSET[OPSET];

const elemTypeCode: Record<ElemType, number> = {
  float32: DataType.FLOAT,
  int64: DataType.INT64,
  bool: DataType.BOOL,
};

interface ValueInfoMessage {
  name: string;
  type: { tensorType: { elemType: number; shape?: { dim: ({ dimValue: number } | { dimParam: string })[] } } };
}

interface TensorMessage {
  name: string;
  dims: number[];
  dataType: number;
  rawData: Uint8Array;
}

interface NodeMessage {
  name: string;
  opType: string;
  domain?: string;
  input: string[];
  output: string[];
  attribute: Record<string, unknown>[];
}

function valueInfo(name: string, type: ElemType, dims?: readonly OnnxDim[]): ValueInfoMessage {
  const tensorType: ValueInfoMessage['type']['tensorType'] = { elemType: elemTypeCode[type] };
  if (dims) {
    tensorType.shape = { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) };
  }
  return { name, type: { tensorType } };
}

function attribute(name: string, value: Attr): Record<string, unknown> {
  const AT = AttributeType;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: integer expected, got ${value} (use { f })`);
    return { name, type: AT.INT, i: value };
  }
  if (typeof value === 'string') return { name, type: AT.STRING, s: Buffer.from(value, 'utf8') };
  if (Array.isArray(value)) return { name, type: AT.INTS, ints: value };
  if ('f' in value) return { name, type: AT.FLOAT, f: value.f };
  return { name, type: AT.FLOATS, floats: value.floats };
}

function bytesOf(data: Float32Array | BigInt64Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export class OnnxGraphBuilder {
  private readonly nodes: NodeMessage[] = [];
  private readonly inputs: ValueInfoMessage[] = [];
  private readonly outputs: ValueInfoMessage[] = [];
  private readonly initializers: TensorMessage[] = [];
  private readonly constants = new Map<string, string>();
  private readonly used = new Set<string>();
  private counter = 0;

  constructor(private readonly graphName: string) {}

  /** A fresh value name starting with `hint`, unique in the graph. */
  fresh(hint: string): string {
    let name = `${hint}_${this.counter++}`;
    while (this.used.has(name)) name = `${hint}_${this.counter++}`;
    this.used.add(name);
    return name;
  }

  /** Reserves an exact name (a graph input, output or parameter); throws when taken. */
  claim(name: string): string {
    if (this.used.has(name)) throw new Error(`ONNX value name '${name}' is used twice`);
    this.used.add(name);
    return name;
  }

  /** A graph input with a fresh name starting with `hint`. */
  addFreshInput(hint: string, type: ElemType, dims: readonly OnnxDim[]): string {
    const name = this.fresh(hint);
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  addInput(name: string, type: ElemType, dims: readonly OnnxDim[]): string {
    this.inputs.push(valueInfo(this.claim(name), type, dims));
    return name;
  }

  /**
   * Declares `value` as a graph output called `name`. A node's output is renamed in place
   * (an Identity would copy the tensor every run); a graph input, an initializer or a
   * value that is already an output is copied by an Identity.
   */
  addOutput(name: string, value: string, type: ElemType, dims?: readonly OnnxDim[]): void {
    if (name !== value) {
      const producedByNode = this.nodes.some((n) => n.output.includes(value));
      const isOutput = this.outputs.some((o) => o.name === value);
      if (producedByNode && !isOutput) {
        this.claim(name);
        for (const node of this.nodes) {
          node.input = node.input.map((v) => (v === value ? name : v));
          node.output = node.output.map((v) => (v === value ? name : v));
        }
      } else {
        this.op('Identity', [value], {}, [this.claim(name)]);
      }
    }
    this.outputs.push(valueInfo(name, type, dims));
  }

  addInitializer(name: string, data: Float32Array | BigInt64Array, dims: readonly number[]): string {
    return this.pushInitializer(this.claim(name), data, dims);
  }

  private pushInitializer(name: string, data: Float32Array | BigInt64Array, dims: readonly number[]): string {
    const dataType = data instanceof Float32Array ? DataType.FLOAT : DataType.INT64;
    this.initializers.push({ name, dims: [...dims], dataType, rawData: bytesOf(data) });
    return name;
  }

  /** A float32 constant (scalar when `dims` is omitted), shared between uses. */
  constFloat(values: number | readonly number[], dims?: readonly number[]): string {
    const list = typeof values === 'number' ? [values] : [...values];
    const shape = dims ?? (typeof values === 'number' ? [] : [list.length]);
    return this.constant('f', Float32Array.from(list), shape);
  }

  /** An int64 constant (a 1-D list by default), shared between uses. */
  constInt(values: number | readonly number[], dims?: readonly number[]): string {
    const list = typeof values === 'number' ? [values] : [...values];
    const shape = dims ?? (typeof values === 'number' ? [] : [list.length]);
    return this.constant('i', BigInt64Array.from(list.map((v) => BigInt(v))), shape);
  }

  private constant(kind: string, data: Float32Array | BigInt64Array, dims: readonly number[]): string {
    const key = `${kind}[${dims.join(',')}]${Array.from(data as ArrayLike<number | bigint>).join(',')}`;
    const existing = this.constants.get(key);
    if (existing) return existing;
    const name = this.pushInitializer(this.fresh(kind === 'f' ? 'cf' : 'ci'), data, dims);
    this.constants.set(key, name);
    return name;
  }

  /** Appends a node; returns its output names (fresh ones unless given). */
  op(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, outputs: number | string[] = 1): string[] {
    const outputNames = typeof outputs === 'number'
      ? Array.from({ length: outputs }, () => this.fresh(opType.toLowerCase()))
      : outputs;
    this.nodes.push({
      name: `n${this.nodes.length}_${opType}`,
      opType,
      input: [...inputs],
      output: outputNames,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outputNames;
  }

  /** Appends a single-output node and returns its output name. */
  op1(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}): string {
    return this.op(opType, inputs, attrs, 1)[0];
  }

  /**
   * Folds `alpha * value + beta * c` (or `alpha * value` when `c` is null) into the Gemm
   * that produces `value`, when a two-input Gemm does and nothing reads `value` yet;
   * `value` then names the result (one pass over memory instead of up to three). Returns
   * whether it folded.
   */
  foldIntoGemm(value: string, c: string | null, alpha: number, beta = 0): boolean {
    const node = this.nodes.find((n) => n.output[0] === value);
    if (!node || node.opType !== 'Gemm' || node.input.length !== 2) return false;
    if (this.nodes.some((n) => n.input.includes(value)) || this.outputs.some((o) => o.name === value)) return false;
    if (node.attribute.some((a) => a.name === 'alpha' || a.name === 'beta')) return false;
    node.attribute.push(attribute('alpha', { f: alpha }));
    if (c !== null) {
      node.input.push(c);
      node.attribute.push(attribute('beta', { f: beta }));
    }
    return true;
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  toBytes(producer = 'nn-studio'): Uint8Array {
    const message = ModelProto.fromObject({
      irVersion: IR_VERSION,
      producerName: producer,
      opsetImport: [{ domain: '', version: OPSET }],
      graph: {
        name: this.graphName,
        node: this.nodes,
        input: this.inputs,
        output: this.outputs,
        initializer: this.initializers,
      },
    });
    return ModelProto.encode(message).finish();
  }
}
