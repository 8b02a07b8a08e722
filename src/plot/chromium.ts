/**
 * Where headless Chromium is and how it is launched: plain values, no playwright-core types, so
 * the declarations notebooks load through `dist/plot` stay small (tslab parses every declaration
 * file a notebook's imports reach, on every kernel start).
 */
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
