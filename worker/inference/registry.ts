import bundledManifest from "../../models/default/manifest.json";
import bundledModel from "../../models/default/model.onnx";
import type { ModelSource } from "./model";

/**
 * The model bundled with the worker (models/default): what serves on a fresh install, before any
 * version is pushed, and the `bundled` storage of the registry (worker/models/).
 */
export const bundledSource: ModelSource = {
  version: bundledManifest.version,
  manifest: bundledManifest,
  sha256: bundledManifest.sha256,
  bytes: async () => bundledModel,
};
