import { defineConfig } from "vitest/config";

/**
 * The browser suite runs in Node: it starts workerd and Debian's Chromium itself
 * (scripts/harness/stack.ts). Every file runs in one worker, one after another, and all share one
 * stack, which the project's environment stops at the end (test/browser/environment.ts); each file
 * builds its own sites on it. Its own group, run after the others: one worker here, two there.
 */
export default defineConfig({
  test: {
    name: "chromium",
    include: ["test/browser/**/*.browser.ts"],
    environment: "./test/browser/environment.ts",
    isolate: false,
    maxWorkers: 1,
    sequence: { groupOrder: 1 },
    testTimeout: 120_000,
    hookTimeout: 240_000,
  },
});
