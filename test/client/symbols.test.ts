// Finding a layer's declaration among the language server's document symbols.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findLayerSymbol } from '../../client/src/training/symbols.js';

interface Sym {
  name: string;
  line: number;
  children?: Sym[];
}

const symbols: Sym[] = [
  { name: 'Block', line: 1, children: [{ name: 'conv', line: 2 }, { name: 'fc1', line: 3 }] },
  {
    name: 'Net',
    line: 10,
    children: [
      { name: 'block1: Block', line: 11 },
      { name: 'fc1 = Linear(784, 10)', line: 12 },
    ],
  },
  { name: 'Other', line: 20, children: [{ name: 'head', line: 21 }] },
];

test('a layer is looked for in its model first', () => {
  assert.equal(findLayerSymbol(symbols, 'fc1', 'Net')?.line, 12);
  assert.equal(findLayerSymbol(symbols, 'fc1', 'Block')?.line, 3);
  // Without a model, the first declaration in document order.
  assert.equal(findLayerSymbol(symbols, 'fc1')?.line, 3);
});

test('outside the model, and nested names fall back to their outer layer', () => {
  assert.equal(findLayerSymbol(symbols, 'head', 'Net')?.line, 21);
  assert.equal(findLayerSymbol(symbols, 'block1.conv', 'Net')?.line, 11);
  assert.equal(findLayerSymbol(symbols, 'missing', 'Net'), undefined);
  assert.equal(findLayerSymbol([], 'fc1', 'Net'), undefined);
});
