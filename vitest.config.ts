import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    // Set-up hooks start a server and Chromium on a loaded two-core machine: one (the web UI
    // suite's) took over 30 s in a clean-clone CI run, and its whole file failed with it. A hook
    // that hangs still fails, a little later.
    hookTimeout: 60_000,
    // Child processes and servers per file; two cores here.
    pool: 'forks',
    maxWorkers: 2,
  },
});
