// What scripts/generate.mjs writes, from the engine's catalogue of built-ins: the TextMate
// grammar's lists of built-in names and the built-in tables of docs/language.md (between
// `<!-- generated: NAME -->` and `<!-- end generated -->`). Pure functions of the current
// file's text, so the staleness test computes the same and compares.

import { catalogueEntries, type CatalogueEntry } from '../engine/src/lang/catalogue.js';
import { ITEM_KEYWORDS } from '../engine/src/lang/scanner.js';
import { DATA_SETS, OPTIMIZERS, SCHEDULES, TRAIN_KEYS, trainCallSignature } from '../engine/src/lang/trainCatalogue.js';

export const GRAMMAR_FILE = 'syntaxes/nn.tmLanguage.json';
export const LANGUAGE_DOC = 'docs/language.md';

const names = (entries: readonly CatalogueEntry[]) => entries.map((e) => e.name);

/** `\b(?:a|b)\b`, longest names first so that a name is never cut short by a shorter one. */
function alternation(words: readonly string[], suffix = ''): string {
  const sorted = [...new Set(words)].sort((a, b) => b.length - a.length || a.localeCompare(b));
  return `\\b(?:${sorted.join('|')})\\b${suffix}`;
}

/** The grammar's repository rules whose `match` is a list of built-in names. */
export function grammarMatches(): Record<string, string> {
  return {
    layer: alternation(names(catalogueEntries('layer'))),
    optimizer: alternation(names(catalogueEntries('optimizer'))),
    builtin: alternation([...names(catalogueEntries('function')), ...names(catalogueEntries('param'))]),
    loss: alternation(names(catalogueEntries('loss'))),
    dataset: alternation(names(catalogueEntries('dataset')), '(?=\\s*\\()'),
    init: alternation(names(catalogueEntries('init'))),
  };
}

/** The grammar with its generated lists: the rules above and the train keys of the train block. */
export function generateGrammar(current: string): string {
  const grammar = JSON.parse(current) as { repository: Record<string, { match?: string; end?: string; patterns?: unknown[] }> };
  for (const [rule, match] of Object.entries(grammarMatches())) {
    const entry = grammar.repository[rule];
    if (!entry) throw new Error(`${GRAMMAR_FILE}: no repository rule "${rule}"`);
    entry.match = match;
  }
  const block = (grammar.repository['train-block'].patterns as { name?: string; patterns?: { name?: string; match?: string }[] }[]).find((p) => p.name === 'meta.block.train.nn');
  const keys = block?.patterns?.find((p) => p.name === 'support.type.property-name.train-key.nn');
  if (!keys) throw new Error(`${GRAMMAR_FILE}: no train-key rule in the train block`);
  keys.match = alternation(TRAIN_KEYS.map((k) => k.name), '(?=\\s*=(?!=))');
  // The scanner's item keywords: a train block with no braces yet ends at the next item, and each
  // item keyword but `import` (its own keyword.control rule) is a declaration keyword, as is `grad`.
  grammar.repository['train-block'].end = `(?<=\\})|(?=^\\s*(?:${ITEM_KEYWORDS.join('|')})\\b)`;
  const declarations = (grammar.repository.keyword.patterns as { name?: string; match?: string }[]).find((p) => p.name === 'keyword.other.$1.nn');
  if (!declarations) throw new Error(`${GRAMMAR_FILE}: no declaration keyword rule`);
  declarations.match = `\\b(${[...ITEM_KEYWORDS.filter((k) => k !== 'import'), 'grad'].join('|')})\\b`;
  return `${JSON.stringify(grammar, null, 2)}\n`;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (text: string) => `\`${text}\``;

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

/** Each generated table of docs/language.md by its marker name. */
export function docTables(): Record<string, string> {
  const layers = catalogueEntries('layer');
  const functions = [...catalogueEntries('function'), ...catalogueEntries('param')];
  return {
    layers: table(['constructor', 'what it does', 'parameters', 'gradient'], layers.map((e) => [code(e.signature), e.summary, e.weights ?? '', e.gradient ? code(e.gradient) : ''])),
    functions: table(['function', 'what it does', 'gradient'], functions.map((e) => [code(e.signature), e.summary, e.gradient ? code(e.gradient) : '—'])),
    losses: table(['loss', 'what it does', 'gradient'], catalogueEntries('loss').map((e) => [code(e.signature), e.summary, code(e.gradient ?? '')])),
    inits: table(['init', 'what it does'], catalogueEntries('init').map((e) => [code(e.signature), e.summary])),
    'train-keys': table(
      ['key', 'value', 'default'],
      TRAIN_KEYS.map((k) => [code(k.name), k.value === 'optimizer' ? `${k.doc} ${Object.values(OPTIMIZERS).map((o) => code(catalogueEntries('optimizer').find((e) => e.name === o.name)!.signature)).join(', ')}` : k.value === 'schedule' ? `${k.doc} ${Object.values(SCHEDULES).map((s) => code(trainCallSignature(s.name, s.params))).join(', ')} (below)` : k.value === 'data' ? `${k.doc.replace(/\.$/, '')} (below).` : k.value === 'loss' ? `${k.doc} ${catalogueEntries('loss').map((e) => code(e.name)).join(', ')}` : k.doc, k.default === undefined ? 'required' : code(k.default)]),
    ),
    optimizers: table(['optimizer', 'what it does'], catalogueEntries('optimizer').map((e) => [code(e.signature), e.summary])),
    schedules: table(['schedule', 'learning rate at step t (from 0)'], Object.values(SCHEDULES).map((s) => [code(trainCallSignature(s.name, s.params)), s.doc])),
    'data-sets': table(
      ['data set', 'samples', 'classes', 'what it is'],
      Object.values(DATA_SETS).map((set) => [code(catalogueEntries('dataset').find((e) => e.name === set.name)!.signature), set.samples, set.classes, set.doc]),
    ),
  };
}

const MARKER = /<!-- generated: ([\w-]+) -->\n[\s\S]*?<!-- end generated -->/g;

/** docs/language.md with every generated table replaced by the current one. */
export function generateLanguageDoc(current: string): string {
  const tables = docTables();
  const seen = new Set<string>();
  const out = current.replace(MARKER, (_, name: string) => {
    const content = tables[name];
    if (content === undefined) throw new Error(`${LANGUAGE_DOC}: unknown generated table "${name}"`);
    seen.add(name);
    return `<!-- generated: ${name} -->\n${content}\n<!-- end generated -->`;
  });
  const missing = Object.keys(tables).filter((name) => !seen.has(name));
  if (missing.length > 0) throw new Error(`${LANGUAGE_DOC}: no markers for the generated tables ${missing.join(', ')}`);
  return out;
}

/** Every generated file: its path and its content from the current one. */
export const GENERATED: readonly { path: string; generate: (current: string) => string }[] = [
  { path: GRAMMAR_FILE, generate: generateGrammar },
  { path: LANGUAGE_DOC, generate: generateLanguageDoc },
];
