import type { Visitor } from "../consent/evaluate";
import type { RequestContext, VisitorProfile } from "../inference/encode";
import type { Scorer } from "../inference/model";
import { DependencyError, type FallbackReason } from "../lib/errors";
import type { ServingModels } from "../models/serving";
import type { CatalogueItem } from "../site/catalogue";
import type { SitePolicy } from "../site/policy";
import { candidateFeatures, type ScoringRow, scoringRows } from "../variants/choose";
import type { DecisionDeps } from "./deps";
import { withoutProfileExclusions } from "./pool";
import { candidatesFor, type SlotRequest } from "./rank";

/** Phase 3 of a decision: what the model made of the candidates, or why it was not asked. */
export type Scoring = {
  /** Read only with personalization consent; null otherwise and after any failure. */
  profile: VisitorProfile | null;
  /** The pool, without what may not be chosen from a profile once one was read. */
  pool: CatalogueItem[];
  /** Every candidate as each of its approved variants in the visitor's languages. */
  rows: ScoringRow[];
  /** The served model and one score per row; null when no model ran. */
  scored: { served: ServingModels; rowScores: number[] } | null;
  fallback: FallbackReason | undefined;
};

export type ScoringInput = {
  visitor: Visitor;
  context: RequestContext;
  slots: readonly SlotRequest[];
  pool: CatalogueItem[];
  policy: SitePolicy;
  languages: readonly string[];
  now: number;
  forceVersion: string | undefined;
  /** A fallback already known (the catalogue came from a fallback source): no profile, no model. */
  degraded: FallbackReason | undefined;
  /** The profile could not be read (the visitor's object failed): the model runs without it. */
  profileFallback: FallbackReason | undefined;
  /** The holdout or an editor-order arm: the model is not asked and no profile is read. */
  editorOrder: boolean;
};

/** The model's score for each row (one batched run). */
export async function scoresOf(scorer: Scorer, profile: VisitorProfile | null, context: RequestContext, rows: readonly ScoringRow[]) {
  const raw = await scorer.score(profile, context, rows.map(candidateFeatures));
  return rows.map((_, i) => raw[i] ?? 0);
}

async function modelScores(deps: DecisionDeps, input: ScoringInput, profile: VisitorProfile | null, rows: readonly ScoringRow[]) {
  const served = await deps.loadModels(input.forceVersion);
  try {
    return { served, rowScores: await scoresOf(served.scorer, profile, input.context, rows) };
  } catch (cause) {
    throw new DependencyError("model_unavailable", { cause });
  }
}

/**
 * Reads the profile (only with personalization consent) and scores the candidates. A failing
 * dependency (profile store, model) becomes the decision's fallback reason, never an error; a
 * profile that could not be read leaves the model to score on context alone.
 */
export async function score(input: ScoringInput, deps: DecisionDeps): Promise<Scoring> {
  const { visitor, policy, languages } = input;
  let pool = input.pool;
  if (!input.degraded && !input.editorOrder) {
    try {
      const profile = visitor.id && visitor.consent.personalization ? await deps.readProfile(visitor.id) : null;
      if (profile) pool = withoutProfileExclusions(pool, policy);
      const rows = scoringRows(candidatesFor(input.slots, pool, input.now), languages);
      return { profile, pool, rows, scored: await modelScores(deps, input, profile, rows), fallback: input.profileFallback };
    } catch (err) {
      if (!(err instanceof DependencyError)) throw err;
      return { profile: null, pool, rows: scoringRows(pool, languages), scored: null, fallback: err.reason };
    }
  }
  return { profile: null, pool, rows: scoringRows(pool, languages), scored: null, fallback: input.degraded };
}
