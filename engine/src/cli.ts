// The `nn` command: a dispatcher over a table of sub-commands, each in engine/src/cli/<name>.ts
// exporting `run(args): Promise<number>` (the exit code). Commands load lazily, so `nn check`
// never loads the training or ONNX code.

import { version } from '../../package.json';

interface Command {
  summary: string;
  load: () => Promise<{ run(args: string[]): Promise<number> }>;
}

const COMMANDS: Record<string, Command> = {
  check: { summary: 'check .nn files and print diagnostics (--format json)', load: () => import('./cli/check.js') },
  summary: { summary: 'print a layer table per model: shapes, gradient shapes, parameters', load: () => import('./cli/summary.js') },
  train: { summary: 'train the model of a `train` block', load: () => import('./cli/train.js') },
  export: { summary: 'export a model to ONNX or PyTorch', load: () => import('./cli/export.js') },
  gradcheck: { summary: 'compare `grad` blocks with finite differences', load: () => import('./cli/gradcheck.js') },
  generate: { summary: 'sample text from a model trained on text(...) data', load: () => import('./cli/generate.js') },
  probe: { summary: 'run a few steps and report gradient findings', load: () => import('./cli/probe.js') },
  lsp: { summary: 'start the language server on stdio', load: () => import('./cli/lsp.js') },
};

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`);
  return ['usage: nn <command> [arguments]', '       nn --version', '', 'commands:', ...lines, '', 'Run `nn <command> --help` for a command\'s options.'].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    console.log(`nn ${version}`);
    return 0;
  }
  const command = Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    console.error(`nn: unknown command \`${name}\`\n\n${help()}`);
    return 2;
  }
  const module = await command.load();
  return module.run(args);
}

// A reader that stops reading (`nn train --json | head`) ends the command quietly, as it
// ends other Unix tools: no stack trace for a closed pipe.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => process.exit(error.code === 'EPIPE' ? 0 : 74));
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`nn: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 70;
  },
);
