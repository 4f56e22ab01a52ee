import { assignArms, inHoldout } from "../experiments/assign";
import type { Preview } from "../experiments/preview";
import type { Experiment, SitePolicy } from "../site/policy";

/** An experiment and the arm this visitor (or this request, without an id) falls in. */
export type AssignedArm = { experiment: Experiment; arm: Experiment["arms"][number] };

/** Phase 1 of a decision: which groups the visitor is in, and what they impose on the rest. */
export type Assignment = {
  /** The salted draw put the visitor in the holdout (a preview's trace shows it even when overridden). */
  drawnIntoHoldout: boolean;
  /** The visitor gets the editor's order: drawn into the holdout, and not a QA preview. */
  holdout: boolean;
  arms: AssignedArm[];
  /** An arm that serves the editor's order instead of the model. */
  editorArm: AssignedArm | undefined;
  /** A model version that a preview or an arm asks for instead of the live one. */
  forceVersion: string | undefined;
};

/** A preview may choose the arm of any experiment it names. */
function withPreviewArms(assigned: AssignedArm[], preview: Preview | null): AssignedArm[] {
  if (!preview?.arms) return assigned;
  return assigned.map((a) => {
    const forced = a.experiment.arms.find((arm) => arm.name === preview.arms?.[a.experiment.id]);
    return forced ? { ...a, arm: forced } : a;
  });
}

/**
 * Draws the holdout and the experiment arms from `key` (the visitor id, or the decision id for a
 * visitor without one, who cannot be kept in one group). A holdout visitor is in no experiment.
 */
export async function assign(siteId: string, policy: SitePolicy, key: string, preview: Preview | null): Promise<Assignment> {
  const drawnIntoHoldout = await inHoldout(siteId, key, policy.holdout.share);
  const holdout = drawnIntoHoldout && !preview;
  const arms = holdout ? [] : withPreviewArms(await assignArms(policy.experiments, key), preview);
  return {
    drawnIntoHoldout,
    holdout,
    arms,
    editorArm: arms.find(({ arm }) => arm.policy === "editor-default"),
    forceVersion: preview?.modelVersion ?? arms.find(({ arm }) => arm.modelVersion !== undefined)?.arm.modelVersion,
  };
}
