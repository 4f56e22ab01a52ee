import { env, SELF } from "cloudflare:test";
import { manifestSchema } from "../../worker/inference/manifest";
import { bundledSource } from "../../worker/inference/registry";
import { SERVING_CONFIG_KEY } from "../../worker/models/config";
import { modelControls, modelVersions } from "../../worker/store/schema";
import { db } from "./fixtures";

/** The model registry through the admin endpoints, for tests that push, promote and reset. */
export const ADMIN = { authorization: `Bearer ${env.ADMIN_TOKEN}` };
const parsedBundled = manifestSchema.parse(bundledSource.manifest);
// Tests rename and resize its one input: the bundled model is of the mlp family.
if (parsedBundled.family !== "mlp") throw new Error("the bundled model is expected to be of the mlp family");
export const bundledManifest = parsedBundled;
export const bundledBytes = async () => {
  const bytes = await bundledSource.bytes();
  if (!bytes) throw new Error("bundled bytes expected");
  return bytes;
};

export function admin(path: string, init: RequestInit = {}) {
  return SELF.fetch(`https://edge.example/v1/admin${path}`, { ...init, headers: { ...ADMIN, ...(init.headers ?? {}) } });
}

export const post = (path: string, body?: unknown) =>
  admin(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

export async function push(
  version: string,
  options: { status?: string; share?: number; manifest?: unknown; bytes?: ArrayBuffer; segments?: unknown } = {},
) {
  const form = new FormData();
  form.set("manifest", JSON.stringify(options.manifest ?? { ...bundledManifest, version }));
  form.set("model", new File([options.bytes ?? (await bundledBytes())], "model.onnx"));
  form.set("status", options.status ?? "shadow");
  if (options.share !== undefined) form.set("share", String(options.share));
  if (options.segments !== undefined) form.set("segments", JSON.stringify(options.segments));
  return admin(`/models/${version}`, { method: "PUT", body: form });
}

/** The registry with the bundled model live, as seeding leaves it. */
export async function resetRegistry() {
  await db.delete(modelVersions);
  await db.delete(modelControls);
  await db.insert(modelVersions).values({
    version: bundledSource.version,
    sha256: bundledSource.sha256,
    manifest: bundledSource.manifest,
    status: "live",
    storage: "bundled",
  });
  await env.CONFIG.delete(SERVING_CONFIG_KEY);
}
