// Generates engine/src/onnx/onnx.proto.json, the protobufjs descriptor the ONNX graph builder
// encodes with, from ONNX's own schema engine/src/onnx/onnx.proto (copied unchanged from the
// onnx/onnx repository, tag v1.22.0, Apache License 2.0). Run after replacing the .proto;
// test/onnx/proto.test.ts checks that the two agree.
// Usage: node scripts/onnx-proto.mjs [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import protobuf from 'protobufjs';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const protoPath = join(root, 'engine/src/onnx/onnx.proto');
const jsonPath = join(root, 'engine/src/onnx/onnx.proto.json');

/** The descriptor of the .proto as protobufjs reads it (field names in camelCase). */
export function descriptorOf(protoText) {
  return JSON.stringify(protobuf.parse(protoText, { keepCase: false }).root.toJSON(), null, 1) + '\n';
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const generated = descriptorOf(readFileSync(protoPath, 'utf8'));
  if (process.argv.includes('--check')) {
    if (readFileSync(jsonPath, 'utf8') !== generated) {
      console.error(`${jsonPath} is stale: run node scripts/onnx-proto.mjs`);
      process.exit(1);
    }
  } else {
    writeFileSync(jsonPath, generated);
    console.log(`wrote ${jsonPath}`);
  }
}
