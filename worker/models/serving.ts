import { bucketOf } from "../experiments/assign";
import { isLoaded, type ModelSource, modelWithinBudget, type Scorer, scorerFor } from "../inference/model";
import { bundledSource } from "../inference/registry";
import type { Segment } from "../inference/segments";
import { DependencyError } from "../lib/errors";
import type { KeepAlive } from "../lib/ttl-cache";
import {
  manifestObjectKey,
  modelObjectKey,
  SERVING_CONFIG_KEY,
  type ServedVersion,
  type ServingConfig,
  servingConfigSchema,
} from "./config";
import { segmentsOf } from "./segments";
import { servingConfigCache } from "./serving-cache";

/**
 * Which model serves this request. The serving config is read from KV once per isolate per TTL
 * (once expired, it is answered while the request's `keepAlive` reads it again); the arm (live or
 * canary) is sticky per visitor; each version's manifest and bytes are fetched from R2 on first
 * use and verified (worker/inference/model.ts). A version that fails to load (its files missing,
 * R2 failing, a bad graph) is skipped for the next good one: the canary falls back to live, live
 * to the version that was live before.
 */

/** With no config (a fresh install, nothing pushed yet), the bundled model is live. */
const BUNDLED_ONLY: ServingConfig = {
  live: { version: bundledSource.version, sha256: bundledSource.sha256, storage: "bundled" },
  previous: null,
  canary: null,
  shadows: [],
  killSwitch: false,
  updatedAt: 0,
};

export async function servingConfig(kv: KVNamespace, ttlMs: number, keepAlive?: KeepAlive): Promise<ServingConfig> {
  try {
    return await servingConfigCache.get(
      "serving",
      ttlMs,
      async () => {
        const raw = await kv.get(SERVING_CONFIG_KEY, "json");
        if (raw === null) return BUNDLED_ONLY;
        const parsed = servingConfigSchema.safeParse(raw);
        // A config we cannot read is not guessed at: keep what this isolate had, else the bundle.
        if (!parsed.success) return servingConfigCache.stale("serving") ?? BUNDLED_ONLY;
        return parsed.data;
      },
      keepAlive,
    );
  } catch (cause) {
    const stale = servingConfigCache.stale("serving");
    if (stale) return stale;
    throw new DependencyError("kv_unavailable", { cause });
  }
}

/**
 * Manifests of pushed versions never change (versions are immutable), so one read per isolate and
 * version. The values are kept, not the reads in flight: a request never awaits another's I/O
 * (worker/lib/ttl-cache.ts says why).
 */
const manifests = new Map<string, unknown>();

async function manifestOf(models: R2Bucket, version: string): Promise<unknown> {
  if (manifests.has(version)) return manifests.get(version);
  const object = await models.get(manifestObjectKey(version));
  if (!object) throw new Error(`no manifest for ${version} in R2`);
  const manifest: unknown = await object.json();
  manifests.set(version, manifest);
  return manifest;
}

/** The loadable source of a served version. The bundle only answers for its own version. */
export async function sourceOf(models: R2Bucket, served: ServedVersion): Promise<ModelSource> {
  if (served.storage !== "r2") {
    if (served.storage === "bundled" && served.version === bundledSource.version && served.sha256 === bundledSource.sha256)
      return bundledSource;
    const where =
      served.storage === "kv" ? "in KV (move it: npm run model -- move-to-r2)" : `in the bundle, which holds ${bundledSource.version}`;
    throw new DependencyError("model_unavailable", { cause: new Error(`${served.version} is ${where}`) });
  }
  let manifest: unknown;
  try {
    manifest = await manifestOf(models, served.version);
  } catch (cause) {
    throw new DependencyError("model_unavailable", { cause });
  }
  return {
    version: served.version,
    sha256: served.sha256,
    manifest,
    bytes: async () => {
      try {
        return (await (await models.get(modelObjectKey(served.version)))?.arrayBuffer()) ?? null;
      } catch (cause) {
        throw new DependencyError("model_unavailable", { cause });
      }
    },
  };
}

export type Arm = "live" | "canary" | "forced";
export type ServingModels = {
  scorer: Scorer;
  arm: Arm;
  shadows: Scorer[];
  /** The served version's micro-segments (./segments.ts), when it was pushed with some. */
  segments?: readonly Segment[] | null;
};

export type ServingOptions = {
  kv: KVNamespace;
  models: R2Bucket;
  ttlMs: number;
  /** Sessions this isolate keeps (worker/inference/model.ts). */
  maxSessions: number;
  budgetMs: number;
  keepAlive: KeepAlive;
};

/**
 * The scorer for this visitor (`assignmentKey`: the visitor id, or a per-request key for a
 * visitor without one, who then cannot be kept in one arm) and the shadow scorers already loaded
 * in this isolate; shadows that are not loaded yet start loading after the response and are
 * never waited for.
 */
export async function servingModels(assignmentKey: string, options: ServingOptions, forceVersion?: string): Promise<ServingModels> {
  const config = await servingConfig(options.kv, options.ttlMs, options.keepAlive);
  if (config.killSwitch) throw new DependencyError("model_disabled");
  const inCanary = config.canary !== null && (await bucketOf(`canary:${config.canary.version}`, assignmentKey)) < config.canary.share;
  const chain: { served: ServedVersion; arm: Arm }[] = [];
  // An experiment arm or a preview may ask for any version the config knows (live, canary, shadows).
  const forced = forceVersion
    ? [config.live, config.canary, config.previous, ...config.shadows].find((v) => v?.version === forceVersion)
    : undefined;
  if (forced) chain.push({ served: forced, arm: "forced" });
  if (inCanary && config.canary && !forced) chain.push({ served: config.canary, arm: "canary" });
  if (config.live) chain.push({ served: config.live, arm: "live" });
  if (config.previous) chain.push({ served: config.previous, arm: "live" });

  let scorer: Scorer | null = null;
  let arm: Arm = "live";
  let servedVersion: ServedVersion | null = null;
  for (const step of chain) {
    try {
      scorer = await modelWithinBudget(
        await sourceOf(options.models, step.served),
        options.budgetMs,
        options.keepAlive,
        options.maxSessions,
      );
      arm = step.arm;
      servedVersion = step.served;
      break;
    } catch (err) {
      // Only a version that cannot load is skipped; a cold start ends the search.
      if (!(err instanceof DependencyError) || err.reason !== "model_unavailable") throw err;
    }
  }
  if (!scorer || !servedVersion) throw new DependencyError("model_unavailable");
  const [segments, shadows] = await Promise.all([segmentsOf(options.models, servedVersion), loadedShadows(config, options)]);
  return { scorer, arm, shadows, segments };
}

async function loadedShadows(config: ServingConfig, options: ServingOptions): Promise<Scorer[]> {
  const loaded: Scorer[] = [];
  for (const served of config.shadows) {
    try {
      const source = await sourceOf(options.models, served);
      if (isLoaded(source)) loaded.push(await scorerFor(source, options.maxSessions));
      else options.keepAlive(scorerFor(source, options.maxSessions).catch(() => undefined));
    } catch {
      // A shadow never affects what is served.
    }
  }
  return loaded;
}
