import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Two cores here: forks isolate node:sqlite handles and child processes.
    pool: "forks",
    // A timeout only catches a hang: the longest tests spawn 20-odd CLI processes (crash points,
    // batch crashes), which take a minute on a busy 2-core machine and two beside a CPU hog.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    env: { TZ: "UTC" },
  },
});
