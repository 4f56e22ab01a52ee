import { type Context, Hono } from "hono";
import { oneRunScorer } from "../../inference/model";
import { ApiError } from "../../lib/errors";
import { SERVING_CONFIG_KEY, type ServingConfig, servingConfigSchema } from "../../models/config";
import { planCanary, planPromote, planPush, planRetire, planRollback, type RowChange } from "../../models/lifecycle";
import { applyChanges, publishServingConfig, readRegistry, setKillSwitch, storeVersion } from "../../models/registry-store";
import { validateSegments } from "../../models/segments";
import { validateModel } from "../../models/validate";
import { audit } from "../../store/audit";
import type { Database } from "../../store/db";
import { modelVersions } from "../../store/schema";
import { canaryBodySchema, killBodySchema, pushFormSchema, versionParam } from "../../wire/models";
import type { AppEnv } from "../app-env";
import { jsonBody, limitBody, MAX_ADMIN_JSON_BYTES, parseWith } from "./validate";

/**
 * The model lifecycle over HTTP (bearer `ADMIN_TOKEN`, mounted under /v1/admin): the same
 * planning as `npm run model` (worker/models/lifecycle.ts), applied through the worker's bindings.
 * Every action is audited, and the serving config in KV is rewritten after it.
 */

/**
 * R2 takes far larger objects; the isolate's 128 MB must hold the upload and the session that
 * validates it, so a push stays below this.
 */
const MAX_PUSH_BYTES = 48 * 1024 * 1024;

/** A lifecycle step, as the admin endpoints and the console's buttons both ask for it. */
export type ModelAction =
  | { kind: "promote"; version: string }
  | { kind: "canary"; version: string; share: number }
  | { kind: "retire"; version: string }
  | { kind: "rollback" }
  | { kind: "kill-switch"; on: boolean };

/**
 * Plans the step with worker/models/lifecycle.ts (as `npm run model` does), applies it, audits it
 * and rewrites the serving config in KV. The one implementation behind the admin endpoints and
 * the console, so both obey the same rules and leave the same audit trail.
 */
export async function runModelAction(
  db: Database,
  kv: KVNamespace,
  action: ModelAction,
): Promise<{ changes: RowChange[]; serving: ServingConfig }> {
  if (action.kind === "kill-switch") {
    await setKillSwitch(db, action.on);
    await audit(db, { role: "admin", action: action.on ? "admin.model.kill_switch.on" : "admin.model.kill_switch.off", target: "serving" });
    return { changes: [], serving: await publishServingConfig(db, kv) };
  }
  const { rows } = await readRegistry(db);
  const changes =
    action.kind === "rollback"
      ? planRollback(rows)
      : action.kind === "promote"
        ? planPromote(rows, action.version, Date.now())
        : action.kind === "canary"
          ? planCanary(rows, action.version, action.share)
          : planRetire(rows, action.version);
  await applyChanges(db, changes);
  await audit(db, {
    role: "admin",
    action: `admin.model.${action.kind}`,
    target: action.kind === "rollback" ? (changes[1]?.version ?? "") : action.version,
  });
  return { changes, serving: await publishServingConfig(db, kv) };
}

/** The serving config as KV holds it (null when none was published or it does not parse). */
export async function publishedServingConfig(kv: KVNamespace): Promise<ServingConfig | null> {
  return servingConfigSchema
    .nullable()
    .catch(null)
    .parse(await kv.get(SERVING_CONFIG_KEY, "json"));
}

async function segmentsJson(field: string | File): Promise<unknown> {
  try {
    return JSON.parse(typeof field === "string" ? field : await field.text());
  } catch {
    throw new ApiError(400, "invalid_json", "segments is not valid JSON", "segments");
  }
}

const run = async (c: Context<AppEnv>, action: ModelAction) => c.json(await runModelAction(c.var.db, c.env.CONFIG, action));

export const adminModelRoutes = new Hono<AppEnv>()
  .get("/", async (c) => {
    const versions = await c.var.db
      .select({
        version: modelVersions.version,
        status: modelVersions.status,
        trafficShare: modelVersions.trafficShare,
        storage: modelVersions.storage,
        sha256: modelVersions.sha256,
        sizeBytes: modelVersions.sizeBytes,
        promotedAt: modelVersions.promotedAt,
        createdAt: modelVersions.createdAt,
      })
      .from(modelVersions);
    return c.json({ versions, serving: await publishedServingConfig(c.env.CONFIG) });
  })
  .put("/:version", limitBody(MAX_PUSH_BYTES), async (c) => {
    const version = parseWith(versionParam, c.req.param("version"));
    let form: Record<string, unknown>;
    try {
      form = await c.req.parseBody();
    } catch {
      throw new ApiError(400, "invalid_form", "send multipart/form-data with fields manifest, model, status, share");
    }
    const push = parseWith(pushFormSchema, form);
    let rawManifest: unknown;
    try {
      rawManifest = JSON.parse(push.manifest);
    } catch {
      throw new ApiError(400, "invalid_json", "manifest is not valid JSON", "manifest");
    }
    const bytes = await push.model.arrayBuffer();
    const { manifest, sha256 } = await validateModel(rawManifest, bytes, oneRunScorer);
    if (manifest.version !== version) {
      throw new ApiError(422, "model_refused", `the manifest's version is "${manifest.version}", the URL says "${version}"`, "version");
    }
    const segments =
      push.segments === undefined
        ? undefined
        : validateSegments(await segmentsJson(push.segments), { version, sha256, family: manifest.family });
    const { rows } = await readRegistry(c.var.db);
    const row = planPush(rows, { version, sha256, storage: "r2", status: push.status, share: push.share });
    await storeVersion(c.var.db, c.env.MODELS, row, manifest, bytes, segments);
    await audit(c.var.db, { role: "admin", action: `admin.model.push.${row.status}`, target: version });
    return c.json({ version: row, serving: await publishServingConfig(c.var.db, c.env.CONFIG) }, 201);
  })
  .post("/rollback", (c) => run(c, { kind: "rollback" }))
  .post("/kill-switch", limitBody(MAX_ADMIN_JSON_BYTES), async (c) => {
    const { on } = parseWith(killBodySchema, await jsonBody(c));
    const { serving } = await runModelAction(c.var.db, c.env.CONFIG, { kind: "kill-switch", on });
    return c.json({ serving });
  })
  .post("/:version/promote", (c) => run(c, { kind: "promote", version: parseWith(versionParam, c.req.param("version")) }))
  .post("/:version/canary", limitBody(MAX_ADMIN_JSON_BYTES), async (c) => {
    const version = parseWith(versionParam, c.req.param("version"));
    const { share } = parseWith(canaryBodySchema, await jsonBody(c));
    return run(c, { kind: "canary", version, share });
  })
  .post("/:version/retire", (c) => run(c, { kind: "retire", version: parseWith(versionParam, c.req.param("version")) }));
