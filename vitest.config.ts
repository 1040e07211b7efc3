import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

// Two projects: `unit` needs no server and runs in seconds (`pnpm test:unit`); `int` holds every
// `*.int.test.ts`, which get real servers from the global setup. `vitest run` runs both.
const include = ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts', 'examples/*/test/**/*.test.ts'];
const integration = include.map((p) => p.replace(/\*\.test\.ts$/, '*.int.test.ts'));

export default defineConfig({
  resolve: {
    // Tests run against the sources; `pnpm build` + publint + attw check what is published.
    alias: [
      { find: /^@agent-sessions\/([a-z-]+)$/, replacement: `${root}packages/$1/src/index.ts` },
      { find: /^@agent-sessions\/([a-z-]+)\/([a-z-]+)$/, replacement: `${root}packages/$1/src/$2.ts` },
    ],
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include, exclude: ['**/*.int.test.ts', '**/node_modules/**'] } },
      { extends: true, test: { name: 'int', include: integration, globalSetup: ['test/services/global-setup.ts'] } },
    ],
  },
});
