import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    test: {
      projects: [
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
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
            testTimeout: 60_000,
            hookTimeout: 60_000,
          },
        },
        // Node starts workerd and Debian's Chromium itself (test/browser/harness.ts).
        "./vitest.browser.config.ts",
        // Node-side scripts: training data, `npm run evaluate`, `npm run model`.
        "./vitest.node.config.ts",
      ],
    },
  };
});
