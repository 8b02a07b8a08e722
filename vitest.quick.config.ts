/**
 * `npm run test:quick`: the unit tests of the kernels and the library, for the edit-test loop
 * (114 files). The files share their worker processes (`isolate: false`): on an idle 2-core
 * machine 57-60 s, against 165 s with a fresh process per file, where starting workers and
 * loading modules took most of the time. A test that leaks state into the next file breaks
 * this; `npm test` (isolated) is the check of record.
 * Leaves out what starts a Jupyter kernel, a browser, a Redis server, a Python process or the
 * whole CLI (notebooks, reports, sweeps, processes, CLI commands, served pages, the catalogue).
 * `npm test` stays the full suite: run it before a commit that touches those parts.
 */
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config';

export const SLOW_TESTS = [
  'tests/cli/**',
  'tests/notebook/{distributed,display,kernel,parameters,pipeline,processes,report,research,run,sweep}.test.ts',
  'tests/serve/live-page.test.ts',
  'tests/catalogue/**',
  'tests/data/load/pandas.test.ts',
  'tests/gbdt/xgboostJson.test.ts',
  // Python exports of the foundation-model families (PyTorch end to end); fake exchanges with retry timeouts.
  'tests/forecast/families/export.test.ts',
  'tests/data/fetch/**',
  // Soak and real-data studies: a memory soak of the live loop, conformal coverage on every recorded pair.
  'tests/live/memory.test.ts',
  'tests/forecast/conformal.test.ts',
];

export default mergeConfig(base, defineConfig({ test: { exclude: SLOW_TESTS, isolate: false } }));
