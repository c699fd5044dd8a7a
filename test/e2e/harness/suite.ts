// The shape of an end-to-end test file: one code-server and one browser page shared by its
// scenarios, a screenshot after each scenario (and of the failing state), logs kept, and a
// printed skip reason where the tools cannot be installed (never a silent pass; CI never skips).
import { after, before, describe, it } from 'node:test';
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startCodeServer, type CodeServer } from './codeServer.js';
import { findInstall, mustRun, type Availability } from './install.js';
import { collectLogs, packageExtension, prepareRun, type E2eRun } from './run.js';
import { Workbench } from './workbench.js';

export interface EditorSession {
  run: E2eRun;
  server: CodeServer;
  bench: Workbench;
}

export interface SuiteOptions {
  /** The artifacts subfolder and temp-folder name. */
  runName: string;
  trusted: boolean;
  /** Called before code-server starts, to add files to the workspace. */
  prepareWorkspace?: (workspace: string) => void;
}

let availability: Availability | null = null;

function available(): Availability {
  availability ??= findInstall();
  return availability;
}

export function describeEditor(
  title: string,
  options: SuiteOptions,
  body: (scenario: (name: string, fn: (session: EditorSession) => Promise<void>) => void) => void,
): void {
  const found = available();
  const skip = !found.ok && !mustRun ? `e2e skipped: ${found.reason}` : false;
  if (skip) {
    // Each scenario is reported as skipped, with the reason, so the summary line counts them.
    console.log(`# ${skip}`);
    describe(title, () => body((name) => it(name, { skip }, () => undefined)));
    return;
  }
  describe(title, { timeout: 30 * 60_000 }, () => {
    let session: EditorSession | null = null;
    let startError: unknown = null;
    let failures = 0;
    let run: E2eRun | null = null;

    before(async () => {
      if (!found.ok) throw new Error(`cannot run the e2e suite: ${found.reason}`);
      run = prepareRun(options.runName);
      options.prepareWorkspace?.(run.workspace);
      try {
        const vsix = packageExtension();
        const server = await startCodeServer(found.install, {
          root: run.root,
          workspace: run.workspace,
          vsix,
          trusted: options.trusted,
        });
        const bench = await Workbench.open(found.install, join(run.root, 'browser'), server.url, run.artifacts)
          .catch(async (error: unknown) => {
            await server.stop();
            throw error;
          });
        session = { run, server, bench };
      } catch (error) {
        startError = error;
        throw error;
      }
    });

    after(async () => {
      if (!run) return;
      if (session) {
        await session.bench.close().catch(() => undefined);
        await session.server.stop();
        collectLogs(session.server.userDataDir, run.artifacts);
      }
      const serverLog = join(run.root, 'code-server.log');
      if (existsSync(serverLog)) copyFileSync(serverLog, join(run.artifacts, 'code-server.log'));
      rmSync(run.root, { recursive: true, force: true }); // profiles and the workspace copy; the artifacts stay
      const verdict = failures > 0 || startError ? 'FAILED: see' : 'passed;';
      console.log(`# e2e ${options.runName} ${verdict} screenshots and logs in ${run.artifacts}`);
    });

    body((name, fn) => {
      it(name, async () => {
        if (!session) throw new Error(`code-server did not start: ${String(startError)}`);
        const slug = name.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase();
        try {
          await fn(session);
          await session.bench.screenshot(slug);
        } catch (error) {
          failures += 1;
          const shot = await session.bench.screenshot(`FAILED-${slug}`);
          console.log(`# failing state: ${shot}`);
          throw error;
        }
      });
    });
  });
}
