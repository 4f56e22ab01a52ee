import { defineConfig } from "vitest/config";

/** The browser suite runs in Node: it starts workerd and Debian's Chromium itself (test/browser/harness.ts). */
export default defineConfig({
  test: {
    name: "chromium",
    include: ["test/browser/**/*.browser.ts"],
    environment: "node",
    testTimeout: 120_000,
    hookTimeout: 240_000,
  },
});
