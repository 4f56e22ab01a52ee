import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBundle } from "./bundle";
import { readQueueConsumers, withQueueConsumers } from "./queues";
import { seedBenchState } from "./seed-state";
import { miniflareOptions, readWranglerConfig, startWorkerd, stderrLogSink, throwawaySecrets } from "./workerd";

/**
 * The production bundle on workerd with its queue consumer, fresh seeded D1/KV in a temporary
 * directory, throwaway secrets, the catalogue read afresh on every request and the model awaited
 * by the first decision: what the browser tests, the evaluation parity test and `npm run simulate`
 * all start from.
 */
export async function startWorkerWithConsumer(
  name: string,
  options: { consumerBatchTimeoutS?: number; vars?: Record<string, string> } = {},
) {
  const config = await readWranglerConfig();
  // `vars` overrides wrangler.toml's (EDGE_HOSTS, PATH_PREFIX, CONSOLE_HOST) for a test that needs another mount.
  const secrets = { ...throwawaySecrets(), CONFIG_TTL_MS: "0", MODEL_LOAD_BUDGET_MS: "60000", ...options.vars };
  const mfOptions = miniflareOptions({
    bundle: buildBundle(config.main, join("bench-out", `${name}-bundle`)),
    config,
    secrets,
    stateDir: mkdtempSync(join(tmpdir(), `ep-${name}-`)),
    logs: stderrLogSink("workerd"),
  });
  const consumers = (await readQueueConsumers()).map((c) =>
    options.consumerBatchTimeoutS === undefined ? c : { ...c, maxBatchTimeout: options.consumerBatchTimeoutS },
  );
  const mf = startWorkerd(withQueueConsumers(mfOptions, consumers));
  const url = await mf.ready;
  const visitor = await seedBenchState(mf, url, secrets);
  // The console answers only on CONSOLE_HOST (worker/http/middleware/console-host.ts), on the same socket.
  const consoleUrl = new URL(url);
  consoleUrl.hostname = options.vars?.CONSOLE_HOST ?? config.vars.CONSOLE_HOST ?? url.hostname;
  return { mf, url, consoleUrl, secrets, visitor };
}
