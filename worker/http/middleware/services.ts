import { createMiddleware } from "hono/factory";
import { configOf } from "../../lib/config";
import { createDb } from "../../store/db";
import type { AppEnv } from "../app-env";

/** Puts the drizzle client on `c.var.db` and the typed configuration on `c.var.config`. */
export const withServices = createMiddleware<AppEnv>(async (c, next) => {
  c.set("db", createDb(c.env.DB));
  c.set("config", configOf(c.env));
  await next();
});
