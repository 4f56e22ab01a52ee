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
import { adminPoster, importVisitors, withLocalWorker } from "./admin-import";
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
    local: z.boolean().default(false),
    remote: z.boolean().default(false),
    url: z.url().optional(),
    "persist-to": z.string().optional(),
    env: z.enum(["staging", "production"]).optional(),
  })
  .refine((a) => a.local !== a.remote, "say --local or --remote")
  .refine((a) => !a.remote || a.url, "--remote needs --url");

async function main() {
  const { values } = parseArgs({
    options: {
      site: { type: "string" },
      file: { type: "string" },
      local: { type: "boolean" },
      remote: { type: "boolean" },
      url: { type: "string" },
      "persist-to": { type: "string" },
      env: { type: "string" },
    },
    strict: true,
  });
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) throw new Error(`${z.prettifyError(parsed.error)}\n${USAGE}`);
  const args = parsed.data;
  const profiles = profileLines(args.site, readFileSync(args.file, "utf8"), args.file);
  let totals: Awaited<ReturnType<typeof importVisitors>>;
  if (args.remote) {
    const token = process.env.ADMIN_TOKEN;
    if (!token) throw new Error("--remote needs ADMIN_TOKEN in the environment");
    totals = await importVisitors(adminPoster(new URL(args.url ?? ""), token), { profiles });
  } else {
    totals = await withLocalWorker({ persistTo: args["persist-to"], env: args.env }, (post) => importVisitors(post, { profiles }));
  }
  console.log(`loaded ${totals.imported} profiles for site "${args.site}"; ${totals.refused.length} refused (revoked visitors)`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
