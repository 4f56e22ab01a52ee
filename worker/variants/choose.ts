import type { CandidateFeatures } from "../inference/encode";
import type { CatalogueItem, CatalogueVariant } from "../site/catalogue";
import type { SitePolicy } from "../site/policy";
import type { VariantReason } from "../wire/decide";
import { inFirstLanguage } from "./language";

/**
 * Which variant of each content item a decision shows. The model scores every approved variant
 * in the visitor's language (its identity, language, component identities and synthetic flag
 * are item features, see `variantFeatures`); the item then competes for slots with its chosen
 * variant's score. Plain functions: no I/O.
 */

/** The chosen variant as it appears in the answer and the decision event. */
export type ServedVariant = {
  id: string;
  language: string;
  /** Component kind → component id (`title-1a2b3c4d`): the same text is the same component. */
  components: Record<string, string>;
  synthetic: boolean;
  reason: VariantReason;
  /** The probability this variant was chosen for its item (the item's own draw is separate). */
  propensity: number;
};

/** One scoring row: an item as one of its variants, or as itself when it has none to offer. */
export type ScoringRow = { item: CatalogueItem; variant?: CatalogueVariant };

/**
 * Item features a model can learn variants from (a manifest names the ones it uses): the same
 * names at serving and in training, where they come from the logged `ServedVariant`.
 */
export function servedVariantFeatures(
  variant: Pick<ServedVariant, "id" | "language" | "components" | "synthetic">,
): Record<string, string | number> {
  const features: Record<string, string | number> = {
    variant: variant.id,
    variantLanguage: variant.language,
    synthetic: variant.synthetic ? 1 : 0,
  };
  for (const [kind, id] of Object.entries(variant.components)) features[`component_${kind}`] = id;
  return features;
}

const variantFeatures = (variant: CatalogueVariant) => servedVariantFeatures({ ...variant, components: variant.componentIds });

export function candidateFeatures(row: ScoringRow): CandidateFeatures {
  return {
    contentId: row.item.id,
    attributes: row.variant ? { ...row.item.attributes, ...variantFeatures(row.variant) } : row.item.attributes,
  };
}

/** Each item's approved variants in the first language of the chain it has any in; else itself. */
export function scoringRows(items: readonly CatalogueItem[], chain: readonly string[]): ScoringRow[] {
  return items.flatMap((item) => {
    const options = inFirstLanguage(item.variants, chain);
    return options.length ? options.map((variant) => ({ item, variant })) : [{ item }];
  });
}

type ColdStart = SitePolicy["variants"]["coldStart"];
export type VariantChoice = { variant: ServedVariant | undefined; score: number | null };

const TIE = 1e-9;

/**
 * One item's variant. With scores: the best-scored variant (a variant-blind model ties them all,
 * and traffic then spreads evenly rather than by id), except that with probability
 * `coldStart.share` one of the item's new variants is drawn instead. The logged propensity is the
 * exact probability of the variant under that mixture. Without scores (editor defaults, holdout):
 * the first variant by id, deterministically.
 */
function chooseOne(
  options: readonly CatalogueVariant[],
  scores: readonly number[] | null,
  coldStart: ColdStart,
  random: () => number,
): { index: number; reason: VariantReason; propensity: number } {
  if (!scores) return { index: 0, reason: "default", propensity: 1 };
  const max = Math.max(...scores);
  const best = options.map((_, i) => i).filter((i) => (scores[i] ?? -Infinity) >= max - TIE);
  const fresh = options.map((_, i) => i).filter((i) => (options[i]?.impressions ?? 0) < coldStart.minImpressions);
  const explore = fresh.length > 0 ? coldStart.share : 0;
  const probability = (i: number) =>
    (1 - explore) * (best.includes(i) ? 1 / best.length : 0) + explore * (fresh.includes(i) ? 1 / fresh.length : 0);
  const exploring = explore > 0 && random() < explore;
  const pool = exploring ? fresh : best;
  const index = pool[Math.min(pool.length - 1, Math.floor(random() * pool.length))] ?? 0;
  return { index, reason: exploring ? "cold-start" : "model", propensity: probability(index) };
}

/**
 * The variant and score of every item in `rows` (as built by `scoringRows`), keyed by item id.
 * `rowScores` are the model's scores of the rows, or null when no model serves.
 */
export function chooseVariants(
  rows: readonly ScoringRow[],
  rowScores: readonly number[] | null,
  coldStart: ColdStart,
  random: () => number,
): Map<string, VariantChoice> {
  const byItem = new Map<string, { variants: CatalogueVariant[]; scores: number[] }>();
  rows.forEach((row, i) => {
    const entry = byItem.get(row.item.id) ?? { variants: [], scores: [] };
    if (row.variant) entry.variants.push(row.variant);
    entry.scores.push(rowScores?.[i] ?? 0);
    byItem.set(row.item.id, entry);
  });
  const choices = new Map<string, VariantChoice>();
  for (const [itemId, { variants, scores }] of byItem) {
    if (!variants.length) {
      choices.set(itemId, { variant: undefined, score: rowScores ? (scores[0] ?? 0) : null });
      continue;
    }
    const { index, reason, propensity } = chooseOne(variants, rowScores ? scores : null, coldStart, random);
    const chosen = variants[index] as CatalogueVariant;
    choices.set(itemId, {
      variant: {
        id: chosen.id,
        language: chosen.language,
        components: chosen.componentIds,
        synthetic: chosen.synthetic,
        reason,
        propensity,
      },
      score: rowScores ? (scores[index] ?? 0) : null,
    });
  }
  return choices;
}

/** The item as its chosen variant: the variant's components replace the item's own fields. */
export function asVariant(item: CatalogueItem, choice: VariantChoice | undefined): CatalogueItem & { variant?: ServedVariant } {
  const variant = choice?.variant;
  if (!variant) return item;
  const components = item.variants.find((v) => v.id === variant.id)?.render ?? {};
  return { ...item, render: { ...item.render, ...components }, variant };
}
