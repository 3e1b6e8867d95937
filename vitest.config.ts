import { defineConfig } from 'vitest/config';

// TEST_DATABASE=postgres runs the same suites against PostgreSQL (see test/helpers/db.ts).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: keep parallelism modest so timing-sensitive emulator tests stay stable.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
