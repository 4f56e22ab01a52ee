import { eq } from "drizzle-orm";
import { toBase64Url } from "../lib/signing";
import type { Database } from "../store/db";
import { customerKeys } from "../store/schema";

/**
 * Customer ids (a site's own account id, often an e-mail address) are never stored or logged in
 * clear: each is replaced at the edge by its HMAC-SHA256 under its site's key, and the customer's
 * profile lives under a subject id made from that hash, `customer:<site>:<hash>`. The subject id
 * takes the place of a visitor id everywhere downstream (the customer's Durable Object, event
 * tokens, the log, erasure), so a customer is one profile on every device and channel.
 *
 * The site's key is 256 random bits created on first use and kept in D1; it never changes, so it
 * is cached for the isolate's life.
 */
const keys = new Map<string, Promise<CryptoKey>>();

async function loadKey(db: Database, site: string): Promise<CryptoKey> {
  const fresh = toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
  // Two isolates creating the key at once: the first insert wins and both read it back.
  await db.insert(customerKeys).values({ siteId: site, secret: fresh }).onConflictDoNothing();
  const [row] = await db.select({ secret: customerKeys.secret }).from(customerKeys).where(eq(customerKeys.siteId, site)).limit(1);
  if (!row) throw new Error(`no customer key for site ${site}`);
  return crypto.subtle.importKey("raw", new TextEncoder().encode(row.secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

function siteKey(db: Database, site: string): Promise<CryptoKey> {
  let key = keys.get(site);
  if (!key) {
    key = loadKey(db, site);
    // A failed read is not remembered: the next request tries again.
    key.catch(() => keys.delete(site));
    keys.set(site, key);
  }
  return key;
}

/** The customer's subject id on `site`: what their Durable Object, tokens and log rows are keyed by. */
export async function customerSubject(db: Database, site: string, customerId: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await siteKey(db, site), new TextEncoder().encode(customerId));
  return `customer:${site}:${toBase64Url(mac)}`;
}

const CUSTOMER_SUBJECT = /^customer:[A-Za-z0-9_-]{1,64}:[A-Za-z0-9_-]{43}$/;
export const isCustomerSubject = (subject: string) => CUSTOMER_SUBJECT.test(subject);
