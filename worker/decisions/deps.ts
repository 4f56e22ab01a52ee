import type { VisitorProfile } from "../inference/encode";
import type { ServingModels } from "../models/serving";

/** The decision's I/O, passed in so that tests and the benchmark can drive the logic directly. */
export type DecisionDeps = {
  now: Date;
  readProfile: (visitorId: string) => Promise<VisitorProfile | null>;
  /** The served model (live, canary, or a version an experiment arm asks for) and the shadows. */
  loadModels: (forceVersion?: string) => Promise<ServingModels>;
  newDecisionId: () => string;
  /** Uniform in [0, 1): exploration and pins draw from it. */
  random: () => number;
};
