// `npm run test:fast`: the inner loop. Unit and in-process tests only; whole-process, browser,
// crash, fuzz and load suites run in `npm test`.
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
      ],
    },
  }),
);
