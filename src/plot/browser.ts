/**
 * A headless Chromium session (playwright-core) for scripts, tests and PNG snapshots. Kept out of
 * `plot/index.ts` and of `png.ts`'s declarations: playwright-core's types are about 52,000 lines
 * that tslab would otherwise parse in every notebook importing `dist/plot`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// Types only: playwright-core is a dev dependency, loaded on demand by withChromium.
import type { BrowserContext } from 'playwright-core';
import { CHROMIUM_ARGS, chromiumPath } from './chromium';

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
