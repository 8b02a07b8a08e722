import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Native addons (polars, onnxruntime, zeromq) are safest in forked processes.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Commands under test record nothing in the run catalogue unless a test points QUANTBOOK_CATALOGUE at one.
    env: { TZ: 'UTC', QUANTBOOK_CATALOGUE: 'off' },
  },
});
