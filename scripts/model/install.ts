/**
 * The model steps that run where no worker may be serving yet, through wrangler's D1, KV and R2
 * commands: registering the bundled default model (`npm run seed` before `npm start`, and
 * scripts/deploy.sh right after a deploy) and moving versions that older releases kept in KV to R2.
 * The everyday commands go through a running worker's admin API (./admin-commands.ts).
 */
import bundledManifest from "../../models/default/manifest.json";
import { manifestSchema } from "../../worker/inference/manifest";
import { sha256Hex } from "../../worker/inference/scorer";
import { legacyBytesKey, legacyManifestKey, manifestObjectKey, modelObjectKey } from "../../worker/models/config";
import { planPromote, type RegistryRow, type RowChange } from "../../worker/models/lifecycle";
import { d1Run, kvGet, kvGetBytes, r2Put, sqlText, type Target } from "../wrangler";
import { applyAndPublish, insertStatement, readRegistry } from "./registry";

/**
 * The bundled model as a registry row. When the bundle changed (a new default model shipped with
 * the code), the new one replaces a bundled live version whose bytes are no longer in the bundle.
 */
export function registerBundled(target: Target) {
  const before = readRegistry(target);
  const manifest = manifestSchema.parse(bundledManifest);
  if (before.rows.some((r) => r.version === manifest.version)) {
    applyAndPublish(target, before, []);
    console.log(`bundled model ${manifest.version} already registered`);
    return;
  }
  const live = before.rows.find((r) => r.status === "live");
  const replacesStaleBundle = !live || live.storage === "bundled";
  // It enters as a push does (a shadow, promoted in the same write) when it replaces a stale bundle;
  // a retired version can never be promoted (worker/models/lifecycle.ts).
  const row: RegistryRow = {
    version: manifest.version,
    sha256: manifest.sha256,
    storage: "bundled",
    status: replacesStaleBundle ? "shadow" : "retired",
    trafficShare: 0,
    promotedAt: null,
  };
  const changes: RowChange[] = replacesStaleBundle ? planPromote([...before.rows, row], row.version, Date.now()) : [];
  // The old bundle's bytes shipped with the old code: it can no longer be rolled back to.
  const stale = changes.map((c) => (c.version === live?.version ? { ...c, promotedAt: null } : c));
  applyAndPublish(target, before, stale, { statements: [insertStatement(row, manifest, null)], inserted: row });
  console.log(`registered bundled model ${manifest.version}${replacesStaleBundle ? " as live" : " (retired: a pushed version is live)"}`);
}

/**
 * Versions that older releases pushed to KV: their bytes (checked against the registry's sha256)
 * and manifest copied to R2, their rows switched to `r2`, and the serving config published again.
 * Safe to run twice; a version whose files are gone from KV is left as it is and said so.
 */
export async function moveToR2(target: Target) {
  const before = readRegistry(target);
  const moved: string[] = [];
  for (const row of before.rows.filter((r) => r.storage === "kv")) {
    const bytes = kvGetBytes("CONFIG", legacyBytesKey(row.version), target);
    const manifest = kvGet("CONFIG", legacyManifestKey(row.version), target);
    if (!bytes || !manifest || (await sha256Hex(new Uint8Array(bytes).buffer)) !== row.sha256) {
      console.log(`  ${row.version}: its files in KV are missing or do not match its sha256; left as it is`);
      continue;
    }
    await r2Put("MODELS", modelObjectKey(row.version), bytes, "application/octet-stream", target);
    await r2Put("MODELS", manifestObjectKey(row.version), manifest, "application/json", target);
    moved.push(row.version);
  }
  if (moved.length === 0) return console.log("no version to move");
  d1Run([`UPDATE model_versions SET storage = 'r2' WHERE version IN (${moved.map(sqlText).join(", ")});`], target);
  applyAndPublish(target, { ...before, rows: before.rows.map((r) => (moved.includes(r.version) ? { ...r, storage: "r2" } : r)) }, []);
  console.log(`moved ${moved.join(", ")} to R2`);
}
