// `npm run test:fast`: the inner loop (under 30 s here). Unit and in-process tests only; whole-process,
// browser, crash, fuzz, load and timing suites run in `npm test`.
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

export default mergeConfig(
  base,
  defineConfig({
    test: {
      exclude: [
        '**/node_modules/**',
        'test/e2e/**',
        'test/security/**',
        'test/cli/**',
        'test/soak/**',
        'test/server/event-leak.test.ts',
        'test/server/fd-exhaustion.test.ts',
        'test/fs/lock.test.ts',
        // Throughput and timing suites: they stream megabytes or wait out real kill graces and timeouts.
        'test/pty-routes/slow-client.test.ts',
        'test/pty/flow-terminal.test.ts',
        'test/server/socket-limits.test.ts',
        'test/proc/run.test.ts',
      ],
    },
  }),
);
