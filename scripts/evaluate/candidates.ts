import type { CandidateFeatures } from "../../worker/inference/encode";
import type { Scorer } from "../../worker/inference/scorer";
import type { Dataset, Example } from "../train/dataset";

/** An item as the encoder takes it; an item without attributes is still scored (by its id). */
export function candidate(items: Dataset["items"], contentId: string): CandidateFeatures {
  return { contentId, attributes: items.get(contentId) ?? {} };
}

/** The item as an example showed it: as its variant, when the logged decision showed one. */
export function exampleCandidate(items: Dataset["items"], example: Example): CandidateFeatures {
  const item = candidate(items, example.contentId);
  return example.variant ? { ...item, attributes: { ...item.attributes, ...example.variant } } : item;
}

/**
 * The model's score for each example, in order. Examples of one round with the same context share
 * the visitor and the request, so they are scored in one batch, as the worker scores a decision.
 */
export async function scoreExamples(scorer: Scorer, examples: readonly Example[], items: Dataset["items"]): Promise<Float64Array> {
  const groups = new Map<string, number[]>();
  examples.forEach((e, i) => {
    const key = `${e.round}\u0000${JSON.stringify(e.context)}`;
    const group = groups.get(key);
    if (group) group.push(i);
    else groups.set(key, [i]);
  });
  const scores = new Float64Array(examples.length);
  for (const indices of groups.values()) {
    const first = examples[indices[0] as number] as Example;
    const batch = await scorer.score(
      first.profile,
      first.context,
      indices.map((i) => exampleCandidate(items, examples[i] as Example)),
    );
    indices.forEach((i, j) => {
      scores[i] = batch[j] as number;
    });
  }
  return scores;
}
