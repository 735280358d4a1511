import { defineConfig } from 'vitest/config'

// Runs this package alone: `npx vitest run --root packages/storage`. The repository's root config
// runs the same files in its unit and integration projects.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Each test file gets its own process (the default pool), which embedded ClickHouse needs:
    // one data directory per process.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
