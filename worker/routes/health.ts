import { Hono } from "hono";
import { type AppEnv, numericVar } from "../app-env";
import { isLoaded, scorerFor } from "../inference/model";
import { servingModelSource } from "../inference/registry";

export const healthRoutes = new Hono<AppEnv>()
  /** Liveness: no I/O at all (also the benchmark's baseline route). */
  .get("/live", (c) => c.json({ status: "ok" }))
  /** The serving model version and whether this isolate has it loaded; starts the load if not. */
  .get("/", async (c) => {
    const source = await servingModelSource(c.var.db, c.env.CONFIG, numericVar(c.env.CONFIG_TTL_MS, 30_000));
    const loaded = isLoaded(source);
    if (!loaded) c.executionCtx.waitUntil(scorerFor(source).catch(() => undefined));
    return c.json({ status: "ok", model: { version: source.version, loaded } });
  });
