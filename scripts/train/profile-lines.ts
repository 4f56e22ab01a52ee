/** profiles.ndjson (written by `npm run train`) as the profiles `npm run load-profiles` imports into visitors' objects. */
import { z } from "zod";
import { type StoredProfile, storedProfileSchema } from "../../worker/visitors/features";

const lineSchema = z.object({ visitorId: z.string().min(1).max(128), profile: storedProfileSchema });

export type ProfileLine = { site: string; visitorId: string; profile: StoredProfile };

/** Each line validated as the visitor's object stores profiles; a bad line is an error naming it. */
export function profileLines(site: string, text: string, path: string): ProfileLine[] {
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
    return [{ site, ...parsed.data }];
  });
}
