import { z } from "zod";

/**
 * The worker's `[vars]` (wrangler.toml), read once per isolate into typed values. A value that is
 * set but not valid fails loudly (a bad deploy must not serve with a silently different setting);
 * a missing or empty one takes the default written here.
 */
const milliseconds = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((value) => (value === undefined || value.trim() === "" ? fallback : Number(value)))
    .pipe(z.number().int("a whole number of milliseconds").min(0));

const varsSchema = z.object({
  /** How long a cold isolate waits for the model before serving editor defaults (0: never). */
  MODEL_LOAD_BUDGET_MS: milliseconds(0),
  /** How long the catalogue, site config and serving config are cached per isolate. */
  CONFIG_TTL_MS: milliseconds(30_000),
  /** `secure`: `__Host-` cookies over HTTPS on the site's own host; `dev`: plain names over http. */
  COOKIE_MODE: z.enum(["dev", "secure"]).default("dev"),
});

export type Config = {
  modelLoadBudgetMs: number;
  configTtlMs: number;
  secureCookies: boolean;
};

const parsed = new WeakMap<object, Config>();

export function configOf(env: Pick<Env, "MODEL_LOAD_BUDGET_MS" | "CONFIG_TTL_MS" | "COOKIE_MODE">): Config {
  const cached = parsed.get(env);
  if (cached) return cached;
  const vars = varsSchema.safeParse({
    MODEL_LOAD_BUDGET_MS: env.MODEL_LOAD_BUDGET_MS,
    CONFIG_TTL_MS: env.CONFIG_TTL_MS,
    COOKIE_MODE: env.COOKIE_MODE || undefined,
  });
  if (!vars.success) throw new Error(`wrangler.toml [vars]: ${z.prettifyError(vars.error)}`);
  const config: Config = {
    modelLoadBudgetMs: vars.data.MODEL_LOAD_BUDGET_MS,
    configTtlMs: vars.data.CONFIG_TTL_MS,
    secureCookies: vars.data.COOKIE_MODE === "secure",
  };
  parsed.set(env, config);
  return config;
}
