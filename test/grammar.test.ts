// Tokenizes real `.nn` text with VS Code's own TextMate engine (vscode-textmate + oniguruma)
// and checks the scopes the grammar gives keywords, layers, built-ins, numbers, strings,
// comments and shapes; also checks that language-configuration.json's patterns behave.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vsctm from 'vscode-textmate';
import * as oniguruma from 'vscode-oniguruma';

const root = join(__dirname, '..');

interface Token {
  line: number;
  start: number;
  end: number;
  text: string;
  scopes: string[];
}

async function loadGrammar(): Promise<vsctm.IGrammar> {
  const wasm = readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text: string) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async (scopeName: string) => {
      if (scopeName !== 'source.nn') return null;
      const path = join(root, 'syntaxes/nn.tmLanguage.json');
      return vsctm.parseRawGrammar(readFileSync(path, 'utf8'), path);
    },
  });
  const grammar = await registry.loadGrammar('source.nn');
  assert.ok(grammar, 'the grammar source.nn loads');
  return grammar;
}

const grammarPromise = loadGrammar();

/** Tokens of every line, and the rule-stack depth after the last line (1 = back at top level). */
async function tokenizeWithDepth(text: string): Promise<{ tokens: Token[]; depth: number }> {
  const grammar = await grammarPromise;
  const tokens: Token[] = [];
  let state = vsctm.INITIAL;
  text.split('\n').forEach((lineText, line) => {
    const result = grammar.tokenizeLine(lineText, state);
    for (const t of result.tokens) {
      const end = Math.min(t.endIndex, lineText.length);
      tokens.push({ line, start: t.startIndex, end, text: lineText.slice(t.startIndex, end), scopes: t.scopes });
    }
    state = result.ruleStack;
  });
  return { tokens, depth: state.depth };
}

async function tokenize(text: string): Promise<Token[]> {
  return (await tokenizeWithDepth(text)).tokens;
}

/**
 * The scopes shared by every token covering the `occurrence`-th appearance of `needle`
 * on the first line that contains `lineMarker` (so a check names a token, not a column).
 */
function scopesOf(tokens: Token[], text: string, lineMarker: string, needle: string, occurrence = 0): string[] {
  const lines = text.split('\n');
  const line = lines.findIndex((l) => l.includes(lineMarker));
  assert.ok(line >= 0, `no line contains ${JSON.stringify(lineMarker)}`);
  let column = -1;
  for (let i = 0; i <= occurrence; i++) column = lines[line]!.indexOf(needle, column + 1);
  assert.ok(column >= 0, `line ${line} has no ${JSON.stringify(needle)} #${occurrence}`);
  const covering = tokens.filter((t) => t.line === line && t.end > column && t.start < column + needle.length);
  assert.ok(covering.length > 0);
  return covering[0]!.scopes.filter((s) => covering.every((t) => t.scopes.includes(s)));
}

function hasScope(scopes: string[], prefix: string): boolean {
  return scopes.some((s) => s === prefix || s.startsWith(prefix + '.'));
}

function expectScope(tokens: Token[], text: string, lineMarker: string, needle: string, scope: string, occurrence = 0): void {
  const scopes = scopesOf(tokens, text, lineMarker, needle, occurrence);
  assert.ok(hasScope(scopes, scope), `${JSON.stringify(needle)} on "${lineMarker}" has ${scopes.join(' ')}, expected ${scope}`);
}

function expectNoScope(tokens: Token[], text: string, lineMarker: string, needle: string, scope: string, occurrence = 0): void {
  const scopes = scopesOf(tokens, text, lineMarker, needle, occurrence);
  assert.ok(!hasScope(scopes, scope), `${JSON.stringify(needle)} on "${lineMarker}" has ${scopes.join(' ')}, not expected ${scope}`);
}

const cnn = readFileSync(join(root, 'test/fixtures/conformance/ok_cnn.nn'), 'utf8');

test('the manifest points at the grammar and the language configuration', () => {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const grammar = manifest.contributes.grammars.find((g: { language: string }) => g.language === 'nn');
  assert.equal(grammar.scopeName, 'source.nn');
  const raw = JSON.parse(readFileSync(join(root, grammar.path), 'utf8'));
  assert.equal(raw.scopeName, 'source.nn');
  const language = manifest.contributes.languages.find((l: { id: string }) => l.id === 'nn');
  JSON.parse(readFileSync(join(root, language.configuration), 'utf8'));
});

test('keywords, declarations and the train block (ok_cnn.nn)', async () => {
  const tokens = await tokenize(cnn);
  expectScope(tokens, cnn, 'const classes', 'const', 'keyword.other.const');
  expectScope(tokens, cnn, 'const classes', 'classes', 'variable.other.constant');
  expectScope(tokens, cnn, 'model Net', 'model', 'keyword.other.model');
  expectScope(tokens, cnn, 'model Net', 'Net', 'entity.name.type.model');
  expectScope(tokens, cnn, 'model Net', 'x', 'variable.parameter');
  expectScope(tokens, cnn, 'model Net', '->', 'keyword.operator.arrow');
  expectScope(tokens, cnn, 'return fc2', 'return', 'keyword.control.return');
  expectScope(tokens, cnn, 'train Net', 'train', 'keyword.other.train');
  expectScope(tokens, cnn, 'train Net', 'Net', 'entity.name.type.model');
  expectScope(tokens, cnn, 'data      =', 'data', 'support.type.property-name.train-key');
  expectScope(tokens, cnn, 'epochs    =', 'epochs', 'support.type.property-name.train-key');
  expectScope(tokens, cnn, 'data      =', 'fashion_mnist', 'support.function.dataset');
  expectScope(tokens, cnn, 'data      =', 'train', 'variable.parameter.keyword');
  expectNoScope(tokens, cnn, 'data      =', 'train', 'keyword');
  expectScope(tokens, cnn, 'loss      =', 'cross_entropy', 'support.function.loss');
  expectScope(tokens, cnn, 'optimizer =', 'Adam', 'support.class.optimizer');
  expectScope(tokens, cnn, 'optimizer =', 'lr', 'variable.parameter.keyword');
});

test('layer constructors, built-in functions and user calls', async () => {
  const tokens = await tokenize(cnn);
  expectScope(tokens, cnn, 'conv1 = Conv2d', 'Conv2d', 'support.class.layer');
  expectScope(tokens, cnn, 'fc1   = Linear', 'Linear', 'support.class.layer');
  expectScope(tokens, cnn, 'h = relu(conv1', 'relu', 'support.function.builtin');
  expectScope(tokens, cnn, 'h = relu(conv1', 'conv1', 'entity.name.function.call');
  expectScope(tokens, cnn, 'max_pool2d', 'max_pool2d', 'support.function.builtin');
  expectScope(tokens, cnn, 'h = flatten', 'flatten', 'support.function.builtin');
  expectScope(tokens, cnn, 'dropout', 'dropout', 'support.function.builtin');

  const text = [
    'fn my_linear(x: [B, I], W: [O, I], b: [O]) -> [B, O] {',
    '  return x @ transpose(W, 0, 1) + b',
    '} grad(g) {',
    '  db = sum(g, 0)',
    '  return g @ W, transpose(g, 0, 1) @ x, db',
    '}',
    'model Residual[c, k](x: [B, c, H, W]) -> [B, c, H, W] {',
    '  w = param([c], init = kaiming_uniform)',
    '  bn = BatchNorm2d(c); ln = LayerNorm(c); e = Embedding(10, c); b1 = BatchNorm1d(c)',
    '  return x * w ** 2 |> leaky_relu(slope = 0.1) |> log_softmax |> Block(c)',
    '}',
  ].join('\n');
  const t = await tokenize(text);
  expectScope(t, text, 'fn my_linear', 'fn', 'keyword.other.fn');
  expectScope(t, text, 'fn my_linear', 'my_linear', 'entity.name.function');
  expectScope(t, text, 'fn my_linear', 'W', 'variable.parameter');
  expectScope(t, text, 'x @ transpose', 'transpose', 'support.function.builtin');
  expectScope(t, text, 'x @ transpose', '@', 'keyword.operator.matmul');
  expectScope(t, text, '} grad(g)', 'grad', 'keyword.other.grad');
  expectScope(t, text, '} grad(g)', 'g', 'variable.parameter.gradient', 1);
  expectScope(t, text, 'db = sum', 'sum', 'support.function.builtin');
  expectScope(t, text, 'model Residual', 'Residual', 'entity.name.type.model');
  expectScope(t, text, 'model Residual', 'c', 'variable.parameter.hyper', 0);
  expectScope(t, text, 'model Residual', 'k', 'variable.parameter.hyper');
  expectScope(t, text, 'w = param', 'param', 'support.function.builtin');
  expectScope(t, text, 'w = param', 'kaiming_uniform', 'support.constant.init');
  for (const layer of ['BatchNorm2d', 'LayerNorm', 'Embedding', 'BatchNorm1d']) {
    expectScope(t, text, 'bn = BatchNorm2d', layer, 'support.class.layer');
  }
  expectScope(t, text, 'bn = BatchNorm2d', ';', 'punctuation.terminator.statement');
  expectScope(t, text, 'w ** 2', '**', 'keyword.operator.arithmetic.power');
  expectScope(t, text, 'w ** 2', '|>', 'keyword.operator.pipe');
  expectScope(t, text, 'w ** 2', 'leaky_relu', 'support.function.builtin');
  expectScope(t, text, 'w ** 2', 'slope', 'variable.parameter.keyword');
  expectScope(t, text, 'w ** 2', 'log_softmax', 'support.function.builtin');
  expectScope(t, text, 'w ** 2', 'Block', 'entity.name.type.model');
});

test('shapes: brackets, integer and symbolic dims, int element type, variadic groups', async () => {
  const text = [
    'model Net(x: [B, 1, 28, 28], tokens: int[B, T]) -> [B, C * H / 2] {',
    '  return reshape(x, [B, -1])',
    '}',
    'fn swish(x: [*S]) -> [*S] {',
    '  return x',
    '}',
  ].join('\n');
  const t = await tokenize(text);
  expectScope(t, text, 'model Net', '[', 'meta.shape', 0);
  expectScope(t, text, 'model Net', '[', 'punctuation.definition.shape.begin', 0);
  expectScope(t, text, 'model Net', ']', 'punctuation.definition.shape.end', 0);
  expectScope(t, text, 'model Net', 'B', 'variable.other.dim', 0);
  expectScope(t, text, 'model Net', '28', 'constant.numeric.integer', 0);
  expectScope(t, text, 'model Net', '28', 'meta.shape', 1);
  expectScope(t, text, 'model Net', 'int', 'storage.type.int');
  expectScope(t, text, 'model Net', 'T', 'variable.other.dim');
  expectScope(t, text, 'model Net', '*', 'keyword.operator.arithmetic');
  expectScope(t, text, 'model Net', 'H', 'variable.other.dim');
  expectScope(t, text, 'reshape(x', '-', 'meta.shape');
  expectScope(t, text, 'reshape(x', '1', 'constant.numeric.integer');
  expectScope(t, text, 'fn swish', '*', 'keyword.operator.variadic', 0);
  expectScope(t, text, 'fn swish', 'S', 'variable.other.dim.variadic', 0);
  expectNoScope(t, text, 'return x', 'x', 'meta.shape');
});

test('numbers, strings with escapes, booleans and comments', async () => {
  const text = [
    '# a comment with Linear and 3 inside',
    'train M {',
    '  data = csv("data/a \\"b\\" \\\\ c.csv", label = "y")  # trailing comment',
    '  optimizer = SGD(lr = 1e-3, momentum = 0.9, weight_decay = .5)',
    '  epochs = 3',
    '}',
    'model M(x: [B, 2]) -> [B, 2] {',
    '  return Linear(2, 2, bias = false)(x)      #! NN2103 NN2104',
    '}',
    'x = "unterminated',
    'y = 1',
  ].join('\n');
  const t = await tokenize(text);
  expectScope(t, text, '# a comment', 'Linear', 'comment.line.number-sign');
  expectNoScope(t, text, '# a comment', 'Linear', 'support.class.layer');
  expectScope(t, text, '# a comment', '#', 'punctuation.definition.comment');
  expectScope(t, text, 'csv(', 'csv', 'support.function.dataset');
  expectScope(t, text, 'csv(', 'data/a', 'string.quoted.double');
  expectScope(t, text, 'csv(', '\\"', 'constant.character.escape', 0);
  expectScope(t, text, 'csv(', '\\\\', 'constant.character.escape');
  expectScope(t, text, 'csv(', '"y"', 'string.quoted.double');
  expectScope(t, text, 'csv(', 'trailing', 'comment.line.number-sign');
  expectScope(t, text, 'SGD(', '1e-3', 'constant.numeric.float');
  expectScope(t, text, 'SGD(', '0.9', 'constant.numeric.float');
  expectScope(t, text, 'SGD(', '.5', 'constant.numeric.float');
  expectScope(t, text, 'SGD(', 'SGD', 'support.class.optimizer');
  expectScope(t, text, 'epochs = 3', '3', 'constant.numeric.integer');
  expectScope(t, text, 'bias = false', 'false', 'constant.language.boolean.false');
  expectScope(t, text, 'bias = false', '#!', 'comment.line.annotation');
  expectScope(t, text, 'bias = false', 'NN2103', 'constant.other.diagnostic-code');
  expectScope(t, text, 'bias = false', 'NN2104', 'constant.other.diagnostic-code');
  // A string ends at the end of its line, so the next line is code again.
  expectScope(t, text, 'x = "unterminated', 'unterminated', 'string.quoted.double');
  expectScope(t, text, 'y = 1', '1', 'constant.numeric.integer');
  expectNoScope(t, text, 'y = 1', 'y', 'string');
});

test('names that contain a keyword or a digit are plain names', async () => {
  const text = 'model M(x: [B, 2]) -> [B, 2] {\n  returns = fc1(x2) + model_out + relu_1\n  return returns\n}';
  const t = await tokenize(text);
  expectNoScope(t, text, 'returns =', 'returns', 'keyword');
  expectNoScope(t, text, 'returns =', '1', 'constant.numeric');
  expectNoScope(t, text, 'returns =', '2', 'constant.numeric');
  expectNoScope(t, text, 'returns =', 'model_out', 'keyword');
  expectNoScope(t, text, 'returns =', 'relu_1', 'support.function');
});

test('language configuration: comments, pairs and indentation rules', () => {
  const config = JSON.parse(readFileSync(join(root, 'language-configuration.json'), 'utf8'));
  assert.equal(config.comments.lineComment, '#');
  const opens = config.autoClosingPairs.map((p: { open: string }) => p.open).sort();
  assert.deepEqual(opens, ['"', '(', '[', '{']);
  const increase = new RegExp(config.indentationRules.increaseIndentPattern);
  const decrease = new RegExp(config.indentationRules.decreaseIndentPattern);
  assert.ok(increase.test('model Net(x: [B, 784]) -> [B, 10] {'));
  assert.ok(increase.test('train Net {   # comment'));
  assert.ok(increase.test('  h = concat('));
  assert.ok(!increase.test('  h = relu(fc1(h))'));
  assert.ok(!increase.test('# not a block {'));
  assert.ok(decrease.test('}'));
  assert.ok(decrease.test('  } grad(g) {'));
  assert.ok(!decrease.test('  return x'));
  const word = new RegExp(config.wordPattern, 'g');
  assert.deepEqual('fc1(h_2, 0.25)'.match(word), ['fc1', 'h_2', '0.25']);
});

test('every example and fixture tokenizes back to the top level', async () => {
  const files = [
    ...readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.nn')).map((f) => join(root, 'examples', f)),
    ...readdirSync(join(root, 'test/fixtures/cases'))
      .filter((f) => f.endsWith('.nn') && !f.startsWith('err_nn1'))
      .map((f) => join(root, 'test/fixtures/cases', f)),
  ];
  assert.ok(files.length > 50);
  for (const file of files) {
    const { depth } = await tokenizeWithDepth(readFileSync(file, 'utf8'));
    assert.equal(depth, 1, `${file}: a grammar region is still open at the end`);
  }
});

test('an import: its keyword and path, and a train block with no braces yet ends at one', async () => {
  const text = 'train Net\nimport "blocks.nn"\n';
  const t = await tokenize(text);
  expectScope(t, text, 'import "', 'import', 'keyword.control.import');
  expectScope(t, text, 'import "', 'blocks', 'string.quoted.double');
});
