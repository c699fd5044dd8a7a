// A minimal LSP client for server tests and the benchmark: spawns the built server
// (`node dist/server.js --stdio`), speaks JSON-RPC to it, answers its requests
// (configuration, progress creation, registrations) and records what it publishes.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { serverExecArgv } from '../../server/src/protocol.js';
import { pathToFileURL } from 'node:url';
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type InitializeParams,
  type InitializeResult,
  type MessageConnection,
  type Position,
  type PublishDiagnosticsParams,
  type TextEdit,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';

export const repoRoot = resolve(__dirname, '..', '..');
export const serverPath = resolve(repoRoot, 'dist', 'server.js');

/**
 * How long a wait may last before the test fails instead of hanging. It guards against a
 * hang and measures nothing: a loaded CI machine may take many times as long as a desk.
 */
export const HANG_GUARD_MS = 120_000;

export interface StartOptions {
  /** The command line after `node`; the built server over stdio by default. */
  command?: string[];
  initializationOptions?: Record<string, unknown>;
  settings?: Record<string, unknown>;
  /** How the client answers `workspace/configuration`: with `settings` (the default), with an error, or never. */
  configuration?: 'answer' | 'fail' | 'never';
  workspaceFolder?: string;
  /** The server's environment (the test process's by default). */
  env?: NodeJS.ProcessEnv;
}

export class LspClient {
  readonly published: PublishDiagnosticsParams[] = [];
  readonly notifications: { method: string; params: unknown }[] = [];
  readonly progress: { token: string | number; value: { kind: string; percentage?: number; message?: string } }[] = [];
  private readonly docs = new Map<string, TextDocument>();
  private listeners: (() => void)[] = [];
  /** The methods the server has registered for (`client/registerCapability`). */
  readonly registrations: string[] = [];
  /** How many times the server has asked for the settings. */
  configurationRequests = 0;
  /** What the server said it is in its `initialize` answer. */
  serverInfo: InitializeResult['serverInfo'];

  private constructor(
    readonly connection: MessageConnection,
    private readonly child: ChildProcess,
    private settings: Record<string, unknown>,
  ) {}

  /** Starts a server of its own for `body` and stops it afterwards, also when `body` fails. */
  static async using<T>(options: StartOptions, body: (client: LspClient) => Promise<T>): Promise<T> {
    const client = await LspClient.start(options);
    try {
      return await body(client);
    } finally {
      await client.stop();
    }
  }

  static async start(options: StartOptions = {}): Promise<LspClient> {
    const child = spawn(process.execPath, options.command ?? [...serverExecArgv, serverPath, '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'], env: options.env ?? process.env });
    const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    const client = new LspClient(connection, child, options.settings ?? {});
    connection.onNotification('textDocument/publishDiagnostics', (params: PublishDiagnosticsParams) => {
      client.published.push(params);
      client.notify();
    });
    connection.onNotification((method: string, params: unknown) => {
      client.notifications.push({ method, params });
      client.notify();
    });
    connection.onNotification('$/progress', (params: { token: string | number; value: { kind: string } }) => {
      client.progress.push(params);
      client.notify();
    });
    connection.onRequest('workspace/configuration', (params: { items: { section?: string }[] }) => {
      client.configurationRequests++;
      client.notify();
      if (options.configuration === 'fail') throw new Error('no settings here');
      if (options.configuration === 'never') return new Promise<never>(() => {});
      return params.items.map(() => client.settings);
    });
    connection.onRequest('window/workDoneProgress/create', () => null);
    connection.onRequest('client/registerCapability', (params: { registrations: { method: string }[] }) => {
      client.registrations.push(...params.registrations.map((r) => r.method));
      return null;
    });
    connection.onRequest('workspace/inlayHint/refresh', () => null);
    connection.onNotification('window/logMessage', () => undefined);
    connection.listen();
    const folder = options.workspaceFolder ?? repoRoot;
    const params: InitializeParams = {
      processId: process.pid,
      rootUri: pathToFileURL(folder).href,
      workspaceFolders: [{ uri: pathToFileURL(folder).href, name: 'workspace' }],
      capabilities: {
        workspace: { configuration: true, inlayHint: { refreshSupport: true }, didChangeConfiguration: { dynamicRegistration: true }, didChangeWatchedFiles: { dynamicRegistration: true } },
        window: { workDoneProgress: true },
        textDocument: { publishDiagnostics: { relatedInformation: true, codeDescriptionSupport: true } },
      },
      initializationOptions: options.initializationOptions ?? {},
    };
    client.serverInfo = (await connection.sendRequest<InitializeResult>('initialize', params)).serverInfo;
    await connection.sendNotification('initialized', {});
    return client;
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  /** Resolves when `predicate` holds (checked after every message), or rejects after `timeoutMs`. */
  waitFor<T>(predicate: () => T | undefined | null | false, timeoutMs = HANG_GUARD_MS, what = 'condition'): Promise<T> {
    return new Promise((resolvePromise, reject) => {
      const check = () => {
        const value = predicate();
        if (value) {
          done();
          resolvePromise(value);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
      };
      this.listeners.push(check);
      check();
    });
  }

  /** The diagnostics published for this exact version of a document. */
  diagnosticsFor(uri: string, version?: number, timeoutMs = HANG_GUARD_MS): Promise<PublishDiagnosticsParams> {
    const target = version ?? this.docs.get(uri)?.version;
    return this.waitFor(() => [...this.published].reverse().find((p) => p.uri === uri && p.version === target), timeoutMs, `diagnostics of ${uri} v${target}`);
  }

  async open(path: string, text = readFileSync(path, 'utf8')): Promise<string> {
    const uri = pathToFileURL(path).href;
    // Versions restart at 1: forget what was published for an earlier opening.
    for (let i = this.published.length - 1; i >= 0; i--) if (this.published[i].uri === uri) this.published.splice(i, 1);
    this.docs.set(uri, TextDocument.create(uri, 'nn', 1, text));
    await this.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'nn', version: 1, text } });
    return uri;
  }

  /** Replaces the whole text (a new version); returns the version. */
  async replace(uri: string, text: string): Promise<number> {
    const doc = this.document(uri);
    const next = TextDocument.update(doc, [{ text }], doc.version + 1);
    this.docs.set(uri, next);
    await this.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version: next.version }, contentChanges: [{ text }] });
    return next.version;
  }

  /** Applies edits locally and sends them as incremental changes; returns the new version. */
  async edit(uri: string, edits: TextEdit[]): Promise<number> {
    const doc = this.document(uri);
    const sorted = [...edits].sort((a, b) => doc.offsetAt(b.range.start) - doc.offsetAt(a.range.start));
    const next = TextDocument.update(doc, sorted.map((e) => ({ range: e.range, text: e.newText })), doc.version + 1);
    this.docs.set(uri, next);
    await this.connection.sendNotification('textDocument/didChange', {
      textDocument: { uri, version: next.version },
      contentChanges: sorted.map((e) => ({ range: e.range, text: e.newText })),
    });
    return next.version;
  }

  /** The server process's id (for memory measurements). */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  document(uri: string): TextDocument {
    const doc = this.docs.get(uri);
    if (!doc) throw new Error(`${uri} is not open`);
    return doc;
  }

  /** The position of the `nth` occurrence (from 0) of `needle` in a document, plus `delta` characters. */
  positionOf(uri: string, needle: string, nth = 0, delta = 0): Position {
    const text = this.document(uri).getText();
    let at = -1;
    for (let i = 0; i <= nth; i++) {
      at = text.indexOf(needle, at + 1);
      if (at < 0) throw new Error(`${needle} #${nth} not found`);
    }
    return this.document(uri).positionAt(at + delta);
  }

  request<R>(method: string, params: unknown): Promise<R> {
    return this.connection.sendRequest(method, params) as Promise<R>;
  }

  /** Changes the settings and resolves once the server has read them and re-published `uri`. */
  async setSettings(settings: Record<string, unknown>, uri: string): Promise<void> {
    this.settings = settings;
    const asked = this.configurationRequests;
    await this.connection.sendNotification('workspace/didChangeConfiguration', { settings: { nn: settings } });
    await this.waitFor(() => this.configurationRequests > asked, 10000, 'the server to read the settings');
    const published = this.published.length;
    await this.waitFor(() => this.published.slice(published).some((p) => p.uri === uri), 10000, 'a publish with the new settings');
  }

  async stop(): Promise<void> {
    try {
      await this.connection.sendRequest('shutdown');
      await this.connection.sendNotification('exit');
    } catch {
      // The server may already be gone.
    }
    this.connection.dispose();
    this.child.kill();
  }
}

/** Applies LSP text edits to a text. */
export function applyEdits(text: string, edits: TextEdit[]): string {
  return TextDocument.applyEdits(TextDocument.create('file:///x.nn', 'nn', 1, text), edits);
}
