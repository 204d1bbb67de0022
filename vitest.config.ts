import { defineConfig } from 'vitest/config';

// Tests run in forked processes: the native addon uses OpenMP and OpenBLAS threads,
// which are safer per process than per worker thread.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Writes the hand-written CHAT snippets to test/fixtures/chat/ (not committed as files).
    globalSetup: ['test/setup/chat-fixtures.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
