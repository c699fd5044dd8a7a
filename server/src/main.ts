// Entry point of dist/server.js: the language server over stdio (`--stdio`, what `nn lsp`
// uses) or Node IPC (`--node-ipc`, what the VS Code client passes); the library reads the flag.

import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startServer } from './lsp/server.js';

startServer(createConnection(ProposedFeatures.all));
