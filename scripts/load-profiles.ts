/**
 * Loads visitor profiles (the profiles.ndjson that `npm run train` writes) into the PROFILES KV
 * namespace through wrangler: `npm run load-profiles -- --site SITE --file profiles.ndjson
 * [--local] [--env staging|production]`. Every line is validated before anything is written;
 * `--local` writes the local dev state (npm start's), otherwise the remote namespace of `--env`.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { BULK_PUT_MAX, chunks, profilePairs } from "./train/kv-profiles";

const USAGE = `usage: npm run load-profiles -- --site SITE --file profiles.ndjson [--local] [--env staging|production]
  --site SITE     the site id the profiles belong to (keys profile:SITE:VISITOR)
  --file FILE     one {"visitorId": ..., "profile": {...}} per line, as npm run train writes it
  --local         write the local dev state; otherwise the remote namespace
  --env ENV       the wrangler environment (staging, production)`;

const argsSchema = z.object({
  site: z.string({ error: "--site SITE is required" }).min(1),
  file: z.string({ error: "--file FILE is required" }),
  local: z.boolean().default(false),
  env: z.enum(["staging", "production"]).optional(),
});

function main() {
  const { values } = parseArgs({
    options: { site: { type: "string" }, file: { type: "string" }, local: { type: "boolean" }, env: { type: "string" } },
    strict: true,
  });
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) throw new Error(`${z.prettifyError(parsed.error)}\n${USAGE}`);
  const { site, file, local, env } = parsed.data;
  const pairs = profilePairs(site, readFileSync(file, "utf8"), file);
  // wrangler's kv commands write local state unless told --remote.
  const where = [local ? "--local" : "--remote", ...(env ? ["--env", env] : [])];
  const dir = mkdtempSync(join(tmpdir(), "load-profiles-"));
  try {
    chunks(pairs, BULK_PUT_MAX).forEach((chunk, i) => {
      const path = join(dir, `profiles-${i}.json`);
      writeFileSync(path, JSON.stringify(chunk));
      execFileSync("npx", ["wrangler", "kv", "bulk", "put", path, "--binding", "PROFILES", ...where], {
        stdio: ["ignore", "ignore", "inherit"],
        env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`wrote ${pairs.length} profiles for site "${site}" (${where.join(" ")})`);
}

try {
  main();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
