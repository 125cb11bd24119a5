import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real DuckDB files, real servers and a real browser on a 2-core machine: give them room.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // expect.poll waits 1 s by default: too short for a browser page updating on a loaded 2-core
    // machine (the console's vote count missed it once with three test files running).
    expect: { poll: { timeout: 10_000 } },
    pool: 'forks',
    // Vitest's default on 2 cores is ONE worker (cores − 1): the suite ran file after file, 20 min.
    // Most files wait on something (a DuckDB file, PostgreSQL, a child process, Chromium, HTTP),
    // so three at a time keeps both cores busy.
    maxWorkers: 3,
    // A worker keeps its loaded modules from one test file to the next: importing the server, the
    // rule compiler and DuckDB afresh for each of ~100 files cost 300 s of the run. Tests share no
    // module state that matters (no vi.mock; env changes are restored; caches are keyed by path).
    isolate: false,
    // One private PostgreSQL 15 for the run (when installed): the PostgreSQL engine's tests.
    globalSetup: ['test/helpers/pg-global-setup.ts'],
    // CI reads the machine-readable summary to print "N passed, N failed".
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: '.ci/vitest-results.json' },
  },
});
