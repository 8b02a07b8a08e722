/**
 * PNG snapshots of figure pages in headless Chromium (through playwright-core),
 * when a browser is available: optional output, never a hard requirement.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../core/output';
import { withChromium } from './browser';
import { chromiumPath } from './chromium';

/** Outcome of {@link htmlToPng}: the file, or why none was written. */
export type PngResult = { ok: true; path: string; ms: number } | { ok: false; reason: string };

/** Outcome of {@link renderPng}: the PNG's bytes, or why there are none. */
export type PngBytesResult = { ok: true; png: Buffer; ms: number } | { ok: false; reason: string };

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

/**
 * Renders an HTML page made by `figureToHtml` (read from `htmlPath`, any file name), waits until
 * every figure has drawn, and returns the first figure as PNG bytes. Resolves `{ ok: false, reason }`
 * when playwright-core or Chromium is missing or the page fails to draw; never throws for that.
 * The page is given to Chromium as content, not as a file URL, so a temporary file (`.x.html.123.ab.tmp`,
 * which Chromium would show as text) renders too.
 * @example
 * const r = await renderPng('out/fan.html');
 * r.ok ? r.png.length : r.reason // 48213, or 'Chromium not found at /usr/bin/chromium (set QUANTBOOK_CHROMIUM)'
 */
export async function renderPng(htmlPath: string, opts: PngOptions = {}): Promise<PngBytesResult> {
  const t0 = performance.now();
  const executablePath = opts.executablePath ?? chromiumPath();
  if (!existsSync(executablePath)) return { ok: false, reason: `Chromium not found at ${executablePath} (set QUANTBOOK_CHROMIUM)` };
  try {
    await import('playwright-core');
  } catch {
    return { ok: false, reason: 'playwright-core is not installed (npm install playwright-core)' };
  }
  try {
    const html = readFileSync(htmlPath, 'utf8');
    const png = await withChromium({ executablePath, viewport: { width: opts.width ?? 1100, height: opts.height ?? 700 } }, async (browser) => {
      const page = await browser.newPage();
      await page.setContent(html);
      await page.waitForFunction(() => Array.from(document.querySelectorAll('div.figure')).every((f) => f.querySelector('.main-svg')), null, { timeout: opts.timeoutMs ?? 30_000 });
      return page.locator('div.figure').first().screenshot({ type: 'png' });
    });
    return { ok: true, png, ms: performance.now() - t0 };
  } catch (err) {
    return { ok: false, reason: `Chromium could not render the page: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}` };
  }
}

/**
 * Renders `htmlPath` with {@link renderPng} and writes the first figure to `pngPath` atomically
 * (temporary file, fsync, rename). Resolves `{ ok: false, reason }` (and writes nothing) when
 * playwright-core or Chromium is missing or the page fails to draw; never throws for that.
 * @throws OutputError when the PNG cannot be written (full disk, read-only file system); the previous file is kept.
 * @example
 * const r = await htmlToPng('out/fan.html', 'out/fan.png');
 * r.ok ? r.path : r.reason // 'out/fan.png', or 'Chromium not found at /usr/bin/chromium (set QUANTBOOK_CHROMIUM)'
 */
export async function htmlToPng(htmlPath: string, pngPath: string, opts: PngOptions = {}): Promise<PngResult> {
  const r = await renderPng(htmlPath, opts);
  if (!r.ok) return r;
  writeFileAtomic(pngPath, r.png);
  return { ok: true, path: pngPath, ms: r.ms };
}
