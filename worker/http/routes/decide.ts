import { type Context, Hono } from "hono";
import { type DecideRequest, decideRequestFromQuery, decideRequestSchema, MAX_DECIDE_BODY_BYTES } from "../../wire/decide";
import type { AppEnv } from "../app-env";
import { decisionForRequest } from "../decision";
import { rateLimit } from "../middleware/rate-limit";
import { siteCors } from "../middleware/site-cors";
import { jsonBody, limitBody, parseWith } from "./validate";

async function answer(c: Context<AppEnv>, request: DecideRequest): Promise<Response> {
  const response = await decisionForRequest(c, request);
  c.header("Cache-Control", "private, no-store");
  return c.json(response);
}

export const decideRoutes = new Hono<AppEnv>()
  .use(siteCors)
  .use(rateLimit("DECIDE_RATE_LIMITER"))
  .get("/", (c) => answer(c, parseWith(decideRequestSchema, decideRequestFromQuery(c.req.query()))))
  .post("/", limitBody(MAX_DECIDE_BODY_BYTES), async (c) => answer(c, parseWith(decideRequestSchema, await jsonBody(c))));
