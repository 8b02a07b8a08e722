/**
 * PNG snapshots of figure pages in headless Chromium (through playwright-core),
 * when a browser is available: optional output, never a hard requirement.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
// Types only: playwright-core is a dev dependency, loaded on demand by withChromium.
import type { BrowserContext } from 'playwright-core';

/** Where Chromium is looked for: `$QUANTBOOK_CHROMIUM`, else Debian's `/usr/bin/chromium`. */
export function chromiumPath(): string {
  return process.env.QUANTBOOK_CHROMIUM || '/usr/bin/chromium';
}

/** Launch flags for headless Chromium as root in containers, offline (no background network, no GPU). */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Outcome of {@link htmlToPng}: the file, or why none was written. */
export type PngResult = { ok: true; path: string; ms: number } | { ok: false; reason: string };

/** Options of {@link htmlToPng}. */
export interface PngOptions {
  /** Viewport in CSS pixels. Default 1100 x 700. */
  width?: number;
  height?: number;
  /** Longest wait for the figures to draw. Default 30 s. */
  timeoutMs?: number;
  /** Chromium binary. Default {@link chromiumPath}. */
  executablePath?: string;
}

/** Options of {@link withChromium}. */
export interface ChromiumOptions {
  /** Viewport in CSS pixels. Default playwright's, 1280 x 720. */
  viewport?: { width: number; height: number };
  /** Device pixels per CSS pixel. Default playwright's, 1. */
  deviceScaleFactor?: number;
  /** Chromium binary. Default {@link chromiumPath}. */
  executablePath?: string;
}

/**
 * Runs `fn` with a headless Chromium ({@link CHROMIUM_ARGS}, a fresh temporary profile), then closes
 * the browser and deletes the profile, whether `fn` resolves or throws.
 * @throws what loading playwright-core, launching Chromium or `fn` throws.
 * @example
 * const title = await withChromium({ viewport: { width: 1100, height: 700 } }, async (browser) => {
 *   const page = await browser.newPage();
 *   await page.goto('file:///tmp/x.html');
 *   return page.title();
 * }); // the page's title
 */
export async function withChromium<T>(opts: ChromiumOptions, fn: (browser: BrowserContext) => Promise<T>): Promise<T> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'qb-chromium-'));
  try {
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: opts.executablePath ?? chromiumPath(),
      headless: true,
      args: [...CHROMIUM_ARGS],
      ...(opts.viewport ? { viewport: opts.viewport } : {}),
      ...(opts.deviceScaleFactor === undefined ? {} : { deviceScaleFactor: opts.deviceScaleFactor }),
    });
    try {
      return await fn(browser);
    } finally {
      await browser.close();
    }
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/**
 * Opens an HTML page made by `figureToHtml`, waits until every figure has drawn, and saves
 * the first figure as a PNG. Resolves `{ ok: false, reason }` (and writes nothing) when
 * playwright-core or Chromium is missing or the page fails to draw; never throws for that.
 * @example
 * const r = await htmlToPng('out/fan.html', 'out/fan.png');
 * r.ok ? r.path : r.reason // 'out/fan.png', or 'Chromium not found at /usr/bin/chromium (set QUANTBOOK_CHROMIUM)'
 */
export async function htmlToPng(htmlPath: string, pngPath: string, opts: PngOptions = {}): Promise<PngResult> {
  const t0 = performance.now();
  const executablePath = opts.executablePath ?? chromiumPath();
  if (!existsSync(executablePath)) return { ok: false, reason: `Chromium not found at ${executablePath} (set QUANTBOOK_CHROMIUM)` };
  try {
    await import('playwright-core');
  } catch {
    return { ok: false, reason: 'playwright-core is not installed (npm install playwright-core)' };
  }
  try {
    await withChromium({ executablePath, viewport: { width: opts.width ?? 1100, height: opts.height ?? 700 } }, async (browser) => {
      const page = await browser.newPage();
      await page.goto(`file://${resolve(htmlPath)}`);
      await page.waitForFunction(() => Array.from(document.querySelectorAll('div.figure')).every((f) => f.querySelector('.main-svg')), null, { timeout: opts.timeoutMs ?? 30_000 });
      await page.locator('div.figure').first().screenshot({ path: pngPath });
    });
    return { ok: true, path: pngPath, ms: performance.now() - t0 };
  } catch (err) {
    return { ok: false, reason: `Chromium could not render the page: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}` };
  }
}
