// Finds the declaration of a layer among the document symbols the language server reports,
// so that clicking a layer in the gradient-flow chart can reveal it. Pure over a symbol tree.

export interface SymbolTree<T> {
  name: string;
  children?: T[];
}

/** The bare identifier of a symbol name such as `fc1`, `fc1: Linear` or `fc1 = Linear(...)`. */
function identifier(symbolName: string): string {
  return symbolName.split(/[\s:=(]/, 1)[0];
}

function depthFirst<T extends SymbolTree<T>>(symbols: readonly T[], name: string): T | undefined {
  for (const symbol of symbols) {
    if (identifier(symbol.name) === name) return symbol;
    const inner = depthFirst(symbol.children ?? [], name);
    if (inner) return inner;
  }
  return undefined;
}

/**
 * The symbol declaring `layer` (a state_dict prefix such as `fc1` or `block1.conv`), looked
 * for inside `model` first. A nested name falls back to its outermost part, the layer of
 * the model that holds it.
 */
export function findLayerSymbol<T extends SymbolTree<T>>(symbols: readonly T[], layer: string, model?: string): T | undefined {
  const container = model === undefined ? undefined : symbols.find((s) => identifier(s.name) === model);
  const scopes = container ? [container.children ?? [], symbols] : [symbols];
  const names = layer.includes('.') ? [layer, layer.split('.')[0]] : [layer];
  for (const name of names) {
    for (const scope of scopes) {
      const found = depthFirst(scope, name);
      if (found) return found;
    }
  }
  return undefined;
}
