// A re-parse after an edit: the top-level items the edited span touches are parsed again and
// the others keep their nodes from the previous tree (those after the edit moved by its
// length change), when that is certain to equal a parse of the whole text.

import type { ParseResult } from './parser.js';
import { parseItemsBetween } from './parser.js';
import type { RangeMover } from './reuse.js';
import { TokenSpans } from './scanner.js';

/**
 * The parse of `text` from `before`, the previous text's parse (which had no errors), and the
 * edit between them; null when the items it touched do not parse cleanly on their own.
 */
export function reparse(before: ParseResult, text: string, mover: RangeMover, tokens: boolean): ParseResult | null {
  const { edit, delta } = mover;
  const items = before.tree.items;
  // The touched items, the one ending where the edit starts and the one starting where it ends included.
  let first = 0;
  while (first < items.length && items[first].range.end < edit.from) first++;
  let last = items.length - 1;
  while (last >= first && items[last].range.start > edit.oldEnd) last--;
  const start = first > 0 ? items[first - 1].range.end : 0;
  const previousStop = last + 1 < items.length ? items[last + 1].range.start : before.tree.range.end;
  const stop = previousStop + delta;
  const middle = parseItemsBetween(text, start, stop);
  if (middle === null) return null;
  const after = items.slice(last + 1);
  if (delta !== 0) for (const item of after) mover.tree(item);
  const tree = { kind: 'file' as const, items: [...items.slice(0, first), ...middle.items, ...after], range: { start: 0, end: text.length } };
  if (!tokens) return { tree, errors: [] };
  return { tree, errors: [], tokens: TokenSpans.spliced(text, before.tokens!, middle.tokens, start, stop, previousStop, delta) };
}
