/**
 * Moves the profiles of the retired KV namespace (`profile:<site>:<visitor>` keys) into the
 * visitors' Durable Objects:
 * `npm run migrate-profiles -- --namespace-id ID (--local [--persist-to DIR] | --remote --url URL) [--env ENV]`.
 *
 * 1. D1's revocation records become tombstones in their objects first, so that no profile is
 *    written under a revoked id, and an event still in flight for that subject is dropped.
 * 2. The KV profiles are read with wrangler (`kv key list`, `kv bulk get`, 100 keys a time), each
 *    validated as the object stores it (unknown fields such as the old `seen` ids dropped, the
 *    strongest affinities kept), and imported in `merge` mode: an object that already learnt
 *    clicks since the new worker was deployed keeps them (worker/visitors/features.ts
 *    `mergeProfiles`). Running it twice adds the KV affinities twice, so run it once, after the
 *    deployment.
 *
 * Writes go through the worker's admin import endpoint (scripts/admin-import.ts): the deployed
 * worker with ADMIN_TOKEN for `--remote`, a temporary `wrangler dev` on the local state otherwise.
 * The KV namespace is left as it was; delete it (`wrangler kv namespace delete`) once the counts
 * printed here are checked.
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { AFFINITIES_KEPT, type StoredProfile, storedProfileSchema } from "../worker/visitors/features";
import { checkWorkerTarget, importThrough, WORKER_TARGET_OPTIONS, WORKER_TARGET_SHAPE } from "./admin-import";
import { d1Query, type Target, withTempFile, wrangler } from "./wrangler";

const USAGE = `usage: npm run migrate-profiles -- --namespace-id ID (--local [--persist-to DIR] | --remote --url URL) [--env staging|production]
  --namespace-id ID  the KV namespace that held the profiles (the former PROFILES binding's id;
                     00000000000000000000000000000001 for the local dev state)
  --local            the local dev state (npm start's), through a temporary wrangler dev
  --remote --url URL the account's KV and D1, written through the deployed worker (ADMIN_TOKEN set)
  --env ENV          the wrangler environment (staging, production)`;

const KEY_PREFIX = "profile:";
/** Keys per `kv bulk get` (the API's limit). */
const BULK_GET_MAX = 100;

const argsSchema = z
  .object({
    "namespace-id": z.string({ error: "--namespace-id ID is required" }).regex(/^[0-9a-f]{32}$/, "a KV namespace id (32 hex digits)"),
    ...WORKER_TARGET_SHAPE,
  })
  .superRefine(checkWorkerTarget);

type Migrated = { site: string; visitorId: string; profile: StoredProfile };

/** `profile:<site>:<visitor>` as its parts; null for a key of another shape. */
function parseProfileKey(key: string): { site: string; visitorId: string } | null {
  if (!key.startsWith(KEY_PREFIX)) return null;
  const rest = key.slice(KEY_PREFIX.length);
  const colon = rest.indexOf(":");
  if (colon <= 0 || colon === rest.length - 1) return null;
  return { site: rest.slice(0, colon), visitorId: rest.slice(colon + 1) };
}

/** A KV profile as the object stores it, or null when it cannot be read (counted, never guessed at). */
function profileFromKv(text: string | null): StoredProfile | null {
  if (text === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  if (json && typeof json === "object" && "itemAffinity" in json && json.itemAffinity && typeof json.itemAffinity === "object") {
    const strongest = Object.entries(json.itemAffinity as Record<string, unknown>)
      .filter((e): e is [string, number] => typeof e[1] === "number" && Number.isFinite(e[1]))
      .sort((a, b) => b[1] - a[1])
      .slice(0, AFFINITIES_KEPT);
    json = { ...json, itemAffinity: Object.fromEntries(strongest) };
  }
  const parsed = storedProfileSchema.safeParse(json);
  return parsed.success ? parsed.data : null;
}

function jsonOut(out: string): unknown {
  const start = out.search(/[[{]/);
  return JSON.parse(start < 0 ? out : out.slice(start));
}

function readKvProfiles(namespaceId: string, target: Target): { profiles: Migrated[]; unreadable: number } {
  const listed = jsonOut(wrangler(["kv", "key", "list", "--namespace-id", namespaceId, "--prefix", KEY_PREFIX], target)) as {
    name: string;
  }[];
  const keys = listed.map((k) => k.name).filter((k) => parseProfileKey(k) !== null);
  const profiles: Migrated[] = [];
  let unreadable = listed.length - keys.length;
  for (let i = 0; i < keys.length; i += BULK_GET_MAX) {
    const chunk = keys.slice(i, i + BULK_GET_MAX);
    const values = withTempFile("keys.json", JSON.stringify(chunk), (path) =>
      jsonOut(wrangler(["kv", "bulk", "get", path, "--namespace-id", namespaceId], target)),
    ) as Record<string, { value: string | null } | undefined>;
    for (const key of chunk) {
      const profile = profileFromKv(values[key]?.value ?? null);
      const parts = parseProfileKey(key);
      if (profile && parts) profiles.push({ ...parts, profile });
      else unreadable++;
    }
  }
  return { profiles, unreadable };
}

async function main() {
  const { values } = parseArgs({
    options: {
      "namespace-id": { type: "string" },
      ...WORKER_TARGET_OPTIONS,
    },
    strict: true,
  });
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) throw new Error(`${z.prettifyError(parsed.error)}\n${USAGE}`);
  const args = parsed.data;
  const target: Target = { remote: args.remote, env: args.env, persistTo: args["persist-to"] };

  const [revoked = []] = d1Query(["SELECT subject_hash AS hash FROM revocations"], target) as { hash: string }[][];
  const tombstones = revoked.map((r) => r.hash);
  const { profiles, unreadable } = readKvProfiles(args["namespace-id"], target);
  const input = { tombstones, profiles, mode: "merge" as const };
  const totals = await importThrough(args, input);
  console.log(
    `migrated ${totals.imported} profiles into visitors' objects; ${totals.tombstones} tombstones written; ` +
      `${totals.refused.length} profiles refused (revoked visitors); ${unreadable} keys unreadable (skipped)`,
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
