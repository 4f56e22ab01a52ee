import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { readQueueConsumers } from "./scripts/bench/queues";

/**
 * Production's queue consumers (wrangler.toml) with a short batch timeout: a test that sent a few
 * events waits a tenth of a second for the consumer, not five. Batch size, retries and the dead
 * letter queue stay as deployed.
 */
const TEST_BATCH_TIMEOUT_S = 0.1;

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  const queueConsumers = Object.fromEntries(
    (await readQueueConsumers()).map(({ queue, ...consumer }) => [queue, { ...consumer, maxBatchTimeout: TEST_BATCH_TIMEOUT_S }]),
  );
  return {
    test: {
      // Both cores: the workerd and node projects run side by side (the chromium project runs on
      // its own afterwards, see vitest.browser.config.ts). Vitest would take one fewer than the cores.
      maxWorkers: 2,
      projects: [
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                queueConsumers,
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  // Tests wait for the model (the cold-start policy has tests of its own) and read the
                  // registry and catalogue on every request, so that each test sees its own changes.
                  MODEL_LOAD_BUDGET_MS: "60000",
                  CONFIG_TTL_MS: "0",
                  // Generous on a shared test machine; the failing-object tests stall the object past it.
                  VISITOR_STATE_TIMEOUT_MS: "3000",
                  ADMIN_TOKEN: "test-admin-token",
                  PRIVACY_TOKEN: "test-privacy-token",
                  ID_SIGNING_KEY: "test-id-signing-key",
                  ID_SIGNING_KEY_PREVIOUS: "test-id-signing-key-previous",
                },
              },
            }),
          ],
          test: {
            name: "workerd",
            include: ["test/**/*.test.ts"],
            setupFiles: ["./test/support/setup.ts"],
            // One workerd runtime per worker runs its files one after another: onnxruntime-web's
            // 14 MB of WebAssembly is compiled once, not once per file. Storage is shared with the
            // files before it, so every test builds its own sites and visitors.
            isolate: false,
            testTimeout: 60_000,
            hookTimeout: 60_000,
          },
        },
        // Node starts workerd and Debian's Chromium itself (scripts/harness/stack.ts).
        "./vitest.browser.config.ts",
        // Node-side scripts: training data, `npm run evaluate`, `npm run model`.
        "./vitest.node.config.ts",
      ],
    },
  };
});
