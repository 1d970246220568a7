import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { test: { name: 'examples', include: ['examples/**/*.test.ts'], testTimeout: 30_000 } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          exclude: ['test/integration/large-scale.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      // Wall-clock bounds (DNS answers within 50 ms while the API applies a
      // 10,000-member scale): run on their own, after the rest, so that no other
      // test file shares the two cores with them. `npm test` runs it second.
      {
        test: {
          name: 'timing',
          include: ['test/integration/large-scale.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 30_000,
        },
      },
    ],
  },
});
