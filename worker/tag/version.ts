import tagFile from "./client.tag.js";

/**
 * The script tag as served: its source without whole-line comments and indentation. The comments
 * are for the source's readers and cost every visitor about 10% more gzip. A real minifier
 * (esbuild, with wrangler) would take another fifth off, but only as a build step that wrangler,
 * the vitest pool and the benchmark would each have to run before the worker is bundled; this
 * needs none, and the tag stays readable in the browser. Dropping comment lines and leading
 * whitespace cannot change the script's meaning because no string in the tag spans lines (it
 * has no multi-line template literal); the browser tests run the served text.
 */
export const tagSource = tagFile.replace(/^[ \t]*(\/\/.*)?\n/gm, "").replace(/^[ \t]+/gm, "");

/** The served tag's content version: the first 12 hex digits of its sha256. */
let version: Promise<string> | undefined;
export function tagVersion(): Promise<string> {
  version ??= crypto.subtle.digest("SHA-256", new TextEncoder().encode(tagSource)).then((d) =>
    [...new Uint8Array(d)]
      .map((b) => b.toString(16).padStart(2, "0"))
      .join("")
      .slice(0, 12),
  );
  return version;
}
