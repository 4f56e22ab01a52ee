import { Hono } from "hono";
import { z } from "zod";
import { createApiKey, listApiKeys, revokeApiKey } from "../../channels/api-keys";
import { audit } from "../../store/audit";
import { resourceId } from "../../wire/catalogue";
import { apiKeyInputSchema } from "../../wire/channels";
import type { AppEnv } from "../app-env";
import { jsonBody, limitBody, parseWith } from "./validate";

/**
 * A site's API keys under /v1/admin (bearer `ADMIN_TOKEN`): created (the secret is in that answer
 * only), listed (never with a secret) and revoked (401 from the next call on). Audited.
 */
const site = (c: { req: { param: (name: "site") => string } }) => parseWith(resourceId, c.req.param("site"));
const keyId = z.string().uuid();

export const adminKeyRoutes = new Hono<AppEnv>()
  .get("/sites/:site/keys", async (c) => {
    const keys = await listApiKeys(c.var.db, site(c));
    await audit(c.var.db, { role: "admin", action: "admin.api_key.list", target: site(c) });
    return c.json({ keys });
  })
  .post("/sites/:site/keys", limitBody(4096), async (c) => {
    const created = await createApiKey(c.var.db, site(c), parseWith(apiKeyInputSchema, await jsonBody(c)));
    c.header("Cache-Control", "no-store");
    return c.json(created, 201);
  })
  .delete("/sites/:site/keys/:id", async (c) => {
    return c.json(await revokeApiKey(c.var.db, site(c), parseWith(keyId, c.req.param("id"))));
  });
