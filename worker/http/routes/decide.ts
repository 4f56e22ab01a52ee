import { type Context, Hono } from "hono";
import { serverDecideRequestSchema } from "../../wire/channels";
import { type DecideRequest, decideRequestFromQuery, decideRequestSchema, MAX_DECIDE_BODY_BYTES } from "../../wire/decide";
import type { AppEnv } from "../app-env";
import { decisionForRequest } from "../decision";
import { apiKeyAuth, keyForSite } from "../middleware/api-key";
import { rateLimit } from "../middleware/rate-limit";
import { siteCors } from "../middleware/site-cors";
import { byServerCall } from "../server-visitor";
import { jsonBody, limitBody, parseWith } from "./validate";

/** A browser's request (cookies), or a server's call with an API key (the visitor and consent in the body). */
async function answer(c: Context<AppEnv>, input: unknown): Promise<Response> {
  let response: Awaited<ReturnType<typeof decisionForRequest>>;
  if (c.var.apiKey) {
    const { visitor, consent, channel, ...request } = parseWith(serverDecideRequestSchema, input);
    keyForSite(c.var.apiKey, request.site);
    response = await decisionForRequest(c, request, { identify: byServerCall({ visitor, consent }), channel });
  } else {
    response = await decisionForRequest(c, parseWith(decideRequestSchema, input) satisfies DecideRequest);
  }
  c.header("Cache-Control", "private, no-store");
  return c.json(response);
}

export const decideRoutes = new Hono<AppEnv>()
  .use(siteCors)
  .use(apiKeyAuth("decide"))
  .use(rateLimit("DECIDE_RATE_LIMITER"))
  .get("/", (c) => answer(c, decideRequestFromQuery(c.req.query())))
  .post("/", limitBody(MAX_DECIDE_BODY_BYTES), async (c) => answer(c, await jsonBody(c)));
