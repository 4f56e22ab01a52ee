import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoVisitors } from "../../scripts/seed/demo-data";
import { d1Run, kvGet, sqlText, type Target, wrangler } from "../../scripts/wrangler";
import { profileKey } from "../../worker/store/profiles";
import { subjectHash } from "../../worker/store/subject";

/**
 * `npm run seed` (which `npm start` runs every time) against local wrangler state in which one demo
 * visitor was revoked and erased: its profile must not come back, the others are seeded.
 */
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
let work: string;
let target: Target;

describe("npm run seed after an erasure", () => {
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "seed-revoked-"));
    target = { remote: false, persistTo: join(work, "state") };
    execFileSync("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", join(work, "state")], {
      env,
      stdio: "ignore",
    });
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("never writes a profile under a revoked demo visitor's id", { timeout: 600_000 }, async () => {
    const [erased, ...others] = demoVisitors();
    if (!erased || others.length === 0) throw new Error("the demo has several visitors");
    // What a completed revocation leaves: the tombstone under the id's hash, no profile.
    d1Run(
      [`INSERT INTO revocations (subject_hash, request_id, reason) VALUES (${sqlText(await subjectHash(erased.id))}, 'r-1', 'test');`],
      target,
    );
    const run = spawnSync("npx", ["tsx", "scripts/seed.ts", "--persist-to", join(work, "state")], { encoding: "utf8", env });
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`and ${others.length} demo visitors`);
    expect(run.stdout).toContain(`not seeded (revoked and erased): ${erased.description}`);

    const keys = JSON.parse(wrangler(["kv", "key", "list", "--binding", "PROFILES", "--prefix", "profile:demo:"], target)) as {
      name: string;
    }[];
    expect(keys.map((k) => k.name).sort()).toEqual(others.map((v) => profileKey("demo", v.id)).sort());
    const [kept] = others;
    const stored = JSON.parse(kvGet("PROFILES", profileKey("demo", kept?.id ?? ""), target) ?? "null") as { itemAffinity?: unknown };
    expect(stored.itemAffinity).toEqual(kept?.profile.itemAffinity);
  });
});
