/**
 * HMAC-SHA256 signed tokens (`<value>.<base64url signature>`) for the visitor id cookie.
 * Verification tries the current key, then the previous one, so keys can be rotated without
 * forgetting every visitor; `crypto.subtle.verify` compares in constant time.
 */

const encoder = new TextEncoder();
const keyCache = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    keyCache.set(secret, key);
  }
  return key;
}

export function toBase64Url(bytes: ArrayBuffer | Uint8Array): string {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return null;
  try {
    const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

export async function sign(value: string, secret: string): Promise<string> {
  const signature = await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(value));
  return `${value}.${toBase64Url(signature)}`;
}

/** The value if some key signed it, else null. Keys that are empty strings are skipped. */
export async function verify(token: string, secrets: readonly (string | undefined)[]): Promise<string | null> {
  const dot = token.lastIndexOf(".");
  if (dot <= 0) return null;
  const value = token.slice(0, dot);
  const signature = fromBase64Url(token.slice(dot + 1));
  if (!signature) return null;
  for (const secret of secrets) {
    if (!secret) continue;
    if (await crypto.subtle.verify("HMAC", await hmacKey(secret), signature, encoder.encode(value))) return value;
  }
  return null;
}

/** A signed JSON payload (`sign(textToBase64Url(json))`) parsed, or null if no key signed it or it is not JSON. */
export async function verifyJson(token: string, secrets: readonly (string | undefined)[], maxLength: number): Promise<unknown> {
  if (token.length > maxLength) return null;
  const payload = await verify(token, secrets);
  if (!payload) return null;
  try {
    return JSON.parse(base64UrlToText(payload) ?? "null");
  } catch {
    return null;
  }
}

/** UTF-8 text as base64url (no dots), for signed JSON payloads. */
export const textToBase64Url = (text: string) => toBase64Url(encoder.encode(text));

export function base64UrlToText(encoded: string): string | null {
  const bytes = fromBase64Url(encoded);
  return bytes ? new TextDecoder().decode(bytes) : null;
}
