import { z } from "zod";

/** The model lifecycle's requests under /v1/admin/models (`npm run model` plans the same steps). */

export const versionParam = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "version: letters, digits, . _ - (max 64)");
/** A push is multipart form data: the manifest's text and the .onnx file. */
export const pushFormSchema = z.object({
  manifest: z.string().min(2, "manifest: the manifest.json text"),
  model: z.instanceof(File, { message: "model: the .onnx file" }),
  status: z.enum(["shadow", "canary"]).default("shadow"),
  share: z.coerce.number().default(0.05),
  /** The version's micro-segments (`npm run segments`' file for these bytes), optional. */
  segments: z.union([z.string(), z.instanceof(File)]).optional(),
});
export const canaryBodySchema = z.object({ share: z.number() });
export const killBodySchema = z.object({ on: z.boolean() });
