// The tokens the editor features work on: the front end's scanner output without the
// statement-ending newlines and the end-of-file marker (layout is read from the text itself).

import { scan, type Token } from '../../../engine/src/lang/scanner.js';

export type { Token };

export function tokenize(text: string): Token[] {
  return scan(text).filter((t) => t.kind !== 'newline' && t.kind !== 'eof');
}
