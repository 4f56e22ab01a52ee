/**
 * Writing visitors' Durable Objects from Node. An object's storage is reached only through its
 * worker, so scripts post to a running worker's admin endpoint (`POST /v1/admin/visitors/import`,
 * bearer ADMIN_TOKEN; worker/visitors/import.ts), 100 profiles or tombstones per call: the
 * deployed worker for `--remote`, a temporary `wrangler dev` on the local state otherwise.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { z } from "zod";
import { IMPORT_MAX, type VisitorImport } from "../worker/visitors/import";

export type AdminPost = (path: string, body: unknown) => Promise<Response>;
export type ImportTotals = { imported: number; tombstones: number; refused: string[] };

/** A poster to `base` with the admin token (fetch, or Miniflare's dispatchFetch). */
export function adminPoster(base: URL, token: string, fetcher: (url: URL, init: RequestInit) => Promise<Response> = fetch): AdminPost {
  return (path, body) =>
    fetcher(new URL(path, base), {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
}

/** Tombstones first (a profile of a revoked subject is then refused), then profiles, IMPORT_MAX per call. */
export async function importVisitors(
  post: AdminPost,
  input: { profiles?: VisitorImport["profiles"]; tombstones?: string[]; mode?: VisitorImport["mode"] },
): Promise<ImportTotals> {
  const totals: ImportTotals = { imported: 0, tombstones: 0, refused: [] };
  const send = async (body: Partial<VisitorImport>) => {
    const res = await post("/v1/admin/visitors/import", body);
    if (!res.ok) throw new Error(`visitor import: HTTP ${res.status} ${(await res.text()).slice(0, 500)}`);
    const answer = (await res.json()) as ImportTotals;
    totals.imported += answer.imported;
    totals.tombstones += answer.tombstones;
    totals.refused.push(...answer.refused);
  };
  const tombstones = input.tombstones ?? [];
  const profiles = input.profiles ?? [];
  for (let i = 0; i < tombstones.length; i += IMPORT_MAX) await send({ tombstones: tombstones.slice(i, i + IMPORT_MAX) });
  for (let i = 0; i < profiles.length; i += IMPORT_MAX)
    await send({ profiles: profiles.slice(i, i + IMPORT_MAX), mode: input.mode ?? "replace" });
  return totals;
}

/** A value from `.dev.vars`, or null without that file or value. */
export function readDevVar(name: string): string | null {
  if (!existsSync(".dev.vars")) return null;
  const match = readFileSync(".dev.vars", "utf8").match(new RegExp(`^${name}="?([^"\\n]*)"?`, "m"));
  return match?.[1] || null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  process.kill(-child.pid, "SIGTERM");
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
  if (child.exitCode === null) process.kill(-child.pid, "SIGKILL");
}

/**
 * Runs `use` against a `wrangler dev` on the local state (`npm start`'s, or `persistTo`), stopped
 * afterwards whatever happens. The admin token is the one `.dev.vars` gives that worker.
 */
export async function withLocalWorker<T>(
  options: { persistTo?: string | undefined; env?: string | undefined },
  use: (post: AdminPost) => Promise<T>,
): Promise<T> {
  const token = readDevVar("ADMIN_TOKEN");
  if (!token) throw new Error("ADMIN_TOKEN is not set in .dev.vars (copy .dev.vars.example)");
  const port = await freePort();
  const args = ["wrangler", "dev", "--local", "--port", String(port), "--ip", "127.0.0.1", "--show-interactive-dev-session=false"];
  if (options.persistTo) args.push("--persist-to", options.persistTo);
  if (options.env) args.push("--env", options.env);
  // Its own process group, so that stopping it stops workerd too.
  const child = spawn("npx", args, {
    detached: true,
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  });
  try {
    const base = new URL(`http://127.0.0.1:${port}`);
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode})`);
      const ready = await fetch(new URL("/health/live", base)).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline) throw new Error("wrangler dev did not start within 120 s");
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    return await use(adminPoster(base, token));
  } finally {
    await stop(child);
  }
}

/** The options that say which worker an import goes through, as `parseArgs` reads them. */
export const WORKER_TARGET_OPTIONS = {
  local: { type: "boolean" },
  remote: { type: "boolean" },
  url: { type: "string" },
  "persist-to": { type: "string" },
  env: { type: "string" },
} as const;

/** Their validation, spread into a script's argument schema; `checkWorkerTarget` goes with it. */
export const WORKER_TARGET_SHAPE = {
  local: z.boolean().default(false),
  remote: z.boolean().default(false),
  url: z.url().optional(),
  "persist-to": z.string().optional(),
  env: z.enum(["staging", "production"]).optional(),
};

/** Exactly one of `--local` and `--remote`, and a URL for the remote worker. */
export function checkWorkerTarget(a: { local: boolean; remote: boolean; url?: string | undefined }, ctx: z.RefinementCtx): void {
  if (a.local === a.remote) ctx.addIssue({ code: "custom", message: "say --local or --remote" });
  if (a.remote && !a.url) ctx.addIssue({ code: "custom", message: "--remote needs --url" });
}

export type WorkerTarget = { remote: boolean; url?: string | undefined; "persist-to"?: string | undefined; env?: string | undefined };

/** The import through the deployed worker (ADMIN_TOKEN from the environment) or a temporary local one. */
export async function importThrough(target: WorkerTarget, input: Parameters<typeof importVisitors>[1]): Promise<ImportTotals> {
  if (!target.remote) return withLocalWorker({ persistTo: target["persist-to"], env: target.env }, (post) => importVisitors(post, input));
  const token = process.env.ADMIN_TOKEN;
  if (!token) throw new Error("--remote needs ADMIN_TOKEN in the environment");
  return importVisitors(adminPoster(new URL(target.url ?? ""), token), input);
}
