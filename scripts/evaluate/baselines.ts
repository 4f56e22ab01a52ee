/**
 * The comparisons every model figure comes with: popularity (no personalization at all) and
 * item-kNN (collaborative filtering without a model). Both learn from training data only.
 */

/** A Beta prior worth this many impressions at the global CTR: an item seen 10 times is not 0% or 10%. */
export const POPULARITY_PSEUDO_IMPRESSIONS = 1000;

/**
 * Popularity as a click probability: each item's training CTR, shrunk towards the global CTR; an
 * item never shown in training gets the global CTR. Calibrated, so its log loss means something.
 */
export function popularityCtr(
  train: readonly { contentId: string; label: 0 | 1 }[],
  pseudoImpressions = POPULARITY_PSEUDO_IMPRESSIONS,
): (contentId: string) => number {
  const counts = new Map<string, { shown: number; clicks: number }>();
  let clicks = 0;
  for (const { contentId, label } of train) {
    const c = counts.get(contentId) ?? { shown: 0, clicks: 0 };
    c.shown++;
    c.clicks += label;
    clicks += label;
    counts.set(contentId, c);
  }
  const prior = train.length > 0 ? clicks / train.length : 0;
  return (contentId) => {
    const c = counts.get(contentId);
    return c ? (c.clicks + pseudoImpressions * prior) / (c.shown + pseudoImpressions) : prior;
  };
}

/** Popularity as a ranking: how many training positives each item has (0 for none). */
export function popularityCounts(positives: readonly { contentId: string }[]): (contentId: string) => number {
  const counts = new Map<string, number>();
  for (const { contentId } of positives) counts.set(contentId, (counts.get(contentId) ?? 0) + 1);
  return (contentId) => counts.get(contentId) ?? 0;
}

/** Each user's set of positive items. */
export function histories(positives: readonly { userId: string; contentId: string }[]): Map<string, Set<string>> {
  const byUser = new Map<string, Set<string>>();
  for (const { userId, contentId } of positives) {
    const items = byUser.get(userId) ?? new Set<string>();
    items.add(contentId);
    byUser.set(userId, items);
  }
  return byUser;
}

export type ItemKnn = {
  /** Cosine similarity of two items' user sets (0 for the same item: it is not its own neighbour). */
  similarity(a: string, b: string): number;
  /** The sum of the candidate's similarities to the items of a history: not a probability. */
  score(history: Iterable<string>, candidate: string): number;
};

/**
 * Item-kNN from training co-occurrence: items are vectors over users (1 when the user has a
 * positive for it), compared by cosine, |U_a ∩ U_b| / sqrt(|U_a| |U_b|).
 */
export function itemKnn(positives: readonly { userId: string; contentId: string }[]): ItemKnn {
  const users = new Map<string, number>();
  const together = new Map<string, Map<string, number>>();
  for (const items of histories(positives).values()) {
    for (const a of items) {
      users.set(a, (users.get(a) ?? 0) + 1);
      const row = together.get(a) ?? new Map<string, number>();
      for (const b of items) if (b !== a) row.set(b, (row.get(b) ?? 0) + 1);
      together.set(a, row);
    }
  }
  const similarity = (a: string, b: string) => {
    const both = a === b ? 0 : (together.get(a)?.get(b) ?? 0);
    return both === 0 ? 0 : both / Math.sqrt((users.get(a) ?? 1) * (users.get(b) ?? 1));
  };
  return {
    similarity,
    score(history, candidate) {
      let sum = 0;
      for (const item of history) sum += similarity(item, candidate);
      return sum;
    },
  };
}
