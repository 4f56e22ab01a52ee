/**
 * The sequence family's view of a data set: each visitor's positives in time order (clicks,
 * conversions, implicit interactions), split leave-one-out as `npm run evaluate -- --protocol
 * leave-one-out` holds them out: the latest positive is test, the one before it validation
 * (early stopping, then a short refit that trains on it too), every earlier one trains. So a model
 * trained here never saw any visitor's test item as a target, and the evaluation's figures are on
 * items it did not learn from.
 */
import type { Dataset, Example } from "../dataset";

export const SPLIT = { train: 0, validation: 1, test: 2 } as const;
export type SplitName = keyof typeof SPLIT;

export type VisitorSequence = { userId: string; positives: Example[]; split: Uint8Array };

const naturalOrder = new Intl.Collator("en", { numeric: true }).compare;

/**
 * Visitors' positives in time order (examples are in ascending time; equal times keep file order,
 * as the worker's history does), each visitor's latest one test and the one before validation.
 */
export function visitorSequences(dataset: Dataset): VisitorSequence[] {
  const byUser = new Map<string, Example[]>();
  for (const e of dataset.examples) {
    if (e.label !== 1 || e.userId === null) continue;
    const list = byUser.get(e.userId);
    if (list) list.push(e);
    else byUser.set(e.userId, [e]);
  }
  return [...byUser.keys()].sort(naturalOrder).map((userId) => {
    const positives = byUser.get(userId) as Example[];
    const split = new Uint8Array(positives.length);
    split[positives.length - 1] = SPLIT.test;
    if (positives.length >= 2) split[positives.length - 2] = SPLIT.validation;
    return { userId, positives, split };
  });
}

/** The training positives (every visitor's, before their validation and test ones). */
export function trainingPositives(sequences: readonly VisitorSequence[]): Example[] {
  return sequences.flatMap((s) => s.positives.filter((_, i) => s.split[i] === SPLIT.train));
}

/**
 * The model's catalogue: every item with a training or validation positive, in natural order. There
 * is no cap. Validation items get a row because the model trains on them once the epoch is chosen
 * (train.py's refit); items seen only as someone's test item (or new items) have none and are
 * scored as unknown, from their attributes.
 */
export function sequenceCatalogue(sequences: readonly VisitorSequence[]): string[] {
  const ids = sequences.flatMap((s) => s.positives.filter((_, i) => s.split[i] !== SPLIT.test).map((e) => e.contentId));
  return [...new Set(ids)].sort(naturalOrder);
}

export function splitCounts(sequences: readonly VisitorSequence[]): Record<SplitName, number> {
  const counts = { train: 0, validation: 0, test: 0 };
  for (const s of sequences) {
    for (const value of s.split) {
      if (value === SPLIT.train) counts.train++;
      else if (value === SPLIT.validation) counts.validation++;
      else counts.test++;
    }
  }
  return counts;
}
