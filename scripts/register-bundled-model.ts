/**
 * Registers the bundled default model in the D1 registry as live, unless a live version exists.
 * `tsx scripts/register-bundled-model.ts --local | --remote --env production`.
 */
import { execFileSync } from "node:child_process";
import bundledManifest from "../models/default/manifest.json";

const args = process.argv.slice(2);
const sql = (value: string) => `'${value.replace(/'/g, "''")}'`;
const statement =
  "INSERT INTO model_versions (version, sha256, manifest, status, traffic_share, storage) " +
  `SELECT ${sql(bundledManifest.version)}, ${sql(bundledManifest.sha256)}, ${sql(JSON.stringify(bundledManifest))}, 'live', 1, 'bundled' ` +
  "WHERE NOT EXISTS (SELECT 1 FROM model_versions WHERE status = 'live') " +
  `AND NOT EXISTS (SELECT 1 FROM model_versions WHERE version = ${sql(bundledManifest.version)});`;

execFileSync("npx", ["wrangler", "d1", "execute", "DB", "--command", statement, ...(args.length ? args : ["--local"])], {
  stdio: "inherit",
  env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
});
console.log(`bundled model ${bundledManifest.version} registered (if no live version existed)`);
