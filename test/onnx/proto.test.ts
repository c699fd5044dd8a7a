// The ONNX schema comes from ONNX's own onnx.proto: the committed descriptor is what
// scripts/onnx-proto.mjs generates from it, and an exported model's bytes carry the field
// numbers of the ONNX specification (read here with a bare protobuf reader, not through
// the descriptor), so the model onnxruntime loads (test/onnx/export.test.ts) is encoded
// from the official schema.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import * as ort from 'onnxruntime-node';
import { exportOnnx } from '../../engine/src/export/onnx.js';
import { ModelProto } from '../../engine/src/onnx/schema.js';
import { descriptorOf } from '../../scripts/onnx-proto.mjs';

const onnxDir = join(__dirname, '..', '..', 'engine', 'src', 'onnx');

test('onnx.proto.json is generated from the official onnx.proto', () => {
  const proto = readFileSync(join(onnxDir, 'onnx.proto'), 'utf8');
  assert.match(proto, /^package onnx;$/m);
  assert.match(proto, /SPDX-License-Identifier: Apache-2.0/);
  assert.equal(readFileSync(join(onnxDir, 'onnx.proto.json'), 'utf8'), descriptorOf(proto), 'run node scripts/onnx-proto.mjs');
});

/** Top-level fields of a message: number → wire type and (for length-delimited ones) the bytes. */
function fields(bytes: Uint8Array): Map<number, { wire: number; value: number | Uint8Array }[]> {
  const reader = protobuf.Reader.create(bytes);
  const out = new Map<number, { wire: number; value: number | Uint8Array }[]>();
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const [field, wire] = [tag >>> 3, tag & 7];
    const value = wire === 0 ? Number(reader.int64()) : wire === 2 ? reader.bytes() : (reader.skipType(wire), 0);
    out.set(field, [...(out.get(field) ?? []), { wire, value }]);
  }
  return out;
}

test('an exported model carries the specification\'s field numbers and loads in onnxruntime', async () => {
  const text = 'model M(x: [B, 3]) -> [B, 2] {\n  return x |> Linear(3, 4) |> relu |> Linear(4, 2)\n}\n';
  const exported = exportOnnx(text, 'M');
  assert.ok(!('error' in exported), 'error' in exported ? exported.error : '');
  const model = fields(exported.bytes);
  // ModelProto: ir_version = 1, producer_name = 2, graph = 7, opset_import = 8.
  assert.deepEqual(model.get(1), [{ wire: 0, value: 8 }]);
  assert.equal(Buffer.from(model.get(2)![0].value as Uint8Array).toString(), 'nn-studio');
  const opset = fields(model.get(8)![0].value as Uint8Array);
  assert.deepEqual(opset.get(2), [{ wire: 0, value: 17 }], 'OperatorSetIdProto.version = 2');
  // GraphProto: node = 1, initializer = 5, input = 11, output = 12; NodeProto.op_type = 4.
  const graph = fields(model.get(7)![0].value as Uint8Array);
  const opTypes = graph.get(1)!.map((n) => Buffer.from(fields(n.value as Uint8Array).get(4)![0].value as Uint8Array).toString());
  assert.ok(opTypes.includes('Gemm') || opTypes.includes('MatMul'), opTypes.join(', '));
  assert.equal(graph.get(5)!.length, 4, 'two weights and two biases');
  assert.equal(graph.get(11)!.length, 1);
  assert.equal(graph.get(12)!.length, 1);
  const decoded = ModelProto.toObject(ModelProto.decode(exported.bytes), { longs: Number }) as { graph: { input: { name: string }[] } };
  const session = await ort.InferenceSession.create(exported.bytes);
  assert.deepEqual(session.inputNames, [decoded.graph.input[0].name]);
  const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', new Float32Array(6), [2, 3]) });
  assert.deepEqual([...out[session.outputNames[0]].dims], [2, 2]);
  await session.release();
});
