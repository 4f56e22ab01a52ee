import { execFile, execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkerWithConsumer } from "../../scripts/bench/stack";
import { type Miniflare, stopWorkerd } from "../../scripts/bench/workerd";
import { servingConfigSchema } from "../../worker/models/config";

/**
 * `npm run model` as a data scientist runs it next to a running worker: the everyday commands ask
 * the worker's admin API, and the install step (`register-bundled`) writes local wrangler state.
 */
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
const bundled = JSON.parse(readFileSync("models/default/manifest.json", "utf8")) as { version: string };
let work: string;

type Run = { status: number; stdout: string; stderr: string };
async function model(...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)("npx", ["tsx", "scripts/model.ts", ...args], { encoding: "utf8", env });
    return { status: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code?: number; stdout?: string; stderr?: string };
    return { status: failed.code ?? 1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
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

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "model-cli-"));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("npm run model, against a running local worker", () => {
  let mf: Miniflare | undefined;
  let url: URL;
  let admin: string[];
  /** What /health says serves on the worker, now. */
  const health = async () =>
    ((await (await fetch(new URL("/health", url))).json()) as { model: { version: string | null; killSwitch: boolean } }).model;

  beforeAll(async () => {
    // Production's 30 s config TTL: a change must serve at once all the same, on the isolate that made it.
    const stack = await startWorkerWithConsumer("model-cli", { vars: { CONFIG_TTL_MS: "30000" } });
    mf = stack.mf;
    url = stack.url;
    admin = ["--url", url.origin, "--token", stack.secrets.ADMIN_TOKEN ?? ""];
    expect((await health()).version).toBe(bundled.version);
  }, 240_000);
  afterAll(async () => {
    if (mf) await stopWorkerd(mf);
  });

  it("refuses a model whose bytes are not the ones its manifest names, and registers nothing", async () => {
    const refused = await model("push", modelDir("tampered", new TextEncoder().encode("not the model")), ...admin);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("sha256");
    expect((await model("list", ...admin)).stdout).not.toContain("tampered");
  });

  it("pushes a canary, promotes it, switches models off and on, and rolls back: each serving at once", async () => {
    const pushed = await model("push", modelDir("cli-candidate"), "--status", "canary", "--share", "0.25", ...admin);
    expect(pushed.stdout).toContain("pushed cli-candidate as canary (0.25)");
    expect(pushed.stdout).toContain("effective now");

    const promoted = await model("promote", "cli-candidate", ...admin);
    expect(promoted.stdout).toContain("cli-candidate: live");
    expect(promoted.stdout).toContain(`rollback target ${bundled.version}`);
    expect((await health()).version).toBe("cli-candidate");

    const listed = await model("list", ...admin);
    expect(listed.stdout).toMatch(/cli-candidate\s+live\s+r2/);
    const config = servingConfig(listed.stdout);
    expect(config.live?.version).toBe("cli-candidate");
    expect(config.canary).toBeNull();
    expect(config.previous?.version).toBe(bundled.version);

    expect((await model("kill", "on", ...admin)).stdout).toContain("kill switch ON");
    expect(await health()).toMatchObject({ version: null, killSwitch: true });
    expect((await model("kill", "off", ...admin)).status).toBe(0);
    expect((await model("rollback", ...admin)).stdout).toContain(`${bundled.version}: live`);
    expect(await health()).toMatchObject({ version: bundled.version, killSwitch: false });
  });

  it("refuses a segments.json made with another model, and stores nothing", async () => {
    const refused = await model("push", ringDir("0".repeat(64)), ...admin);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("the segments were made with model");
    expect((await model("list", ...admin)).stdout).not.toContain(RING.version);
  });

  it("pushes a sequence model's segments.json next to its files", async () => {
    const pushed = await model("push", ringDir(RING.sha256), ...admin);
    expect(pushed.stdout).toContain(`pushed ${RING.version} as shadow`);
    const bucket = await (mf as Miniflare).getR2Bucket("MODELS");
    const stored = await bucket.get(`models/${RING.version}/segments.json`);
    expect(JSON.parse((await stored?.text()) ?? "null")).toMatchObject({ model: { sha256: RING.sha256 }, segments: [{ id: "s1" }] });
  });

  it("says what is wrong with a bad token or a command the lifecycle does not allow", async () => {
    const unauthorized = await model("list", "--url", url.origin, "--token", "not-the-token");
    expect(unauthorized.status).toBe(1);
    expect(unauthorized.stderr).toMatch(/^model: 401 /m);
    const unknown = await model("promote", "no-such-version", ...admin);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("no-such-version");
  });
});

describe("npm run model -- register-bundled (wrangler, local state: no worker needed)", () => {
  // Each wrangler run starts a runtime (seconds); generous bounds for a loaded two-core machine.
  it("registers the bundled model as live once", { timeout: 300_000 }, async () => {
    const state = join(work, "state");
    execFileSync("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", state], { env, stdio: "ignore" });
    const first = await model("register-bundled", "--local", "--persist-to", state);
    expect(first.stdout).toContain(`registered bundled model ${bundled.version} as live`);
    const again = await model("register-bundled", "--local", "--persist-to", state);
    expect(again.stdout).toContain(`bundled model ${bundled.version} already registered`);
  });
});
