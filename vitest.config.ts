import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/helpers/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Suites start servers and worker threads; two cores run two files at a time well.
    maxWorkers: 2,
    pool: "forks",
  },
});
