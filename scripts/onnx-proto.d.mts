// Types of scripts/onnx-proto.mjs for the TypeScript tests that import it.
export function descriptorOf(protoText: string): string;
