/**
 * The scripts' one way to reach D1, KV and R2: wrangler's own commands, against local dev state
 * (`--local`, optionally `--persist-to DIR`) or a real account (`--remote`, with `--env`).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type Target = { remote: boolean; env?: string; persistTo?: string };

export function targetArgs(target: Target): string[] {
  return [
    target.remote ? "--remote" : "--local",
    ...(target.env ? ["--env", target.env] : []),
    ...(!target.remote && target.persistTo ? ["--persist-to", target.persistTo] : []),
  ];
}

/** Runs `npx wrangler …` for the target; returns stdout (stderr goes to the terminal). */
export function wrangler(args: readonly string[], target: Target): string {
  return execFileSync("npx", ["wrangler", ...args, ...targetArgs(target)], {
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  });
}

export const sqlText = (value: string | null) => (value === null ? "NULL" : `'${value.replace(/'/g, "''")}'`);
export const sqlJson = (value: unknown) => sqlText(JSON.stringify(value));

/** The rows of each of several SELECTs, in one wrangler run (`d1 execute --json`). */
export function d1Query(statements: readonly string[], target: Target): unknown[][] {
  const out = wrangler(["d1", "execute", "DB", "--json", "--command", statements.join("; ")], target);
  const parsed = JSON.parse(out.slice(out.indexOf("["))) as { results: unknown[] }[];
  return parsed.map((r) => r.results);
}

/** Runs statements from a file, so that no statement is limited by a command line's length. */
export function d1Run(statements: readonly string[], target: Target): void {
  if (statements.length === 0) return;
  withTempFile("statements.sql", `${statements.join("\n")}\n`, (path) => wrangler(["d1", "execute", "DB", "--file", path], target));
}

/** Writes several keys in one wrangler run; binary values travel base64-encoded. */
export function kvPut(binding: string, entries: Record<string, string | Uint8Array>, target: Target): void {
  if (Object.keys(entries).length === 0) return;
  const bulk = Object.entries(entries).map(([key, value]) =>
    typeof value === "string" ? { key, value } : { key, value: Buffer.from(value).toString("base64"), base64: true },
  );
  withTempFile("bulk.json", JSON.stringify(bulk), (path) => wrangler(["kv", "bulk", "put", path, "--binding", binding], target));
}

/** A binary value (a model's bytes), or null when the key is missing. */
export function kvGetBytes(binding: string, key: string, target: Target): Uint8Array | null {
  try {
    return execFileSync("npx", ["wrangler", "kv", "key", "get", key, "--binding", binding, ...targetArgs(target)], {
      maxBuffer: 256 * 1024 * 1024,
      stdio: ["ignore", "pipe", "ignore"],
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
    });
  } catch {
    return null;
  }
}

/** The bucket an R2 binding names in the target's environment, read with wrangler's own parser. */
async function bucketOf(binding: string, target: Target): Promise<string> {
  process.env.WRANGLER_SEND_METRICS = "false";
  const { unstable_readConfig } = await import("wrangler");
  const config: { r2_buckets: { binding: string; bucket_name?: string }[] } = unstable_readConfig({
    config: "wrangler.toml",
    env: target.env,
  });
  const bucket = config.r2_buckets.find((b) => b.binding === binding)?.bucket_name;
  if (!bucket) throw new Error(`wrangler.toml has no R2 bucket bound as ${binding}${target.env ? ` in env ${target.env}` : ""}`);
  return bucket;
}

/** Writes one object to the bucket bound as `binding`. */
export async function r2Put(
  binding: string,
  key: string,
  content: string | Uint8Array,
  contentType: string,
  target: Target,
): Promise<void> {
  const bucket = await bucketOf(binding, target);
  withTempFile("object", content, (path) =>
    wrangler(["r2", "object", "put", `${bucket}/${key}`, "--file", path, "--content-type", contentType], target),
  );
}

export function kvGet(binding: string, key: string, target: Target): string | null {
  try {
    return wrangler(["kv", "key", "get", key, "--binding", binding, "--text"], target);
  } catch {
    return null;
  }
}

/** Runs `use` with a temporary file holding `content`, removed afterwards. */
export function withTempFile<T>(name: string, content: string | Uint8Array, use: (path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "edge-personalizer-"));
  try {
    const path = join(dir, name);
    writeFileSync(path, content);
    return use(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
