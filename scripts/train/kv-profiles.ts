/** profiles.ndjson (written by `npm run train`) as KV pairs for `npm run load-profiles`. */
import { z } from "zod";
import { profileKey, storedProfileSchema } from "../../worker/store/profiles";

/** Key-value pairs per `wrangler kv bulk put` call: Cloudflare's bulk write takes at most 10,000. */
export const BULK_PUT_MAX = 10_000;

const lineSchema = z.object({ visitorId: z.string().min(1), profile: storedProfileSchema });

/** Each line validated as the worker reads profiles, keyed as the worker looks them up; a bad line is an error naming it. */
export function profilePairs(site: string, text: string, path: string): { key: string; value: string }[] {
  return text.split("\n").flatMap((line, i) => {
    if (line.trim() === "") return [];
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new Error(`${path}:${i + 1}: not JSON`);
    }
    const parsed = lineSchema.safeParse(json);
    if (!parsed.success) throw new Error(`${path}:${i + 1}: ${z.prettifyError(parsed.error)}`);
    return [{ key: profileKey(site, parsed.data.visitorId), value: JSON.stringify(parsed.data.profile) }];
  });
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
}
