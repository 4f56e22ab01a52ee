import { inArray } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "../store/db";
import { revocations } from "../store/schema";
import { subjectHash } from "../store/subject";
import { subjectStub, type VisitorStore, visitorStub } from "./client";
import { storedProfileSchema } from "./features";

/**
 * Writing visitors' state from outside the request path: the profiles `npm run seed`,
 * `npm run load-profiles` and `npm run migrate-profiles` bring, and the tombstones of subjects
 * revoked before their objects existed (D1 keeps their hash only, which names the object). Nothing
 * is written under a revoked id: tombstones are written first, and a profile is refused for a
 * subject with a tombstone in their object or a revocation record in D1 (whose object then gets
 * the tombstone too). A device linked to a customer is decided from the customer's object, so its
 * profile is written there too, in the mode asked: an import says what the visitor's decisions
 * read from now on, and `replace` stays idempotent (a nightly `npm run load-profiles` merged each
 * night would count the same history again and again).
 */
export const IMPORT_MAX = 100;

export const visitorImportSchema = z.object({
  tombstones: z
    .array(z.string().regex(/^[0-9a-f]{64}$/, "a subject hash (64 hex digits)"))
    .max(IMPORT_MAX)
    .default([]),
  profiles: z
    .array(
      z.object({
        site: z.string().min(1).max(64),
        visitorId: z.string().min(1).max(128),
        profile: storedProfileSchema,
      }),
    )
    .max(IMPORT_MAX)
    .default([]),
  /** `merge` for the migration from KV (the object may have learnt newer clicks), `replace` otherwise. */
  mode: z.enum(["replace", "merge"]).default("replace"),
});
export type VisitorImport = z.infer<typeof visitorImportSchema>;

export async function importVisitors(db: Database, store: VisitorStore, input: VisitorImport, now: number) {
  await Promise.all(input.tombstones.map((hash) => subjectStub(store, hash).revoke(now)));
  const hashes = await Promise.all(input.profiles.map((p) => subjectHash(p.visitorId)));
  const recorded = hashes.length
    ? await db.select({ hash: revocations.subjectHash }).from(revocations).where(inArray(revocations.subjectHash, hashes))
    : [];
  const revokedInD1 = new Set(recorded.map((r) => r.hash));
  const outcomes = await Promise.all(
    input.profiles.map(async ({ site, visitorId, profile }, i) => {
      const hash = hashes[i] as string;
      if (revokedInD1.has(hash)) {
        await subjectStub(store, hash).revoke(now);
        return "refused";
      }
      const device = await (await visitorStub(store, visitorId)).importProfile(site, profile, now, input.mode);
      if (device.revoked) return "refused";
      if (device.linkedTo === null) return "imported";
      const customer = await (await visitorStub(store, device.linkedTo)).importProfile(site, profile, now, input.mode);
      return customer.revoked ? "refused" : "imported";
    }),
  );
  return {
    tombstones: input.tombstones.length,
    imported: outcomes.filter((o) => o === "imported").length,
    /** The visitor ids refused because they are revoked (the caller sent them). */
    refused: input.profiles.flatMap((p, i) => (outcomes[i] === "refused" ? [p.visitorId] : [])),
  };
}
