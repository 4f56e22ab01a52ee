/**
 * The model lifecycle from a terminal, built on wrangler's D1, KV and R2 commands:
 *
 *   npm run model -- list|push|canary|promote|rollback|retire|kill|register-bundled|move-to-r2 … [--local [--persist-to DIR]] [--env NAME]
 *
 * Without `--local` it acts on the real account (wrangler's login or CLOUDFLARE_API_TOKEN). The
 * rules are the worker's own (worker/models/lifecycle.ts), so the admin endpoints and this script
 * cannot disagree about what a promote or a rollback means.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import bundledManifest from "../models/default/manifest.json";
import { manifestSchema } from "../worker/inference/manifest";
import { type ModelSource, type Scorer, sha256Hex } from "../worker/inference/scorer";
import { ApiError } from "../worker/lib/errors";
import {
  legacyBytesKey,
  legacyManifestKey,
  manifestObjectKey,
  modelObjectKey,
  SERVING_CONFIG_KEY,
  segmentsObjectKey,
} from "../worker/models/config";
import { planCanary, planPromote, planPush, planRetire, planRollback, type RegistryRow, type RowChange } from "../worker/models/lifecycle";
import { validateSegments } from "../worker/models/segments";
import { validateModel } from "../worker/models/validate";
import { scorerFromBytes } from "./evaluate/scorer";
import { applyAndPublish, insertStatement, killSwitchStatement, readRegistry } from "./model/registry";
import { d1Run, kvGet, kvGetBytes, r2Put, sqlText, type Target } from "./wrangler";

const USAGE = `usage: npm run model -- <command> [--local [--persist-to DIR]] [--env staging|production]
  list                                   versions, their status and what serves
  push DIR [--status shadow|canary] [--share S]
                                         validate DIR/manifest.json + model (+ DIR/segments.json), upload, register (default shadow)
  canary VERSION --share S               serve VERSION to a sticky share S (0 < S <= 1) of visitors
  promote VERSION                        make VERSION live (the version it replaces stays the rollback target)
  rollback                               return to the version that was live before
  retire VERSION                         stop a shadow or canary
  kill on|off                            serve editor defaults at once / serve models again
  register-bundled                       register the bundled default model (live when none is)
  move-to-r2                             copy versions pushed to KV by older releases to R2
Without --local, wrangler acts on the real account.`;

/** onnxruntime-web in Node (the evaluation's loader), with the worker's own scorer on top. */
async function loadInNode(source: ModelSource): Promise<Scorer> {
  const bytes = await source.bytes();
  if (!bytes) throw new Error("no model bytes");
  return scorerFromBytes(source.version, manifestSchema.parse(source.manifest), new Uint8Array(bytes));
}

function required(value: string | undefined, what: string): string {
  if (!value) throw new ApiError(400, "usage", `${what} is required\n${USAGE}`);
  return value;
}

function printChange(changes: readonly RowChange[]) {
  for (const c of changes) console.log(`  ${c.version}: ${c.status}${c.status === "canary" ? ` (${c.trafficShare})` : ""}`);
}

/** DIR/segments.json (`npm run segments`' output) when present, checked against the model being pushed. */
function segmentsIn(dir: string, model: Parameters<typeof validateSegments>[1]) {
  const path = join(dir, "segments.json");
  if (!existsSync(path)) return undefined;
  const segments = validateSegments(JSON.parse(readFileSync(path, "utf8")), model);
  console.log(`with ${segments.segments.length} segments (${path})`);
  return segments;
}

async function push(target: Target, dir: string, status: "shadow" | "canary", share: number) {
  const raw = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as { file?: unknown };
  const file = typeof raw.file === "string" ? raw.file : "model.onnx";
  const bytes = new Uint8Array(readFileSync(join(dir, file))).buffer;
  const { manifest, sha256, sampleScores } = await validateModel(raw, bytes, loadInNode);
  console.log(
    `validated ${manifest.version}: sha256 ${sha256}, ${bytes.byteLength} bytes, sample scores ${sampleScores.map((s) => s.toFixed(4)).join(" ")}`,
  );
  const segments = segmentsIn(dir, { version: manifest.version, sha256, family: manifest.family });
  const before = readRegistry(target);
  const row = planPush(before.rows, { version: manifest.version, sha256, storage: "r2", status, share });
  // Files first: a version is registered only once its files are where the worker will look.
  if (segments) await r2Put("MODELS", segmentsObjectKey(row.version), JSON.stringify(segments), "application/json", target);
  await r2Put("MODELS", modelObjectKey(row.version), new Uint8Array(bytes), "application/octet-stream", target);
  await r2Put("MODELS", manifestObjectKey(row.version), JSON.stringify(manifest), "application/json", target);
  applyAndPublish(target, before, [], { statements: [insertStatement(row, manifest, bytes.byteLength)], inserted: row });
  console.log(`pushed ${row.version} as ${row.status}${row.status === "canary" ? ` (${row.trafficShare})` : ""}`);
}

/**
 * The bundled model as a registry row. When the bundle changed (a new default model shipped with
 * the code), the new one replaces a bundled live version whose bytes are no longer in the bundle.
 */
function registerBundled(target: Target) {
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
async function moveToR2(target: Target) {
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

function list(target: Target) {
  const { rows, killSwitch } = readRegistry(target);
  for (const r of rows) {
    const share = r.status === "canary" ? ` share=${r.trafficShare}` : "";
    const promoted = r.promotedAt ? ` promoted=${new Date(r.promotedAt).toISOString()}` : "";
    console.log(`${r.version.padEnd(24)} ${r.status.padEnd(8)} ${r.storage.padEnd(7)}${share}${promoted}`);
  }
  const config = kvGet("CONFIG", SERVING_CONFIG_KEY, target);
  console.log(`kill switch: ${killSwitch ? "ON (editor defaults)" : "off"}`);
  console.log(`serving config: ${config ?? "(none: the bundled model serves)"}`);
}

async function main(argv: readonly string[]) {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      local: { type: "boolean", default: false },
      env: { type: "string" },
      "persist-to": { type: "string" },
      status: { type: "string", default: "shadow" },
      share: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  const [command, arg] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return;
  }
  const target: Target = { remote: !values.local, env: values.env, persistTo: values["persist-to"] };
  const share = values.share === undefined ? undefined : Number(values.share);
  const before = () => readRegistry(target);
  switch (command) {
    case "list":
      return list(target);
    case "push": {
      if (values.status !== "shadow" && values.status !== "canary")
        throw new ApiError(400, "usage", `--status is shadow or canary\n${USAGE}`);
      return push(target, required(arg, "the model directory"), values.status, share ?? 0.05);
    }
    case "canary": {
      const state = before();
      const changes = planCanary(state.rows, required(arg, "VERSION"), share ?? Number.NaN);
      applyAndPublish(target, state, changes);
      return printChange(changes);
    }
    case "promote": {
      const state = before();
      const changes = planPromote(state.rows, required(arg, "VERSION"), Date.now());
      applyAndPublish(target, state, changes);
      return printChange(changes);
    }
    case "rollback": {
      const state = before();
      const changes = planRollback(state.rows);
      applyAndPublish(target, state, changes);
      return printChange(changes);
    }
    case "retire": {
      const state = before();
      const changes = planRetire(state.rows, required(arg, "VERSION"));
      applyAndPublish(target, state, changes);
      return printChange(changes);
    }
    case "kill": {
      if (arg !== "on" && arg !== "off") throw new ApiError(400, "usage", `kill takes on or off\n${USAGE}`);
      applyAndPublish(target, before(), [], { statements: [killSwitchStatement(arg === "on")], killSwitch: arg === "on" });
      console.log(`kill switch ${arg}`);
      return;
    }
    case "register-bundled":
      return registerBundled(target);
    case "move-to-r2":
      return moveToR2(target);
    default:
      throw new ApiError(400, "usage", `unknown command "${command}"\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? `model: ${err.message}` : err);
  process.exit(1);
});
