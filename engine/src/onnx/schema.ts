// ONNX's protobuf schema as the graph builder and the tests use it: the official
// `onnx.proto` (onnx/onnx v1.22.0, beside this file with its Apache-2.0 licence), read
// through protobufjs from the descriptor scripts/onnx-proto.mjs generates from it
// (`onnx.proto.json`; field names in camelCase). No field number is written by hand here.

import protobuf from 'protobufjs';
import descriptor from './onnx.proto.json';

const root = protobuf.Root.fromJSON(descriptor);

/** The ModelProto message type, for encoding (builder) and decoding (tests). */
export const ModelProto = root.lookupType('onnx.ModelProto');

/** TensorProto.DataType: FLOAT, INT64, BOOL, DOUBLE, ... by name. */
export const DataType = root.lookupEnum('onnx.TensorProto.DataType').values as Readonly<Record<string, number>>;

/** AttributeProto.AttributeType: FLOAT, INT, STRING, FLOATS, INTS, ... by name. */
export const AttributeType = root.lookupEnum('onnx.AttributeProto.AttributeType').values as Readonly<Record<string, number>>;

/** The IR version of a model with opset `opset` (ONNX's versioning table: opset 17 is IR 8). */
export const IR_VERSION_OF_OPSET: Readonly<Record<number, number>> = { 17: root.lookupEnum('onnx.Version').values.IR_VERSION_2021_7_30 };
