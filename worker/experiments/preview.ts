import { z } from "zod";
import { base64UrlToText, sign, textToBase64Url, verify } from "../lib/signing";

/**
 * QA preview: a signed, expiring token that lets its bearer see what a given model version,
 * experiment arm or piece of content looks like on the real page, skipping the holdout. Such
 * traffic is marked (`preview`) and the consumer keeps it out of every report and profile; the
 * answer carries a debug trace (candidates, scores, what the rules filtered) only for it.
 */
export const MAX_PREVIEW_TTL_MS = 24 * 60 * 60 * 1000;

export const previewRequestSchema = z
  .object({
    site: z.string().min(1).max(64),
    modelVersion: z.string().min(1).max(64).optional(),
    /** Experiment id → arm name. */
    arms: z.record(z.string(), z.string()).optional(),
    /** Content shown first in a slot. */
    content: z.object({ slot: z.string(), contentId: z.string() }).optional(),
    ttlMinutes: z
      .number()
      .int()
      .positive()
      .max(MAX_PREVIEW_TTL_MS / 60_000)
      .default(60),
  })
  .strict();

const previewSchema = previewRequestSchema.omit({ ttlMinutes: true }).extend({ expiresAt: z.number() });
export type Preview = z.infer<typeof previewSchema>;

const keyFor = (signingKey: string) => `preview-token:${signingKey}`;

export function issuePreviewToken(request: z.infer<typeof previewRequestSchema>, signingKey: string, now: number): Promise<string> {
  const { ttlMinutes, ...rest } = request;
  const preview: Preview = { ...rest, expiresAt: now + ttlMinutes * 60_000 };
  return sign(textToBase64Url(JSON.stringify(preview)), keyFor(signingKey));
}

/** The preview a token grants for this site, or null (absent, forged, expired, another site). */
export async function readPreviewToken(
  token: string | undefined,
  keys: readonly (string | undefined)[],
  site: string,
  now: number,
): Promise<Preview | null> {
  if (!token || token.length > 2048) return null;
  const payload = await verify(
    token,
    keys.map((k) => (k ? keyFor(k) : undefined)),
  );
  if (!payload) return null;
  try {
    const parsed = previewSchema.safeParse(JSON.parse(base64UrlToText(payload) ?? "null"));
    return parsed.success && parsed.data.site === site && parsed.data.expiresAt > now ? parsed.data : null;
  } catch {
    return null;
  }
}
