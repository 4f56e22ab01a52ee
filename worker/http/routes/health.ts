import { Hono } from "hono";
import { isLoaded, scorerFor } from "../../inference/model";
import { servingConfig, sourceOf } from "../../models/serving";
import type { AppEnv } from "../app-env";
import { keepAliveOf } from "../keep-alive";

export const healthRoutes = new Hono<AppEnv>()
  /** Liveness: no I/O at all (also the benchmark's baseline route). */
  .get("/live", (c) => c.json({ status: "ok" }))
  /**
   * What serves: the live version (and whether this isolate has it loaded; the load starts if
   * not), the canary with its share, the shadows, and the kill switch.
   */
  .get("/", async (c) => {
    const config = await servingConfig(c.env.CONFIG, c.var.config.configTtlMs, keepAliveOf(c));
    let loaded = false;
    if (config.live && !config.killSwitch) {
      const source = await sourceOf(c.env.MODELS, config.live).catch(() => null);
      loaded = source !== null && isLoaded(source);
      if (source && !loaded) c.executionCtx.waitUntil(scorerFor(source, c.var.config.modelSessionsMax).catch(() => undefined));
    }
    return c.json({
      status: "ok",
      model: {
        version: config.killSwitch ? null : (config.live?.version ?? null),
        loaded,
        killSwitch: config.killSwitch,
        canary: config.canary ? { version: config.canary.version, share: config.canary.share } : null,
        shadows: config.shadows.map((s) => s.version),
      },
    });
  });
