// The error the ONNX lowering throws when a model uses a construct it cannot express;
// `backend = "auto"` catches it and falls back to the TS engine with its message.

import type { TextRange } from '../lang/api.js';

export class OnnxUnsupported extends Error {
  constructor(
    /** The construct, in the `.nn` file's words: `concat over a symbolic axis`. */
    readonly construct: string,
    /** Where the construct is written, when known. */
    readonly range?: TextRange,
  ) {
    super(`the ONNX backend cannot lower ${construct}`);
    this.name = 'OnnxUnsupported';
  }
}
