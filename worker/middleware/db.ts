import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { createDb } from "../store/db";

/** Puts the drizzle client on `c.var.db`. */
export const withDb = createMiddleware<AppEnv>(async (c, next) => {
  c.set("db", createDb(c.env.DB));
  await next();
});
