// Reads a shape as the checker shows it (`[B, 8, (H - 1) // 2 + 1, C*(W // 2)]`) and
// evaluates it at given dim values: what the user reads must mean what the checker knows.

type Token = { kind: 'num' | 'name' | 'op'; text: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(\d+|[A-Za-z_][A-Za-z0-9_]*|\|[A-Za-z_][A-Za-z0-9_]*\||\/\/|[-+*(),[\]])/y;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) {
      if (/^\s*$/.test(text.slice(at))) break;
      throw new Error(`cannot read the shape text "${text}" at ${at}`);
    }
    const t = m[1];
    tokens.push({ kind: /^\d/.test(t) ? 'num' : /^[A-Za-z_|]/.test(t) ? 'name' : 'op', text: t });
    at = re.lastIndex;
  }
  return tokens;
}

/** The dims of a formatted shape evaluated with `env` (floor division for `//`). */
export function evaluateShapeText(text: string, env: ReadonlyMap<string, number>): number[] {
  const tokens = tokenize(text);
  let at = 0;
  const peek = () => tokens[at]?.text;
  const expect = (t: string) => {
    if (tokens[at]?.text !== t) throw new Error(`cannot read the shape text "${text}": expected ${t}`);
    at++;
  };
  const lookup = (n: string): number => {
    // `|S|`, the elements a variadic group spans: the group's one dim to the evaluation.
    const v = env.get(n) ?? (n.startsWith('|') ? env.get(`*${n.slice(1, -1)}`) : undefined);
    if (v === undefined) throw new Error(`the shape text "${text}" names ${n}, which has no value`);
    return v;
  };
  const primary = (): number => {
    const token = tokens[at++];
    if (!token) throw new Error(`cannot read the shape text "${text}": it ends early`);
    if (token.text === '(') {
      const v = sum();
      expect(')');
      return v;
    }
    if (token.text === '-') return -primary();
    // A variadic group `*S` (one dim to the evaluation) where an operand belongs.
    if (token.text === '*' && tokens[at]?.kind === 'name') return lookup(`*${tokens[at++].text}`);
    if (token.kind === 'num') return Number(token.text);
    if (token.kind === 'name') return lookup(token.text);
    throw new Error(`cannot read the shape text "${text}" at ${token.text}`);
  };
  // `*` and `//` share a precedence level, left to right, as in Python.
  const productOf = (): number => {
    let v = primary();
    for (;;) {
      if (peek() === '*') {
        at++;
        v *= primary();
      } else if (peek() === '//') {
        at++;
        v = Math.floor(v / primary());
      } else return v;
    }
  };
  const sum = (): number => {
    let v = productOf();
    for (;;) {
      if (peek() === '+') {
        at++;
        v += productOf();
      } else if (peek() === '-') {
        at++;
        v -= productOf();
      } else return v;
    }
  };
  expect('[');
  const dims: number[] = [];
  while (peek() !== ']') {
    dims.push(sum());
    if (peek() === ',') at++;
    else break;
  }
  expect(']');
  return dims;
}
