/**
 * Loads visitor profiles (the profiles.ndjson that `npm run train` writes) into the visitors'
 * Durable Objects, through the worker's admin import endpoint (scripts/admin-import.ts):
 * `npm run load-profiles -- --site SITE --file profiles.ndjson [--local [--persist-to DIR]]`, or
 * `--remote --url https://<worker>` with ADMIN_TOKEN in the environment. Every line is validated
 * before anything is written; a revoked visitor's profile is refused by their object.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { z } from "zod";
import { checkWorkerTarget, importThrough, WORKER_TARGET_OPTIONS, WORKER_TARGET_SHAPE } from "./admin-import";
import { profileLines } from "./train/profile-lines";

const USAGE = `usage: npm run load-profiles -- --site SITE --file profiles.ndjson (--local [--persist-to DIR] | --remote --url URL) [--env staging|production]
  --site SITE        the site id the profiles belong to
  --file FILE        one {"visitorId": ..., "profile": {...}} per line, as npm run train writes it
  --local            write the local dev state (npm start's) through a temporary wrangler dev
  --remote --url URL the deployed worker (ADMIN_TOKEN in the environment)
  --env ENV          the wrangler environment (staging, production)`;

const argsSchema = z
  .object({
    site: z.string({ error: "--site SITE is required" }).min(1),
    file: z.string({ error: "--file FILE is required" }),
    ...WORKER_TARGET_SHAPE,
  })
  .superRefine(checkWorkerTarget);

async function main() {
  const { values } = parseArgs({
    options: {
      site: { type: "string" },
      file: { type: "string" },
      ...WORKER_TARGET_OPTIONS,
    },
    strict: true,
  });
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) throw new Error(`${z.prettifyError(parsed.error)}\n${USAGE}`);
  const args = parsed.data;
  const profiles = profileLines(args.site, readFileSync(args.file, "utf8"), args.file);
  const totals = await importThrough(args, { profiles });
  console.log(`loaded ${totals.imported} profiles for site "${args.site}"; ${totals.refused.length} refused (revoked visitors)`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
