import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import bundledManifest from "../../models/default/manifest.json";
import { VISITOR_COOKIE } from "../../worker/http/cookies";
import { sign } from "../../worker/lib/signing";
import { createDb } from "../../worker/store/db";
import { writeProfile } from "../../worker/store/profiles";
import { modelVersions } from "../../worker/store/schema";
import { demoVisitors, insertDemoSite } from "../seed/demo-data";
import type { Miniflare } from "./workerd";

/** The benchmark's own site: the demo catalogue, but opt-out so that an identified visitor is personalized. */
export const BENCH_SITE = "bench";

/** Runs drizzle's migration files in order, one statement at a time (D1 takes one per prepare). */
export async function applyMigrations(d1: D1Database, dir = "migrations"): Promise<void> {
  const files = readdirSync(dir)
    .filter((name) => name.endsWith(".sql"))
    .sort();
  for (const file of files) {
    const statements = readFileSync(join(dir, file), "utf8")
      .split("--> statement-breakpoint")
      .map((s) => s.trim())
      .filter(Boolean);
    for (const statement of statements) await d1.prepare(statement).run();
  }
}

/** Site, slots, the demo catalogue and the bundled model as the live registry entry (as `npm run seed` does). */
async function seedCatalogue(d1: D1Database): Promise<void> {
  const db = createDb(d1);
  await insertDemoSite(db, {
    id: BENCH_SITE,
    name: "Benchmark site",
    allowedOrigins: ["https://shop.example"],
    consentModel: "opt-out",
    originUrl: "bundled:demo",
    // No holdout: every measured decision takes the model path, so that runs compare like for like.
    policy: { holdout: { share: 0 } },
  });
  await db.insert(modelVersions).values({
    version: bundledManifest.version,
    sha256: bundledManifest.sha256,
    manifest: bundledManifest,
    status: "live",
    trafficShare: 1,
    storage: "bundled",
  });
}

export type BenchVisitor = { id: string; description: string; cookie: string };

/**
 * Migrates and seeds a fresh state through Miniflare's bindings, and returns the first demo
 * visitor (whose profile is now in PROFILES) with a cookie signed by `signingKey`.
 */
export async function seedBenchState(mf: Miniflare, signingKey: string): Promise<BenchVisitor> {
  const d1 = await mf.getD1Database("DB");
  // Miniflare types its KV proxy with the experimental build of @cloudflare/workers-types, whose
  // overloads differ from the stable ones that the worker code (writeProfile) is typed against.
  const profiles = (await mf.getKVNamespace("PROFILES")) as unknown as KVNamespace;
  await applyMigrations(d1);
  await seedCatalogue(d1);

  const visitor = demoVisitors()[0];
  if (!visitor) throw new Error("scripts/seed/demo-data.ts has no demo visitors");
  await writeProfile(profiles, BENCH_SITE, visitor.id, visitor.profile);
  const cookie = `${VISITOR_COOKIE}=${encodeURIComponent(await sign(visitor.id, signingKey))}`;
  return { id: visitor.id, description: visitor.description, cookie };
}
