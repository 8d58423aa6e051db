import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// One vitest project per package; `@gregor/*` imports resolve to the TypeScript sources so tests
// never run against a stale build. CI counts results from the JSON report written here.
const packages = ['protocol', 'records', 'metadata', 'log', 'security', 'cluster', 'broker', 'client', 'server', 'console', 'gregor'];
const source = (name: string) => fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      ...packages.filter((name) => name !== 'gregor').map((name) => ({ find: `@gregor/${name}`, replacement: source(name) })),
      { find: /^gregor$/, replacement: source('gregor') },
    ],
  },
  test: {
    reporters: ['default', 'json'],
    outputFile: { json: './reports/vitest.json' },
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: packages.map((name) => ({
      extends: true,
      test: { name, include: [`packages/${name}/test/**/*.test.ts`] },
    })),
  },
});
