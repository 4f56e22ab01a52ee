import { z } from "zod";

/**
 * Micro-segments of visitors, as `npm run segments` writes them: clusters of a `sequence` model's
 * pooled visitor vectors (its `visitor` output), each described for a marketer (size, the items and
 * attribute values that set it apart, CTR where the data has labels). A segment is named
 * `segment:<id>` in policies and reports; a visitor is in the segment whose centroid is nearest to
 * their vector by cosine (`nearestSegment`), so the worker can place a visitor at decision time with
 * the same model version.
 */

const share = z.number().min(0).max(1);

const itemSummary = z.object({
  contentId: z.string(),
  /** Members who took the item. */
  visitors: z.number().int().min(0),
  /** Their share of the segment. */
  share,
  /** share / the share of all visitors who took it: above 1, the segment takes it more than everyone. */
  lift: z.number().min(0),
});

const valueSummary = z.object({
  /** `user.<key>` (the visitor's attribute) or `item.<key>` (an attribute of the items they took). */
  attribute: z.string(),
  value: z.string(),
  share,
  lift: z.number().min(0),
});

export const segmentSchema = z.object({
  /** Stable within a file: `s1`, `s2`, ... by decreasing size. */
  id: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/),
  visitors: z.number().int().min(1),
  share,
  /** Unit vector in the model's visitor space (d numbers). */
  centroid: z.array(z.number()),
  topItems: z.array(itemSummary),
  topAttributes: z.array(valueSummary),
  /** Clicks per impression of the segment's visitors, when the data has labelled impressions; else null. */
  ctr: z.object({ clicks: z.number().int().min(0), impressions: z.number().int().min(0), ctr: share.nullable() }).nullable(),
});
export type Segment = z.infer<typeof segmentSchema>;

export const segmentsFileSchema = z
  .object({
    schemaVersion: z.literal(1),
    /** The model whose `visitor` output the centroids live in: only that version can place a visitor. */
    model: z.object({ version: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
    data: z.object({ name: z.string(), citation: z.string(), visitors: z.number().int().min(0) }),
    method: z.string(),
    k: z.number().int().min(1),
    seed: z.number().int().min(0),
    segments: z.array(segmentSchema).min(1),
  })
  .superRefine((file, ctx) => {
    const dims = new Set(file.segments.map((s) => s.centroid.length));
    if (dims.size !== 1) ctx.addIssue({ code: "custom", path: ["segments"], message: "centroids differ in length" });
    const ids = new Set(file.segments.map((s) => s.id));
    if (ids.size !== file.segments.length) ctx.addIssue({ code: "custom", path: ["segments"], message: "segment ids repeat" });
  });
export type SegmentsFile = z.infer<typeof segmentsFileSchema>;

/** The segment whose centroid has the largest cosine with `vector` (null for a zero vector). */
export function nearestSegment(segments: readonly Pick<Segment, "id" | "centroid">[], vector: ArrayLike<number>): string | null {
  let norm = 0;
  for (let i = 0; i < vector.length; i++) norm += (vector[i] as number) ** 2;
  if (norm === 0) return null;
  let best: string | null = null;
  let bestCosine = Number.NEGATIVE_INFINITY;
  for (const s of segments) {
    let dot = 0;
    for (let i = 0; i < s.centroid.length; i++) dot += (s.centroid[i] as number) * (vector[i] as number);
    if (dot > bestCosine) {
      bestCosine = dot;
      best = s.id;
    }
  }
  return best;
}
