import { type Context, Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import { ApiError } from "../errors";
import { loadScorer } from "../inference/model";
import { SERVING_CONFIG_KEY, servingConfigSchema } from "../models/config";
import { planCanary, planPromote, planPush, planRetire, planRollback, type RowChange } from "../models/lifecycle";
import { applyChanges, publishServingConfig, readRegistry, setKillSwitch, storeVersion } from "../models/registry-store";
import { validateModel } from "../models/validate";
import { auditLog, modelVersions } from "../store/schema";
import { jsonBody, limitBody, parseWith } from "./validate";

/**
 * The model lifecycle over HTTP (bearer `ADMIN_TOKEN`, mounted under /v1/admin): the same
 * planning as `npm run model` (worker/models/lifecycle.ts), applied through the worker's bindings.
 * Every action is audited, and the serving config in KV is rewritten after it.
 */

/** KV takes values up to 25 MiB; a model and its form fields stay below. */
const MAX_PUSH_BYTES = 25 * 1024 * 1024;

const versionParam = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "version: letters, digits, . _ - (max 64)");
const pushFormSchema = z.object({
  manifest: z.string().min(2, "manifest: the manifest.json text"),
  model: z.instanceof(File, { message: "model: the .onnx file" }),
  status: z.enum(["shadow", "canary"]).default("shadow"),
  share: z.coerce.number().default(0.05),
});
const canaryBodySchema = z.object({ share: z.number() });
const killBodySchema = z.object({ on: z.boolean() });

async function audited(c: Context<AppEnv>, action: string, target: string) {
  await c.var.db.insert(auditLog).values({ role: "admin", action, target });
}

async function change(c: Context<AppEnv>, action: string, target: string, changes: RowChange[]) {
  await applyChanges(c.var.db, changes);
  await audited(c, action, target);
  return c.json({ changes, serving: await publishServingConfig(c.var.db, c.env.CONFIG) });
}

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
    const serving = servingConfigSchema
      .nullable()
      .catch(null)
      .parse(await c.env.CONFIG.get(SERVING_CONFIG_KEY, "json"));
    return c.json({ versions, serving });
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
    const { manifest, sha256 } = await validateModel(rawManifest, bytes, loadScorer);
    if (manifest.version !== version) {
      throw new ApiError(422, "model_refused", `the manifest's version is "${manifest.version}", the URL says "${version}"`, "version");
    }
    const { rows } = await readRegistry(c.var.db);
    const row = planPush(rows, { version, sha256, storage: "kv", status: push.status, share: push.share });
    await storeVersion(c.var.db, c.env.CONFIG, row, manifest, bytes);
    await audited(c, `admin.model.push.${row.status}`, version);
    return c.json({ version: row, serving: await publishServingConfig(c.var.db, c.env.CONFIG) }, 201);
  })
  .post("/rollback", async (c) => {
    const { rows } = await readRegistry(c.var.db);
    const changes = planRollback(rows);
    return change(c, "admin.model.rollback", changes[1]?.version ?? "", changes);
  })
  .post("/kill-switch", async (c) => {
    const { on } = parseWith(killBodySchema, await jsonBody(c));
    await setKillSwitch(c.var.db, on);
    await audited(c, on ? "admin.model.kill_switch.on" : "admin.model.kill_switch.off", "serving");
    return c.json({ serving: await publishServingConfig(c.var.db, c.env.CONFIG) });
  })
  .post("/:version/promote", async (c) => {
    const version = parseWith(versionParam, c.req.param("version"));
    const { rows } = await readRegistry(c.var.db);
    return change(c, "admin.model.promote", version, planPromote(rows, version, Date.now()));
  })
  .post("/:version/canary", async (c) => {
    const version = parseWith(versionParam, c.req.param("version"));
    const { share } = parseWith(canaryBodySchema, await jsonBody(c));
    const { rows } = await readRegistry(c.var.db);
    return change(c, "admin.model.canary", version, planCanary(rows, version, share));
  })
  .post("/:version/retire", async (c) => {
    const version = parseWith(versionParam, c.req.param("version"));
    const { rows } = await readRegistry(c.var.db);
    return change(c, "admin.model.retire", version, planRetire(rows, version));
  });
