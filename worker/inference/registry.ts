import { eq } from "drizzle-orm";
import bundledManifest from "../../models/default/manifest.json";
import bundledModel from "../../models/default/model.onnx";
import { DependencyError } from "../errors";
import type { Database } from "../store/db";
import { modelVersions } from "../store/schema";
import { TtlCache } from "../store/ttl-cache";
import type { ModelSource } from "./model";

/**
 * Which model serves. The registry (D1 `model_versions`) names the live version; its bytes are in
 * KV under `model:<version>` unless it is the bundled default. With no live row (a fresh install)
 * the bundled default serves, so the worker always has a model.
 */

export const bundledSource: ModelSource = {
  version: bundledManifest.version,
  manifest: bundledManifest,
  sha256: bundledManifest.sha256,
  bytes: async () => bundledModel,
};

export const modelKvKey = (version: string) => `model:${version}`;

const liveCache = new TtlCache<"live", ModelSource>();

export async function servingModelSource(db: Database, configKv: KVNamespace, ttlMs: number): Promise<ModelSource> {
  return liveCache.get("live", ttlMs, async () => {
    let rows: (typeof modelVersions.$inferSelect)[];
    try {
      rows = await db.select().from(modelVersions).where(eq(modelVersions.status, "live")).limit(1);
    } catch (cause) {
      throw new DependencyError("d1_unavailable", { cause });
    }
    const row = rows[0];
    if (!row || (row.storage === "bundled" && row.version === bundledSource.version)) return bundledSource;
    return {
      version: row.version,
      manifest: row.manifest,
      sha256: row.sha256,
      bytes: () => configKv.get(modelKvKey(row.version), "arrayBuffer"),
    };
  });
}
