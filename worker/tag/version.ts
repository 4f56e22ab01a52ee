import tagSource from "./client.tag.js";

/** The script tag's source and its content version (the first 12 hex digits of its sha256). */
export { tagSource };

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
