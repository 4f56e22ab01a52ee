import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import bundledManifest from "../../models/default/manifest.json";
import { VISITOR_COOKIE } from "../../worker/http/cookies";
import { sign } from "../../worker/lib/signing";
import { createDb } from "../../worker/store/db";
import { modelVersions } from "../../worker/store/schema";
import { adminPoster, importVisitors } from "../admin-import";
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

/** The visitor Chromium and the cold start use, and the cookies of the load test's visitors. */
export type BenchVisitor = { id: string; description: string; cookie: string; loadCookies: string[] };

/** Visitors the identified load test spreads over, each with a profile: real traffic is many visitors, one object each. */
export const LOAD_VISITORS = 64;

/** The worker's secrets that seeding needs: the admin token (profiles) and the signing key (cookies). */
export type SeedSecrets = { ADMIN_TOKEN: string; ID_SIGNING_KEY: string };

/** Profiles into visitors' Durable Objects, through the running worker's admin import endpoint. */
export async function putProfiles(
  url: URL,
  secrets: SeedSecrets,
  profiles: {
    site: string;
    visitorId: string;
    profile: { attributes: Record<string, string | number>; itemAffinity: Record<string, number> };
  }[],
): Promise<void> {
  const lines = profiles.map((p) => ({ ...p, profile: { v: 1 as const, recent: [], ...p.profile } }));
  const { refused } = await importVisitors(adminPoster(url, secrets.ADMIN_TOKEN), { profiles: lines });
  if (refused.length > 0) throw new Error(`refused (revoked): ${refused.join(", ")}`);
}

/** A visitor's cookie, signed as the worker signs it. */
export async function benchCookie(visitorId: string, signingKey: string): Promise<string> {
  return `${VISITOR_COOKIE}=${encodeURIComponent(await sign(visitorId, signingKey))}`;
}

/**
 * Migrates and seeds a fresh state through Miniflare's bindings and the worker at `url`, and
 * returns the first demo visitor (whose profile is now in their Durable Object) with a cookie,
 * and the cookies of LOAD_VISITORS visitors with profiles (the first demo visitor among them).
 */
export async function seedBenchState(mf: Miniflare, url: URL, secrets: SeedSecrets): Promise<BenchVisitor> {
  const d1 = await mf.getD1Database("DB");
  await applyMigrations(d1);
  await seedCatalogue(d1);

  const demo = demoVisitors();
  const visitor = demo[0];
  if (!visitor) throw new Error("scripts/seed/demo-data.ts has no demo visitors");
  const others = Array.from({ length: LOAD_VISITORS - 1 }, (_, i) => ({
    id: crypto.randomUUID(),
    profile: (demo[i % demo.length] ?? visitor).profile,
  }));
  const all = [{ id: visitor.id, profile: visitor.profile }, ...others];
  await putProfiles(
    url,
    secrets,
    all.map((v) => ({ site: BENCH_SITE, visitorId: v.id, profile: v.profile })),
  );
  const loadCookies = await Promise.all(all.map((v) => benchCookie(v.id, secrets.ID_SIGNING_KEY)));
  return { id: visitor.id, description: visitor.description, cookie: loadCookies[0] as string, loadCookies };
}
