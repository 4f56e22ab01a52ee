import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { servingConfigSchema } from "../../worker/models/config";

/**
 * `npm run model` against local wrangler state in a temporary directory: the same commands a data
 * scientist runs with `--local` next to `npm start`.
 */
const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };
let state: string;
let work: string;

function model(...args: string[]) {
  return spawnSync("npx", ["tsx", "scripts/model.ts", ...args, "--local", "--persist-to", state], { encoding: "utf8", env });
}

function modelDir(version: string, bytes?: Uint8Array): string {
  const dir = join(work, version);
  execFileSync("mkdir", ["-p", dir]);
  const manifest = JSON.parse(readFileSync("models/default/manifest.json", "utf8")) as Record<string, unknown>;
  writeFileSync(join(dir, "manifest.json"), JSON.stringify({ ...manifest, version }));
  if (bytes) writeFileSync(join(dir, "model.onnx"), bytes);
  else copyFileSync("models/default/model.onnx", join(dir, "model.onnx"));
  return dir;
}

const RING = JSON.parse(readFileSync("models/fixtures/sequence-ring/manifest.json", "utf8")) as { version: string; sha256: string };

/** The sequence fixture model with a one-segment file claiming to be made with the model of `sha256`. */
function ringDir(sha256: string): string {
  const dir = join(work, `ring-${sha256.slice(0, 8)}`);
  execFileSync("mkdir", ["-p", dir]);
  for (const file of ["manifest.json", "model.onnx"]) copyFileSync(join("models/fixtures/sequence-ring", file), join(dir, file));
  const segment = { id: "s1", visitors: 1, share: 1, centroid: [1, 0], topItems: [], topAttributes: [], ctr: null };
  const segments = {
    schemaVersion: 1,
    model: { version: RING.version, sha256 },
    data: { name: "SYNTHETIC", citation: "none", visitors: 1 },
    method: "by hand",
    k: 1,
    seed: 0,
    segments: [segment],
  };
  writeFileSync(join(dir, "segments.json"), JSON.stringify(segments));
  return dir;
}

function servingConfig(listOutput: string) {
  const line = listOutput.split("\n").find((l) => l.startsWith("serving config: "));
  return servingConfigSchema.parse(JSON.parse(line?.slice("serving config: ".length) ?? "null"));
}

describe("npm run model (wrangler, local state)", () => {
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "model-cli-"));
    state = join(work, "state");
    execFileSync("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", state], { env, stdio: "ignore" });
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("refuses a model whose bytes are not the ones its manifest names, before uploading anything", () => {
    const refused = model("push", modelDir("tampered", new TextEncoder().encode("not the model")));
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("sha256");
  });

  // Each wrangler run starts a runtime (seconds); rollback, retire and the kill switch go through
  // the same planning and are tested through the admin endpoints (test/models.test.ts). The bound
  // is generous: the suite runs two workers at once, and the chain of runs took over 300 s on a
  // shared, loaded two-core machine.
  it("registers the bundled model, pushes a canary and promotes it", { timeout: 600_000 }, () => {
    expect(model("register-bundled").status).toBe(0);
    const pushed = model("push", modelDir("cli-candidate"), "--status", "canary", "--share", "0.25");
    expect(pushed.stdout).toContain("pushed cli-candidate as canary (0.25)");
    const promoted = model("promote", "cli-candidate");
    expect(promoted.stdout).toContain("cli-candidate: live");

    const listed = model("list");
    expect(listed.stdout).toMatch(/cli-candidate\s+live\s+r2/);
    const config = servingConfig(listed.stdout);
    expect(config.live?.version).toBe("cli-candidate");
    expect(config.canary).toBeNull();
    const bundled = JSON.parse(readFileSync("models/default/manifest.json", "utf8")) as { version: string };
    expect(config.previous?.version).toBe(bundled.version);
  });

  it("refuses a segments.json made with another model, before uploading anything", () => {
    const dir = ringDir("0".repeat(64));
    const refused = model("push", dir);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("the segments were made with model");
    expect(refused.stdout).not.toContain("pushed");
  });

  it("pushes a sequence model's segments.json next to its files", { timeout: 300_000 }, () => {
    const pushed = model("push", ringDir(RING.sha256));
    expect(pushed.stdout).toContain("with 1 segments");
    expect(pushed.stdout).toContain(`pushed ${RING.version} as shadow`);
    const stored = execFileSync(
      "npx",
      [
        "wrangler",
        "r2",
        "object",
        "get",
        `edge-personalizer-models/models/${RING.version}/segments.json`,
        "--pipe",
        "--local",
        "--persist-to",
        state,
      ],
      { env, encoding: "utf8" },
    );
    expect(JSON.parse(stored)).toMatchObject({ model: { sha256: RING.sha256 }, segments: [{ id: "s1" }] });
  });
});
