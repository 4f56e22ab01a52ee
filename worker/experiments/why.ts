import type { CandidateFeatures, RequestContext, VisitorProfile } from "../inference/encode";
import type { FeatureSpec } from "../inference/manifest";
import type { Scorer } from "../inference/scorer";

/**
 * "Why this": which groups of features moved the model's score of each shown item. Each group is
 * blanked in turn (as if the model had not seen it) and the item is scored again; the change is
 * that group's contribution. Groups, not single columns, because "your browsing history" or
 * "the time of day" is what a person can understand and act on.
 */
export const featureGroups = {
  history: "what you viewed and clicked before",
  attributes: "attributes in your profile",
  time: "the time of day and day of the week",
  page: "this page, your device and your region",
  item: "the content itself",
} as const;
export type FeatureGroup = keyof typeof featureGroups;

const TIME_KEYS = new Set(["hour", "dayOfWeek"]);

export function groupOf(spec: FeatureSpec): FeatureGroup {
  if (spec.kind === "user_item" || spec.kind === "item_bag" || spec.kind === "sequence") return "history";
  if (spec.source === "user") return "attributes";
  if (spec.source === "item") return "item";
  return TIME_KEYS.has(spec.key) ? "time" : "page";
}

function blanked(group: FeatureGroup, profile: VisitorProfile | null, context: RequestContext, items: readonly CandidateFeatures[]) {
  switch (group) {
    case "history":
      return { profile: profile ? { attributes: profile.attributes } : null, context, items };
    case "attributes":
      return { profile: profile ? { ...profile, attributes: {} } : null, context, items };
    case "time":
      return { profile, context: { ...context, hour: undefined, dayOfWeek: undefined }, items };
    case "page":
      return { profile, context: { hour: context.hour, dayOfWeek: context.dayOfWeek }, items };
    case "item":
      return { profile, context, items: items.map(() => ({ contentId: "", attributes: {} })) };
  }
}

export type ItemExplanation = { contentId: string; score: number; groups: { group: FeatureGroup; label: string; effect: number }[] };

/** Per item: the groups the model uses, by how much blanking each changes the score, largest first. */
export async function explainScores(
  scorer: Scorer,
  profile: VisitorProfile | null,
  context: RequestContext,
  items: readonly CandidateFeatures[],
): Promise<ItemExplanation[]> {
  const used = [...new Set(scorer.manifest.features.map(groupOf))];
  const full = await scorer.score(profile, context, items);
  const without = await Promise.all(
    used.map(async (group) => {
      const b = blanked(group, profile, context, items);
      return { group, scores: await scorer.score(b.profile, b.context, b.items) };
    }),
  );
  return items.map((item, i) => ({
    contentId: item.contentId,
    score: full[i] ?? 0,
    groups: without
      .map(({ group, scores }) => ({ group, label: featureGroups[group], effect: (full[i] ?? 0) - (scores[i] ?? 0) }))
      .sort((a, b) => Math.abs(b.effect) - Math.abs(a.effect)),
  }));
}
