import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { basename, extname, join } from "node:path";
import { gzipSync } from "node:zlib";

/** The Miniflare module types that `wrangler deploy --dry-run` output needs (see wrangler.toml's rules). */
export type ModuleType = "ESModule" | "CompiledWasm" | "Data" | "Text";
export type BundleModule = { type: ModuleType; path: string };

export type Bundle = {
  dir: string;
  /** Entry first: Miniflare takes the first module as the entrypoint. */
  modules: BundleModule[];
  rawBytes: number;
  gzipBytes: number;
  /** wrangler's own "Total Upload" figure, for cross-checking (KiB, gzip). */
  wranglerGzipKiB: number | undefined;
};

/** By extension, as wrangler.toml's rules classify them; ".js" chunks are ES modules in a modules-format worker. */
const TYPE_BY_EXTENSION: Record<string, ModuleType> = { ".js": "ESModule", ".mjs": "ESModule", ".wasm": "CompiledWasm", ".onnx": "Data" };
/** Browser assets (the script tag, the console's files, uPlot) are Text modules by wrangler.toml's rule, not chunks. */
const TEXT_MODULE = /(\.tag\.js|\.client\.js|\.client\.css|-uPlot\.iife\.min\.js|-uPlot\.min\.css)$/;
const typeOf = (name: string): ModuleType | undefined => (TEXT_MODULE.test(name) ? "Text" : TYPE_BY_EXTENSION[extname(name)]);
/** Written next to the modules but never uploaded: left out of the size. */
const NOT_UPLOADED = (name: string) => name === "README.md" || name.endsWith(".map");

function runWrangler(args: readonly string[]): string {
  const result = spawnSync("npx", ["wrangler", ...args], {
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    maxBuffer: 64 * 1024 * 1024,
  });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  if (result.status !== 0) throw new Error(`npx wrangler ${args.join(" ")} failed (exit ${result.status}):\n${output.slice(-3000)}`);
  return output;
}

/** wrangler names the bundled entry after its source: worker/index.ts → index.js. */
const entryName = (source: string) => `${basename(source, extname(source))}.js`;

function listModules(dir: string, entry: string): BundleModule[] {
  const names = readdirSync(dir).filter((name) => !NOT_UPLOADED(name));
  if (!names.includes(entry)) throw new Error(`${dir} has no ${entry}`);
  const modules = names.map((name) => {
    const type = typeOf(name);
    if (!type) throw new Error(`${join(dir, name)}: no module type for "${extname(name)}" (add it to TYPE_BY_EXTENSION)`);
    return { type, path: join(dir, name) };
  });
  return modules.sort((a, b) => Number(basename(b.path) === entry) - Number(basename(a.path) === entry));
}

/**
 * Builds `entry` the way `wrangler deploy` would (wrangler.toml's rules, the same bundler) without
 * uploading it, and measures what would be uploaded: raw bytes and gzip (level 9) bytes, file by file.
 */
export function buildBundle(entry: string, outdir: string): Bundle {
  rmSync(outdir, { recursive: true, force: true });
  // `--env=` names the top-level environment, the one `wrangler deploy` uses without `--env`.
  const output = runWrangler(["deploy", entry, "--env=", "--dry-run", "--outdir", outdir]);
  const modules = listModules(outdir, entryName(entry));
  let rawBytes = 0;
  let gzipBytes = 0;
  for (const { path } of modules) {
    rawBytes += statSync(path).size;
    gzipBytes += gzipSync(readFileSync(path), { level: 9 }).byteLength;
  }
  const reported = output.match(/gzip:\s*([\d.]+)\s*KiB/);
  return { dir: outdir, modules, rawBytes, gzipBytes, wranglerGzipKiB: reported ? Number(reported[1]) : undefined };
}
