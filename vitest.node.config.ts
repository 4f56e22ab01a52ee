import { defineConfig } from "vitest/config";

/** Tests of the Node-side scripts (training data, evaluation, the model CLI): plain Node, no workerd. */
export default defineConfig({
  test: {
    name: "node",
    include: ["test/node/**/*.node.ts"],
    environment: "node",
    testTimeout: 120_000,
    hookTimeout: 240_000,
  },
});
