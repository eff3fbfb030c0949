import { defineConfig } from 'vitest/config';

// Integration tests share one lab (fixed namespace names), so files run one at a time.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
