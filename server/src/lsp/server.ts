// The language server: documents and their analysis cache, debounced checking and
// publishing of diagnostics (the checker's and the latest run's findings), settings,
// workspace trust, and the wiring of every feature and custom request.

import { dirname } from 'node:path';
import { TextDocument } from 'vscode-languageserver-textdocument';
import {
  CodeLensRefreshRequest,
  DidChangeConfigurationNotification,
  DidChangeWatchedFilesNotification,
  TextDocuments,
  TextDocumentSyncKind,
  type Connection,
  type Diagnostic as LspDiagnostic,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { checkProgram } from '../../../engine/src/lang/program.js';
import { CheckReuse } from '../../../engine/src/lang/reuse.js';
import { fileChecks } from '../../../engine/src/data/index.js';
import { sourceChecks } from '../../../engine/src/data/sourceFiles.js';
import { dataSources, type DataSources } from '../../../engine/src/data/sources.js';
import type { CheckResult } from '../../../engine/src/lang/api.js';
import { sizeLimitDiagnostics } from '../../../engine/src/run/limits.js';
import { AnalysisCache, type Analysis } from '../ide/analysis.js';
import { RunResults } from '../ide/runResults.js';
import { SERVER_COMMANDS, trustChangedNotification, type InitializationOptions, type TrustChangedParams } from '../protocol.js';
import { findingDiagnostic, toDiagnostic } from './convert.js';
import { Debouncer } from './debounce.js';
import { registerFeatures, SEMANTIC_TOKENS_LEGEND } from './features.js';
import { Runs } from './runs.js';
import { DEFAULT_SETTINGS, readSettings, type Settings } from './settings.js';
import { filePathOf } from './workspace.js';
import { name as packageName, version } from '../../../package.json';

/**
 * Delay between an edit and its check: none, beyond handling the edits already received
 * (see `Debouncer`), so an error appears at once. Edits that arrive before the check starts,
 * or while another check runs, replace the pending check instead of queuing another.
 */
export const CHECK_DELAY_MS = 0;

/** How long checks wait for the client's first settings before going on with the defaults. */
export const SETTINGS_WAIT_MS = 2000;

function emptyResult(): CheckResult {
  return { diagnostics: [], bindings: [], layers: [], calls: [], models: [], fns: [], irs: new Map(), fnIrs: new Map(), trains: [] };
}


export function startServer(connection: Connection): void {
  const documents = new TextDocuments(TextDocument);
  const results = new Map<string, RunResults>();
  const checkDebouncer = new Debouncer();
  let settings: Settings = DEFAULT_SETTINGS;
  /** Where built-in data sets are looked for, from `nn.dataCache`, `nn.dataMirror` and the environment. */
  let sources: DataSources | undefined;
  const sourcesOf = (): DataSources | undefined => {
    try {
      return (sources ??= dataSources({ cacheDir: settings.dataCache, mirror: settings.dataMirror }));
    } catch (error) {
      connection.console.error((error as Error).message);
      return undefined;
    }
  };
  let trusted = true;
  let roots: string[] = [];
  let supportsConfiguration = false;
  /** False while the first `workspace/configuration` answer is awaited (clients that have no such request use the defaults). */
  let settingsLoaded = true;
  let supportsProgress = false;
  let supportsInlayRefresh = false;
  let supportsCodeLensRefresh = false;
  let supportsWatchedFiles = false;

  /** An open document's text by file path: an import reads it before the disk's. */
  const openText = (path: string): string | undefined => documents.all().find((d) => filePathOf(d.uri) === path)?.getText();
  /** Each open document's previous check: a re-check keeps the facts of the fns and models an edit cannot affect. */
  const reuses = new Map<string, CheckReuse>();
  const reuseOf = (uri: string) => reuses.get(uri) ?? reuses.set(uri, new CheckReuse()).get(uri)!;
  const cache = new AnalysisCache((uri, text) => {
    const file = filePathOf(uri);
    try {
      const allowPathsOutsideWorkspace = settings.allowPathsOutsideWorkspace;
      const reuse = reuseOf(uri);
      const check = checkProgram(text, file ? { ...fileChecks(dirname(file), { allowPathsOutside: allowPathsOutsideWorkspace, sources: sourcesOf() }), ...sourceChecks(file, openText), semantics: true, reuse } : { semantics: true, reuse });
      // A model over the nn.limits settings gets NN4002 while you type, as in `nn check`.
      check.diagnostics.push(...sizeLimitDiagnostics(check, settings.limits));
      return check;
    } catch (error) {
      // A checker bug must not take the server down; the log says where.
      connection.console.error(`checker failed on ${uri}: ${(error as Error).stack ?? error}`);
      reuses.get(uri)?.clear();
      return emptyResult();
    }
  });

  const analysisOf = (uri: string): Analysis | null => {
    const doc = documents.get(uri);
    return doc ? cache.get(uri, doc.version, doc.getText()) : null;
  };
  const resultsOf = (uri: string): RunResults => {
    let r = results.get(uri);
    if (!r) results.set(uri, (r = new RunResults()));
    return r;
  };

  const publish = (uri: string) => {
    const doc = documents.get(uri);
    const analysis = analysisOf(uri);
    if (!doc || !analysis) return;
    const rank = { error: 0, warning: 1, info: 2 } as const;
    const checked = [...analysis.check.diagnostics].sort((a, b) => rank[a.severity] - rank[b.severity] || a.range.start - b.range.start);
    const diagnostics: LspDiagnostic[] = checked.slice(0, settings.maxNumberOfProblems).map((d) => toDiagnostic(doc, d));
    const runResults = results.get(uri);
    if (runResults?.hasFindings()) {
      for (const finding of runResults.findings(analysis.semantics, analysis.text)) diagnostics.push(findingDiagnostic(doc, finding, 'nn (run)'));
    }
    void connection.sendDiagnostics({ uri, version: doc.version, diagnostics });
  };

  const runs = new Runs(connection, {
    document: (uri) => documents.get(uri),
    analysis: analysisOf,
    results: resultsOf,
    settings: () => settings,
    trusted: () => trusted,
    roots: () => roots,
    progressSupported: () => supportsProgress,
    resultsChanged: (uri) => {
      publish(uri);
      if (supportsInlayRefresh) void connection.languages.inlayHint.refresh();
    },
    dataChanged: () => recheckAll(),
  });

  const check = (uri: string) => {
    // Until the client's settings have arrived, a check could report what they allow
    // (NN4006 for an opted-in path); `fetchSettings` checks every open document then.
    if (!settingsLoaded) return;
    const started = performance.now();
    publish(uri);
    if (settings.trace.server === 'verbose') connection.console.log(`checked ${uri} in ${(performance.now() - started).toFixed(1)} ms`);
    runs.scheduleLiveGradients(uri);
  };

  connection.onInitialize((params): InitializeResult => {
    const capabilities = params.capabilities;
    supportsConfiguration = capabilities.workspace?.configuration === true;
    settingsLoaded = !supportsConfiguration;
    supportsProgress = capabilities.window?.workDoneProgress === true;
    supportsInlayRefresh = capabilities.workspace?.inlayHint?.refreshSupport === true;
    supportsCodeLensRefresh = capabilities.workspace?.codeLens?.refreshSupport === true;
    supportsWatchedFiles = capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration === true;
    const options = (params.initializationOptions ?? {}) as InitializationOptions;
    trusted = options.trusted !== false;
    roots = (params.workspaceFolders ?? []).map((f) => filePathOf(f.uri)).filter((p): p is string => p !== null);
    if (roots.length === 0 && params.rootUri) {
      const root = filePathOf(params.rootUri);
      if (root) roots = [root];
    }
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        hoverProvider: true,
        inlayHintProvider: true,
        codeLensProvider: { resolveProvider: false },
        completionProvider: { triggerCharacters: ['(', ',', '=', ' '], resolveProvider: false },
        signatureHelpProvider: { triggerCharacters: ['(', ','], retriggerCharacters: [','] },
        definitionProvider: true,
        referencesProvider: true,
        renameProvider: { prepareProvider: true },
        documentSymbolProvider: true,
        foldingRangeProvider: true,
        documentFormattingProvider: true,
        semanticTokensProvider: { legend: SEMANTIC_TOKENS_LEGEND, full: true },
        codeActionProvider: { codeActionKinds: ['quickfix'] },
        executeCommandProvider: { commands: Object.values(SERVER_COMMANDS), workDoneProgress: true },
        workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
      },
      serverInfo: { name: packageName, version },
    };
  });

  /** Settings change what the checker reports (allowed paths): check every open document anew. */
  const recheckAll = () => {
    sources = undefined;
    for (const doc of documents.all()) {
      cache.delete(doc.uri);
      check(doc.uri);
    }
  };

  const fetchSettings = async () => {
    if (!supportsConfiguration) return;
    try {
      settings = readSettings(await connection.workspace.getConfiguration({ section: 'nn' }));
    } catch (error) {
      connection.console.error(`cannot read the nn settings, using the defaults: ${(error as Error).message}`);
    }
    settingsLoaded = true;
    recheckAll();
  };

  connection.onInitialized(() => {
    runs.registerProgressCancel();
    if (supportsConfiguration) {
      void connection.client.register(DidChangeConfigurationNotification.type, { section: 'nn' });
      void fetchSettings();
      // A client that never answers must not leave its documents unchecked.
      setTimeout(() => {
        if (settingsLoaded) return;
        connection.console.warn(`no answer to workspace/configuration after ${SETTINGS_WAIT_MS} ms: checking with the default settings`);
        settingsLoaded = true;
        recheckAll();
      }, SETTINGS_WAIT_MS).unref();
    }
    // Imported files saved, created or deleted outside the editor re-check the files that import them.
    if (supportsWatchedFiles) void connection.client.register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: '**/*.nn' }] });
    connection.workspace.onDidChangeWorkspaceFolders((event) => {
      const removed = new Set(event.removed.map((f) => filePathOf(f.uri)));
      roots = [...roots.filter((r) => !removed.has(r)), ...event.added.map((f) => filePathOf(f.uri)).filter((p): p is string => p !== null)];
    });
  });

  connection.onDidChangeConfiguration((change) => {
    if (supportsConfiguration) void fetchSettings();
    else {
      settings = readSettings((change.settings as { nn?: unknown } | null)?.nn);
      recheckAll();
    }
  });

  connection.onNotification(trustChangedNotification, (params: TrustChangedParams) => {
    trusted = params.trusted === true;
    if (!trusted) runs.trustRevoked();
    // The ▶ Train lenses become runnable (or disabled).
    if (supportsCodeLensRefresh) void connection.sendRequest(CodeLensRefreshRequest.type);
  });

  /** The open documents that import the file at `path` are checked anew. */
  const recheckImporters = (path: string | null) => {
    if (path === null) return;
    for (const uri of cache.importersOf(path)) {
      cache.delete(uri);
      checkDebouncer.schedule(uri, CHECK_DELAY_MS, () => check(uri));
    }
  };
  documents.onDidChangeContent(({ document }) => {
    checkDebouncer.schedule(document.uri, CHECK_DELAY_MS, () => check(document.uri));
    recheckImporters(filePathOf(document.uri));
  });
  connection.onDidChangeWatchedFiles(({ changes }) => {
    for (const change of changes) recheckImporters(filePathOf(change.uri));
  });
  documents.onDidClose(({ document }) => {
    checkDebouncer.cancel(document.uri);
    runs.close(document.uri);
    cache.delete(document.uri);
    reuses.delete(document.uri);
    results.delete(document.uri);
    void connection.sendDiagnostics({ uri: document.uri, diagnostics: [] });
  });

  registerFeatures(connection, {
    document: (uri) => documents.get(uri),
    analysis: analysisOf,
    flowLookup: (uri) => {
      const analysis = analysisOf(uri);
      const r = results.get(uri);
      return (model) => (analysis && r ? r.flow(model, analysis.semantics, analysis.text) : null);
    },
    findings: (uri) => {
      const analysis = analysisOf(uri);
      const r = results.get(uri);
      return analysis && r?.hasFindings() ? r.findings(analysis.semantics, analysis.text) : [];
    },
    settings: () => settings,
    trusted: () => trusted,
  });
  runs.register();

  documents.listen(connection);
  connection.listen();
}
