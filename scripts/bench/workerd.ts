import { randomBytes } from "node:crypto";
import { relative } from "node:path";
import { convertV4MiniflareOptions, Miniflare, type MiniflareOptions } from "miniflare";
import type { Bundle } from "./bundle";
import { within } from "./stats";

/** The parts of wrangler.toml that a local workerd needs: dates, flags, vars and binding names. */
export type WranglerConfig = {
  /** The worker's entry source (`main`). */
  main: string;
  compatibilityDate: string;
  compatibilityFlags: string[];
  vars: Record<string, string>;
  d1Databases: string[];
  kvNamespaces: string[];
  r2Buckets: string[];
  /** Pipelines stream bindings: Miniflare's keep nothing, as the local Pipelines binding does. */
  pipelines: string[];
  /** Durable Object bindings: class name, and whether a migration declares it SQLite-backed. */
  durableObjects: Record<string, { className: string; useSQLite: boolean }>;
  queueProducers: Record<string, { queueName: string }>;
};

/**
 * The fields of wrangler's parsed config that are read here. wrangler's declared type comes from a
 * package it bundles rather than installs, so TypeScript sees `any` without this.
 */
type ParsedWranglerConfig = {
  main?: string;
  compatibility_date?: string;
  compatibility_flags?: string[];
  vars?: Record<string, unknown>;
  d1_databases: { binding: string }[];
  kv_namespaces: { binding: string }[];
  r2_buckets: { binding: string }[];
  pipelines: { binding: string }[];
  durable_objects: { bindings: { name: string; class_name: string }[] };
  migrations: { new_sqlite_classes?: string[] }[];
  queues: { producers?: { binding: string; queue: string }[] };
};

/** Reads wrangler.toml with wrangler's own parser, so the benchmark cannot drift from the deploy config. */
export async function readWranglerConfig(path = "wrangler.toml"): Promise<WranglerConfig> {
  process.env.WRANGLER_SEND_METRICS = "false";
  // Imported lazily: wrangler is large, and only this function needs it.
  const { unstable_readConfig } = await import("wrangler");
  const config: ParsedWranglerConfig = unstable_readConfig({ config: path });
  if (!config.main || !config.compatibility_date) throw new Error(`${path} needs main and compatibility_date`);
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.vars ?? {})) vars[name] = String(value);
  const sqlite = new Set(config.migrations.flatMap((m) => m.new_sqlite_classes ?? []));
  return {
    // wrangler resolves `main` to an absolute path; the build is run from the project root.
    main: relative(process.cwd(), config.main),
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags ?? [],
    vars,
    d1Databases: config.d1_databases.map((db) => db.binding),
    kvNamespaces: config.kv_namespaces.map((kv) => kv.binding),
    r2Buckets: config.r2_buckets.map((r2) => r2.binding),
    pipelines: config.pipelines.map((p) => p.binding),
    durableObjects: Object.fromEntries(
      config.durable_objects.bindings.map((b) => [b.name, { className: b.class_name, useSQLite: sqlite.has(b.class_name) }]),
    ),
    queueProducers: Object.fromEntries((config.queues.producers ?? []).map((p) => [p.binding, { queueName: p.queue }])),
  };
}

/** Where workerd's console output goes: stderr, so that stdout stays the benchmark's own. */
export type LogSink = { lines: number; errors: number; write(level: string, message: string): void };

export function stderrLogSink(prefix: string, maxLines = 20): LogSink {
  const sink: LogSink = {
    lines: 0,
    errors: 0,
    write(level, message) {
      sink.lines++;
      if (level === "error" || level === "warn") sink.errors++;
      if (sink.lines <= maxLines) process.stderr.write(`[${prefix} ${level}] ${message}\n`);
      else if (sink.lines === maxLines + 1) process.stderr.write(`[${prefix}] further runtime output suppressed\n`);
    },
  };
  return sink;
}

export type WorkerdOptions = {
  bundle: Bundle;
  config: WranglerConfig;
  /** Bindings beyond wrangler.toml's vars: the secrets that `.dev.vars` or `wrangler secret` provide. */
  secrets: Record<string, string>;
  /** D1/KV/R2/Durable Object state kept here, so that a second, fresh workerd process sees the seeded data. */
  stateDir?: string;
  /** `request.cf` as Cloudflare's edge would set it; fixed so that the decision context is stable. */
  cf?: Record<string, string>;
  logs: LogSink;
};

/**
 * Options for one workerd process serving the bundle on its own loopback socket (no `wrangler dev`
 * proxy in front). The modules are listed explicitly: Miniflare cannot follow ORT's dynamic import.
 * Written in Miniflare's documented (v4) option shape and converted to the v5 beta's own.
 */
export function miniflareOptions(options: WorkerdOptions): MiniflareOptions {
  const { bundle, config } = options;
  return convertV4MiniflareOptions({
    host: "127.0.0.1",
    port: 0,
    modules: bundle.modules,
    modulesRoot: bundle.dir,
    compatibilityDate: config.compatibilityDate,
    compatibilityFlags: config.compatibilityFlags,
    bindings: { ...config.vars, ...options.secrets },
    d1Databases: config.d1Databases,
    kvNamespaces: config.kvNamespaces,
    r2Buckets: config.r2Buckets,
    pipelines: config.pipelines,
    durableObjects: config.durableObjects,
    queueProducers: config.queueProducers,
    cf: options.cf ?? {},
    ...(options.stateDir ? { resourcePersistencePath: options.stateDir } : {}),
    // `/cdn-cgi/local/scheduled` runs the scheduled handler as the cron would (scripts/log/local.ts).
    unsafeTriggerHandlers: true,
    // No dev registry (the v4 adapter enables it only with a registry path): nothing else may attach.
    logRequests: false,
    handleStructuredLogs: (log) => options.logs.write(log.level, log.message),
  });
}

/** Throwaway secrets for one run: cookies and event tokens are signed with its ID_SIGNING_KEY. */
export function throwawaySecrets(): {
  ADMIN_TOKEN: string;
  PRIVACY_TOKEN: string;
  ID_SIGNING_KEY: string;
  ID_SIGNING_KEY_PREVIOUS: string;
} {
  const secret = () => randomBytes(32).toString("hex");
  return { ADMIN_TOKEN: secret(), PRIVACY_TOKEN: secret(), ID_SIGNING_KEY: secret(), ID_SIGNING_KEY_PREVIOUS: "" };
}

/** Every workerd started and not yet stopped, so that an interrupt or a failure still stops them. */
const live = new Set<Miniflare>();

/** Starts a workerd process (Miniflare's constructor spawns it; `mf.ready` resolves once it listens). */
export function startWorkerd(options: MiniflareOptions): Miniflare {
  const mf = new Miniflare(options);
  live.add(mf);
  return mf;
}

/** Shuts workerd down, but never waits more than `ms` for it. */
export async function stopWorkerd(mf: Miniflare, ms = 10_000): Promise<void> {
  live.delete(mf);
  const done = await within(
    mf.dispose().then(() => true),
    ms,
  );
  if (!done) process.stderr.write(`warning: Miniflare did not shut down within ${ms} ms\n`);
}

export async function stopAllWorkerd(): Promise<void> {
  await Promise.all([...live].map((mf) => stopWorkerd(mf)));
}

export type { Miniflare };
