import { eq, sql } from "drizzle-orm";
import type { SegmentsFile } from "../inference/segments";
import type { Database } from "../store/db";
import { modelControls, modelVersions } from "../store/schema";
import { manifestObjectKey, modelObjectKey, SERVING_CONFIG_KEY, type ServingConfig, segmentsObjectKey } from "./config";
import { type RegistryRow, type RowChange, servingConfigOf } from "./lifecycle";
import { forgetServingConfig } from "./serving-cache";

/**
 * The registry through the worker's own bindings (admin endpoints): D1 rows in, planned changes
 * out, then the serving config rewritten in KV; a pushed version's files go to R2 first. `npm run
 * model` does the same through wrangler.
 */
export const CONTROLS_ID = "serving";

export async function readRegistry(db: Database): Promise<{ rows: RegistryRow[]; killSwitch: boolean }> {
  const [rows, controls] = await Promise.all([
    db
      .select({
        version: modelVersions.version,
        sha256: modelVersions.sha256,
        status: modelVersions.status,
        trafficShare: modelVersions.trafficShare,
        storage: modelVersions.storage,
        promotedAt: modelVersions.promotedAt,
      })
      .from(modelVersions),
    db.select().from(modelControls).where(eq(modelControls.id, CONTROLS_ID)),
  ]);
  return {
    rows: rows.map((r) => ({ ...r, promotedAt: r.promotedAt?.getTime() ?? null })),
    killSwitch: controls[0]?.killSwitch ?? false,
  };
}

export async function applyChanges(db: Database, changes: readonly RowChange[]): Promise<void> {
  const statements = changes.map((c) =>
    db
      .update(modelVersions)
      .set({
        status: c.status,
        trafficShare: c.trafficShare,
        promotedAt: c.promotedAt === null ? null : new Date(c.promotedAt),
        updatedAt: sql`(unixepoch('subsec') * 1000)`,
      })
      .where(eq(modelVersions.version, c.version)),
  );
  const [first, ...rest] = statements;
  if (first) await db.batch([first, ...rest]);
}

export async function setKillSwitch(db: Database, on: boolean): Promise<void> {
  await db
    .insert(modelControls)
    .values({ id: CONTROLS_ID, killSwitch: on })
    .onConflictDoUpdate({ target: modelControls.id, set: { killSwitch: on, updatedAt: sql`(unixepoch('subsec') * 1000)` } });
}

/** Rewrites the serving config from the registry as it now is. */
export async function publishServingConfig(db: Database, kv: KVNamespace): Promise<ServingConfig> {
  const { rows, killSwitch } = await readRegistry(db);
  const config = servingConfigOf(rows, killSwitch, Date.now());
  await kv.put(SERVING_CONFIG_KEY, JSON.stringify(config));
  forgetServingConfig();
  return config;
}

/** Uploads a validated version's bytes and manifest to R2, then registers it. */
export async function storeVersion(
  db: Database,
  models: R2Bucket,
  row: RegistryRow,
  manifest: unknown,
  bytes: ArrayBuffer,
  segments?: SegmentsFile,
): Promise<void> {
  await Promise.all([
    segments
      ? models.put(segmentsObjectKey(row.version), JSON.stringify(segments), { httpMetadata: { contentType: "application/json" } })
      : undefined,
    models.put(modelObjectKey(row.version), bytes, { httpMetadata: { contentType: "application/octet-stream" }, sha256: row.sha256 }),
    models.put(manifestObjectKey(row.version), JSON.stringify(manifest), { httpMetadata: { contentType: "application/json" } }),
  ]);
  await db.insert(modelVersions).values({
    version: row.version,
    sha256: row.sha256,
    manifest,
    status: row.status,
    trafficShare: row.trafficShare,
    storage: row.storage,
    sizeBytes: bytes.byteLength,
  });
}
