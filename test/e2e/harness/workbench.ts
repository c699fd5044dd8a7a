// Drives the VS Code workbench in headless Chromium the way a user does (keyboard, mouse,
// reading what is on screen), with a screenshot per step into the run's artifacts folder.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import type { E2eInstall } from './install.js';

const chromiumFlags = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Polls `probe` until `accept` holds; on timeout the error says what was last seen. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (accept(last)) return last;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const seen = lastError ? String(lastError) : JSON.stringify(last);
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${seen}`);
}

export interface ProblemRow {
  text: string;
  line: number | null;
}

export class Workbench {
  private shot = 0;

  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
    private readonly screenshotDir: string,
  ) {}

  static async open(install: E2eInstall, profileDir: string, url: string, screenshotDir: string): Promise<Workbench> {
    mkdirSync(screenshotDir, { recursive: true });
    const context = await chromium.launchPersistentContext(profileDir, {
      executablePath: install.chromium,
      headless: true,
      args: chromiumFlags,
      viewport: { width: 1600, height: 1000 },
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(30_000);
    // Loading the workbench is most of a run's cost (20-30 s on 2 idle cores; more when busy).
    await page.goto(url, { timeout: 180_000 });
    await page.locator('.monaco-workbench').waitFor({ timeout: 180_000 });
    await page.locator('.explorer-folders-view').waitFor({ timeout: 120_000 });
    return new Workbench(context, page, screenshotDir);
  }

  async close(): Promise<void> {
    await this.context.close();
  }

  /** Saves a numbered screenshot; returns its path. */
  async screenshot(name: string): Promise<string> {
    this.shot += 1;
    const path = join(this.screenshotDir, `${String(this.shot).padStart(2, '0')}-${name}.png`);
    await this.page.screenshot({ path }).catch(() => undefined);
    return path;
  }

  /** Saves a numbered screenshot of one element (scrolled into view); returns its path. */
  async screenshotOf(element: Locator, name: string): Promise<string> {
    this.shot += 1;
    const path = join(this.screenshotDir, `${String(this.shot).padStart(2, '0')}-${name}.png`);
    await element.screenshot({ path });
    return path;
  }

  /** The cursor's 1-based line in the active editor, from the status bar's `Ln 12, Col 5`. */
  async cursorLine(): Promise<number | null> {
    const text = (await this.page.locator('#status\\.editor\\.selection').innerText().catch(() => '')) ?? '';
    const match = /Ln (\d+)/.exec(text);
    return match ? Number(match[1]) : null;
  }

  /** Opens a workspace file by quick open and waits for its editor. */
  async openFile(relativePath: string): Promise<void> {
    const name = relativePath.split('/').pop()!;
    await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('Control+P');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill(relativePath);
    // Click the file's row: Enter would take whichever row the list had selected while it filtered.
    await this.page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().click();
    await this.page.locator(`.tab.active[data-resource-name="${name}"]`).waitFor();
    await this.editor.locator('.view-lines').waitFor();
    await this.editor.click({ position: { x: 400, y: 5 } }).catch(() => undefined);
  }

  /** The active text editor. */
  get editor() {
    return this.page.locator('.editor-group-container.active .monaco-editor').first();
  }

  async languageMode(): Promise<string> {
    return ((await this.page.locator('#status\\.editor\\.mode').textContent()) ?? '').trim();
  }

  async squiggleCount(kind: 'error' | 'warning' | 'info' = 'error'): Promise<number> {
    return this.editor.locator(`.squiggly-${kind}`).count();
  }

  /**
   * The texts of the inlay hints on screen. VS Code 1.139 renders a hint as text injected
   * into the view line, in a span with a generated `dyn-rule-*` class (no stable name).
   */
  async inlayHints(): Promise<string[]> {
    const texts = await this.editor.locator('.view-lines span[class*="dyn-rule"]').allTextContents();
    return texts.map((text) => text.replace(/\u00a0/g, ' ').trim()).filter((text) => text.length > 0);
  }

  /** Runs a command by its title through the command palette. */
  async runCommand(title: string): Promise<void> {
    await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('F1');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill(`>${title}`);
    await this.page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor();
    await this.page.keyboard.press('Enter');
  }

  /** Moves the cursor to a 1-based line and column with Go to Line. */
  async goto(line: number, column: number): Promise<void> {
    await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('Control+G');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill(`:${line}:${column}`);
    await this.page.keyboard.press('Enter');
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  }

  /** Replaces `length` characters at a 1-based line and column by typing, as a user would. */
  async replaceAt(line: number, column: number, length: number, text: string): Promise<void> {
    await this.goto(line, column);
    for (let i = 0; i < length; i++) await this.page.keyboard.press('Shift+ArrowRight');
    await this.page.keyboard.type(text, { delay: 20 });
  }

  /** Shows the hover at a 1-based line and column (keyboard: "Show or Focus Hover") and returns its text. */
  async hoverAt(line: number, column: number, expect: (text: string) => boolean = (t) => t.length > 0): Promise<string> {
    await this.goto(line, column);
    return waitFor(
      `a hover at ${line}:${column}`,
      async () => {
        const hover = this.page.locator('.monaco-hover:visible, .monaco-resizable-hover:visible').first();
        if ((await hover.count()) === 0) {
          await this.runCommand('Show or Focus Hover');
          await hover.waitFor({ timeout: 5000 });
        }
        return ((await hover.innerText()) ?? '').trim();
      },
      expect,
      30_000,
    );
  }

  /** Rows of the Problems panel, with the line each one names. */
  async problems(): Promise<ProblemRow[]> {
    const panel = this.page.locator('.markers-panel');
    if (!(await panel.isVisible())) await this.runCommand('View: Focus Problems');
    await panel.waitFor();
    const rows = panel.locator('.monaco-list-row');
    const result: ProblemRow[] = [];
    for (let i = 0; i < (await rows.count()); i++) {
      const row = rows.nth(i);
      const label = (await row.getAttribute('aria-label')) ?? '';
      const text = `${label} ${(await row.innerText()).replace(/\s+/g, ' ')}`.trim();
      const match = /\[Ln (\d+), Col \d+\]/.exec(text) ?? /at line (\d+)/i.exec(text);
      if (/\.nn\b/.test(label) && !/NN\d{4}/.test(text)) continue; // the file row
      result.push({ text, line: match ? Number(match[1]) : null });
    }
    return result;
  }

  async notifications(): Promise<string[]> {
    const toasts = this.page.locator('.notifications-toasts .notification-toast');
    return (await toasts.allInnerTexts()).map((text) => text.replace(/\s+/g, ' ').trim());
  }

  async statusBar(): Promise<string> {
    return ((await this.page.locator('#workbench\\.parts\\.statusbar').innerText()) ?? '').replace(/\s+/g, ' ');
  }
}

/** 1-based line and column of the first occurrence of `needle` (after `after`, if given). */
export function positionOf(text: string, needle: string, after = ''): { line: number; column: number } {
  const from = after ? text.indexOf(after) : 0;
  if (from < 0) throw new Error(`text has no ${JSON.stringify(after)}`);
  const offset = text.indexOf(needle, from);
  if (offset < 0) throw new Error(`text has no ${JSON.stringify(needle)}`);
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}
