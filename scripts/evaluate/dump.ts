import { writeFileSync } from "node:fs";
import { z } from "zod";
import type { VisitorProfile } from "../../worker/inference/encode";
import type { Scorer } from "../../worker/inference/scorer";
import { decisionEventSchema } from "../../worker/wire/events";

/**
 * `--dump-scores FILE`: inputs this run scored, with the scores it got, so that the same inputs can
 * be put to the worker (or to another build of the scorer) and the scores compared.
 */
/** Enough to compare by hand or in a test; the run's full set of inputs would be large. */
export const DUMP_SAMPLES = 20;

const scalar = z.union([z.string(), z.number()]);
export const scoreDumpSchema = z.object({
  modelVersion: z.string(),
  samples: z.array(
    z.object({
      profile: z
        .object({ attributes: z.record(z.string(), scalar), recent: z.array(z.object({ id: z.string(), ts: z.number() })).optional() })
        .catchall(z.record(z.string(), scalar))
        .nullable(),
      context: decisionEventSchema.shape.context.extend({ position: z.string().optional() }),
      items: z.array(z.object({ contentId: z.string(), attributes: z.record(z.string(), scalar) })),
      scores: z.array(z.number()),
    }),
  ),
});
export type ScoreDump = z.infer<typeof scoreDumpSchema>;
/** A dump as recorded: profiles as the scorer got them (the schema reads them back). */
type RecordedDump = {
  modelVersion: string;
  samples: (Omit<ScoreDump["samples"][number], "profile"> & { profile: VisitorProfile | null })[];
};

/** The same scorer, keeping its first `limit` calls (inputs and outputs) for the dump. */
export function recordingScorer(scorer: Scorer, limit: number): { scorer: Scorer; dump(): RecordedDump } {
  const samples: RecordedDump["samples"] = [];
  return {
    scorer: {
      ...scorer,
      async score(profile, context, items) {
        const scores = await scorer.score(profile, context, items);
        if (samples.length < limit && items.length > 0) {
          samples.push({
            profile,
            context,
            items: items.map((i) => ({ contentId: i.contentId, attributes: i.attributes })),
            scores: Array.from(scores),
          });
        }
        return scores;
      },
    },
    dump: () => ({ modelVersion: scorer.version, samples }),
  };
}

export function writeScoreDump(path: string, dump: RecordedDump): void {
  writeFileSync(path, `${JSON.stringify(dump, null, 1)}\n`);
}
