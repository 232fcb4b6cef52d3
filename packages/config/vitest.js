import { defineConfig } from 'vitest/config';

/**
 * The workspace's Vitest preset: tests sit beside the code (`src/**\/*.test.ts`), workspace
 * packages resolve to their TypeScript sources (the `source` export condition, so no build is
 * needed to test), and a JSON report lands in `.vitest/results.json` for the CI totals line.
 * @param {{ testTimeout?: number }} [options]
 */
export function preset(options = {}) {
  return defineConfig({
    resolve: { conditions: ['source'] },
    ssr: { resolve: { conditions: ['source'] } },
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: options.testTimeout ?? 60_000,
      hookTimeout: 120_000,
      reporters: ['default', 'json'],
      outputFile: { json: '.vitest/results.json' },
    },
  });
}
