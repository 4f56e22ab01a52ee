import { createMiddleware } from "hono/factory";
import { createDb } from "../../store/db";
import type { AppEnv } from "../app-env";

/** Puts the drizzle client on `c.var.db`. */
export const withDb = createMiddleware<AppEnv>(async (c, next) => {
  c.set("db", createDb(c.env.DB));
  await next();
});
