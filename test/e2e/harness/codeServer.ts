// Runs one code-server for a test run: private HOME and XDG folders, a fresh user-data dir
// with quiet settings, the extension installed from its .vsix as a user would, and a stop by PID.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { E2eInstall } from './install.js';
import { DATA_ENV } from '../../../engine/src/data/sources.js';

export interface CodeServerOptions {
  /** A folder for everything this server writes (home, user data, extensions, log). */
  root: string;
  workspace: string;
  vsix: string;
  /** When false, workspace trust is on and the workspace opens in restricted mode. */
  trusted: boolean;
  /** Extra user settings, merged over the quiet defaults. */
  settings?: Record<string, unknown>;
}

export interface CodeServer {
  url: string;
  pid: number;
  logFile: string;
  userDataDir: string;
  stop(): Promise<void>;
}

function quietSettings(trusted: boolean): Record<string, unknown> {
  return {
    'security.workspace.trust.enabled': !trusted,
    'security.workspace.trust.startupPrompt': 'never',
    'security.workspace.trust.banner': 'always',
    'security.workspace.trust.untrustedFiles': 'open',
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoUpdate': false,
    'extensions.autoCheckUpdates': false,
    'extensions.ignoreRecommendations': true,
    'update.mode': 'none',
    'chat.disableAIFeatures': true,
    'editor.hover.delay': 100,
    'editor.inlayHints.enabled': 'on',
    'editor.minimap.enabled': false,
    'git.enabled': false,
    'window.commandCenter': false,
  };
}

/**
 * The environment every code-server process of a run gets: nothing from the real home, and
 * (unless the scenario file set NN_DATA_SYSTEM_DIR) an empty folder in place of Debian's
 * datasets (/usr/share/datasets), so that the scenarios use what the .vsix carries, as on a
 * machine without the `dataset-fashion-mnist` package.
 */
function privateEnv(root: string, install: E2eInstall): NodeJS.ProcessEnv {
  const home = join(root, 'home');
  const dirs = { XDG_CONFIG_HOME: 'config', XDG_DATA_HOME: 'data', XDG_CACHE_HOME: 'cache', XDG_STATE_HOME: 'state' };
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  for (const [name, sub] of Object.entries(dirs)) {
    env[name] = join(home, sub);
    mkdirSync(env[name]!, { recursive: true });
  }
  // A scenario file may have chosen its own (download.test.ts: '', with a mirror and a cache).
  if (env[DATA_ENV.systemDir] === undefined) {
    env[DATA_ENV.systemDir] = join(root, 'no-system-datasets');
    mkdirSync(env[DATA_ENV.systemDir]!, { recursive: true });
  }
  env.PATH = `${join(install.nodeBin, '..')}:${process.env.PATH ?? ''}`;
  // A stray VS Code IPC hook from an outer editor would make code-server talk to it.
  delete env.VSCODE_IPC_HOOK_CLI;
  delete env.NODE_OPTIONS;
  return env;
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolvePort(port));
    });
  });
}

async function waitForHealth(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode} before answering /healthz`);
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`code-server did not answer ${url}/healthz within ${timeoutMs} ms`);
}

export async function startCodeServer(install: E2eInstall, options: CodeServerOptions): Promise<CodeServer> {
  const env = privateEnv(options.root, install);
  const userDataDir = join(options.root, 'user-data');
  const extensionsDir = join(options.root, 'extensions');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(
    join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({ ...quietSettings(options.trusted), ...options.settings }, null, 2),
  );
  const dirs = ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];

  const installed = spawnSync(install.nodeBin, [install.codeServerEntry, ...dirs, '--install-extension', options.vsix], {
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (installed.status !== 0) {
    throw new Error(`installing ${options.vsix} failed (exit ${installed.status}):\n${installed.stdout}\n${installed.stderr}`);
  }

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = join(options.root, 'code-server.log');
  const log = createWriteStream(logFile);
  const args = [
    install.codeServerEntry,
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    ...(options.trusted ? ['--disable-workspace-trust'] : []),
    ...dirs,
    options.workspace,
  ];
  // Its own process group, so stopping it also stops the extension host and language server.
  const child = spawn(install.nodeBin, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const pid = child.pid!;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    process.kill(-pid, 'SIGTERM');
    const timer = setTimeout(() => process.kill(-pid, 'SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    try {
      process.kill(-pid, 'SIGKILL'); // whatever of the group outlived its leader
    } catch {
      // The group is gone.
    }
  };
  try {
    await waitForHealth(url, child, 60_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, pid, logFile, userDataDir, stop };
}
