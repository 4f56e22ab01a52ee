import type { Visitor } from "../consent/evaluate";
import type { RequestContext, VisitorProfile } from "../inference/encode";
import type { Scorer } from "../inference/model";
import type { ScoreOptions } from "../inference/scorer";
import { nearestSegment } from "../inference/segments";
import { DependencyError, type FallbackReason } from "../lib/errors";
import type { ServingModels } from "../models/serving";
import type { CatalogueItem } from "../site/catalogue";
import type { SitePolicy } from "../site/policy";
import { candidateFeatures, type ScoringRow, scoringRows } from "../variants/choose";
import type { DecisionDeps } from "./deps";
import { type SegmentName, withoutProfileExclusions, withoutSegmentExclusions } from "./pool";
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
  /**
   * The micro-segment the served model placed the visitor in, from the same run (only with a
   * profile, so only with personalization consent, and a version pushed with segments).
   */
  segment: SegmentName;
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
export async function scoresOf(
  scorer: Scorer,
  profile: VisitorProfile | null,
  context: RequestContext,
  rows: readonly ScoringRow[],
  options?: ScoreOptions,
) {
  const raw = await scorer.score(profile, context, rows.map(candidateFeatures), options);
  return rows.map((_, i) => raw[i] ?? 0);
}

/** Segments are profile-based: none without a profile read under consent, or for a model without them. */
function placement(served: ServingModels, profile: VisitorProfile | null) {
  const segments = profile ? served.segments : null;
  const placed: { segment: SegmentName } = { segment: null };
  const options: ScoreOptions | undefined = segments?.length
    ? {
        onVisitor: (vector) => {
          if (segments.every((s) => s.centroid.length === vector.length)) {
            const id = nearestSegment(segments, vector);
            placed.segment = id === null ? null : `segment:${id}`;
          }
        },
      }
    : undefined;
  return { placed, options };
}

async function modelScores(deps: DecisionDeps, input: ScoringInput, profile: VisitorProfile | null, rows: readonly ScoringRow[]) {
  const served = await deps.loadModels(input.forceVersion);
  const { placed, options } = placement(served, profile);
  try {
    const rowScores = await scoresOf(served.scorer, profile, input.context, rows, options);
    return { scored: { served, rowScores }, segment: placed.segment };
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
      const { scored, segment } = await modelScores(deps, input, profile, rows);
      // The segment is known only from the run: its exclusions leave the pool after scoring.
      pool = withoutSegmentExclusions(pool, policy, segment);
      return { profile, pool, rows, scored, segment, fallback: input.profileFallback };
    } catch (err) {
      if (!(err instanceof DependencyError)) throw err;
      return { profile: null, pool, rows: scoringRows(pool, languages), scored: null, segment: null, fallback: err.reason };
    }
  }
  return { profile: null, pool, rows: scoringRows(pool, languages), scored: null, segment: null, fallback: input.degraded };
}
