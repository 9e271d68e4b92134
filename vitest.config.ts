import { defineConfig } from 'vitest/config';

// Each test file runs in its own forked Node process: `init()` is process-global and the
// single-threaded and threaded wasm builds must never be loaded into the same process.
// `--expose-gc` lets test/memory.test.ts force collections before measuring.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    poolOptions: {
      forks: { execArgv: ['--expose-gc'] },
    },
    // The package test packs, installs from the registry and type-checks; browser tests start a
    // browser; the threaded fixtures run every method on every fixture.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    watch: false,
    reporters: ['default'],
  },
});
