import { SERVING_CONFIG_KEY, type ServingConfig } from "../../worker/models/config";
import { type RegistryRow, type RowChange, servingConfigOf, withChanges } from "../../worker/models/lifecycle";
import { CONTROLS_ID } from "../../worker/models/registry-store";
import { d1Query, d1Run, kvPut, sqlJson, sqlText, type Target } from "../wrangler";

/**
 * The registry through wrangler (`npm run model`'s install steps): the same rows and the same planning as the
 * admin endpoints (worker/models/registry-store.ts), written as SQL and KV commands.
 */

export function readRegistry(target: Target): { rows: RegistryRow[]; killSwitch: boolean } {
  const [rows = [], controls = []] = d1Query(
    [
      "SELECT version, sha256, status, traffic_share AS trafficShare, storage, promoted_at AS promotedAt FROM model_versions ORDER BY created_at",
      `SELECT kill_switch AS killSwitch FROM model_controls WHERE id = ${sqlText(CONTROLS_ID)}`,
    ],
    target,
  );
  return { rows: rows as RegistryRow[], killSwitch: Boolean((controls[0] as { killSwitch?: number } | undefined)?.killSwitch) };
}

const updateStatements = (changes: readonly RowChange[]) =>
  changes.map(
    (c) =>
      `UPDATE model_versions SET status = ${sqlText(c.status)}, traffic_share = ${c.trafficShare}, promoted_at = ${c.promotedAt ?? "NULL"}, updated_at = (unixepoch('subsec') * 1000) WHERE version = ${sqlText(c.version)};`,
  );

export const insertStatement = (row: RegistryRow, manifest: unknown, sizeBytes: number | null) =>
  `INSERT INTO model_versions (version, sha256, manifest, status, traffic_share, storage, promoted_at, size_bytes) VALUES (${sqlText(row.version)}, ${sqlText(row.sha256)}, ${sqlJson(manifest)}, ${sqlText(row.status)}, ${row.trafficShare}, ${sqlText(row.storage)}, ${row.promotedAt ?? "NULL"}, ${sizeBytes ?? "NULL"});`;

/** Applies planned changes in D1, then publishes the serving config they lead to. */
export function applyAndPublish(
  target: Target,
  before: { rows: RegistryRow[]; killSwitch: boolean },
  changes: readonly RowChange[],
  extra: { statements?: string[]; inserted?: RegistryRow } = {},
): ServingConfig {
  d1Run([...(extra.statements ?? []), ...updateStatements(changes)], target);
  const rows = withChanges(extra.inserted ? [...before.rows, extra.inserted] : before.rows, changes);
  const config = servingConfigOf(rows, before.killSwitch, Date.now());
  kvPut("CONFIG", { [SERVING_CONFIG_KEY]: JSON.stringify(config) }, target);
  return config;
}
