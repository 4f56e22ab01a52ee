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
  /** Tests on the real local bindings in workerd; each project has a runtime, and storage, of its own. */
  const workerd = (name: string, include: string[], exclude: string[], run: { maxWorkers: number; groupOrder: number }) => ({
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
            // Decisions still go through the isolate's outbox, but a test waits 20 ms for it, not a second.
            LOG_BATCH_WINDOW_MS: "20",
            ADMIN_TOKEN: "test-admin-token",
            PRIVACY_TOKEN: "test-privacy-token",
            ID_SIGNING_KEY: "test-id-signing-key",
            ID_SIGNING_KEY_PREVIOUS: "test-id-signing-key-previous",
          },
        },
      }),
    ],
    test: {
      name,
      include,
      exclude,
      setupFiles: ["./test/support/setup.ts"],
      // One workerd runtime per worker runs its files one after another: onnxruntime-web's
      // 14 MB of WebAssembly is compiled once, not once per file. Storage is shared with the
      // files before it, so every test builds its own sites and visitors.
      isolate: false,
      maxWorkers: run.maxWorkers,
      sequence: { groupOrder: run.groupOrder },
      testTimeout: 60_000,
      hookTimeout: 60_000,
    },
  });
  /**
   * The files that push, promote or switch off models change the one model registry that every
   * decision reads: they run in a project of their own (its own storage), one after another, so
   * that no other file meets a model it did not expect. Vitest runs projects with one worker in a
   * later group: with the chromium project, after the others.
   */
  const registryFiles = [
    "test/models.test.ts",
    "test/in-session.test.ts",
    "test/fallbacks.test.ts",
    "test/variants.test.ts",
    "test/segments.test.ts",
  ];
  return {
    test: {
      // Both cores: the workerd and node projects run side by side (the chromium project runs on
      // its own afterwards, see vitest.browser.config.ts). Vitest would take one fewer than the cores.
      maxWorkers: 2,
      projects: [
        workerd("workerd", ["test/**/*.test.ts"], registryFiles, { maxWorkers: 2, groupOrder: 0 }),
        workerd("workerd-registry", registryFiles, [], { maxWorkers: 1, groupOrder: 1 }),
        // Node starts workerd and Debian's Chromium itself (scripts/harness/stack.ts).
        "./vitest.browser.config.ts",
        // Node-side scripts: training data, `npm run evaluate`, `npm run model`.
        "./vitest.node.config.ts",
      ],
    },
  };
});
