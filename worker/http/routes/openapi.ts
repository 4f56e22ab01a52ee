import { Hono } from "hono";
import { memoize } from "../../lib/memoize";
import type { AppEnv } from "../app-env";
import { mountPrefix } from "../mount";
import { type OpenApiDocument, openapiDocument } from "../openapi/document";
import { referencePage } from "../openapi/reference";

/** Built once per isolate and prefix: the contract does not change while the code does not. */
const documentFor = memoize((prefix: string): OpenApiDocument => openapiDocument(prefix));
const pageFor = memoize((prefix: string): string => referencePage(documentFor(prefix)));

/** `/openapi.json` (the contract, OpenAPI 3.1) and `/openapi` (the same as a readable page). */
export const openapiRoutes = new Hono<AppEnv>()
  .get("/openapi.json", (c) => c.json(documentFor(mountPrefix(c.env.PATH_PREFIX))))
  .get("/openapi", (c) => c.html(pageFor(mountPrefix(c.env.PATH_PREFIX))));
