import { z } from "zod";
import { componentKinds } from "../site/components";
import { languageTag } from "../wire/decide";

/**
 * A variant as imported (admin endpoint or `npm run variants -- import`): its components override
 * the content item's render fields, and its provenance says who or what made it. Generated media
 * must say so (`synthetic`), as transparency rules for generated content expect.
 */
const text = (max: number) => z.string().min(1).max(max);
const safeUrl = z
  .string()
  .max(2048)
  .refine((u) => u.startsWith("/") || /^https:\/\//.test(u), "a path or an https URL");

export const variantImportSchema = z
  .object({
    contentId: text(128),
    id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "id: letters, digits, _ and - (max 64)"),
    /** BCP 47 language tag, e.g. `en`, `fr`, `pt-BR`. */
    language: languageTag,
    components: z
      .object({ title: text(200).optional(), body: text(1000).optional(), imageUrl: safeUrl.optional(), cta: text(60).optional() })
      .strict()
      .refine((c) => Object.keys(c).length > 0, "components: at least one of title, body, imageUrl, cta"),
    provenance: z
      .object({
        origin: z.enum(["human", "generated", "edited"]),
        tool: text(200).optional(),
        license: text(200).optional(),
        source: text(500).optional(),
      })
      .strict()
      .refine(
        (p) => p.origin === "human" || p.tool !== undefined,
        "provenance.tool: name the tool or model for generated or edited content",
      ),
    synthetic: z.boolean(),
  })
  .strict();
export type VariantImport = z.infer<typeof variantImportSchema>;

export const MAX_VARIANTS_PER_IMPORT = 500;
const MAX_COMBINATIONS_PER_SET = 100;

/**
 * Components whose combinations are the variants: every headline × image × call to action of
 * one item in one language, with one provenance. Variant ids are the prefix and the component
 * indexes, e.g. `spring-t0c1` for the first title with the second call to action.
 */
export const combinationSetSchema = z
  .object({
    contentId: text(128),
    idPrefix: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, "idPrefix: letters, digits, _ and - (max 40)"),
    language: languageTag,
    components: z
      .object({
        title: z.array(text(200)).min(1).max(20).optional(),
        body: z.array(text(1000)).min(1).max(20).optional(),
        imageUrl: z.array(safeUrl).min(1).max(20).optional(),
        cta: z.array(text(60)).min(1).max(20).optional(),
      })
      .strict(),
    provenance: z.unknown(),
    synthetic: z.unknown(),
  })
  .strict()
  .refine(
    (set) => Object.values(set.components).reduce((n, options) => n * (options?.length ?? 1), 1) <= MAX_COMBINATIONS_PER_SET,
    `components: at most ${MAX_COMBINATIONS_PER_SET} combinations per set`,
  );

/** Every combination of a set as a plain variant (validated afterwards like any other). */
export function expandCombinations(set: z.infer<typeof combinationSetSchema>): unknown[] {
  const kinds = componentKinds.filter((k) => set.components[k]?.length);
  let combos: { id: string; components: Record<string, string> }[] = [{ id: "", components: {} }];
  for (const kind of kinds) {
    const options = set.components[kind] ?? [];
    combos = combos.flatMap((combo) =>
      options.map((value, i) => ({ id: `${combo.id}${kind[0]}${i}`, components: { ...combo.components, [kind]: value } })),
    );
  }
  return combos.map((combo) => ({
    contentId: set.contentId,
    id: `${set.idPrefix}-${combo.id}`,
    language: set.language,
    components: combo.components,
    provenance: set.provenance,
    synthetic: set.synthetic,
  }));
}

export const variantImportRequestSchema = z
  .object({
    variants: z.array(z.unknown()).max(MAX_VARIANTS_PER_IMPORT).default([]),
    combinations: z.array(combinationSetSchema).max(50).default([]),
  })
  .refine((r) => r.variants.length + r.combinations.length > 0, "send variants, combinations, or both")
  .transform((r) => ({ variants: [...r.variants, ...r.combinations.flatMap(expandCombinations)] }))
  .refine((r) => r.variants.length <= MAX_VARIANTS_PER_IMPORT, `at most ${MAX_VARIANTS_PER_IMPORT} variants per import`);

export const reviewRequestSchema = z.object({ status: z.enum(["approved", "rejected"]) });

/** The blocklisted terms a variant's text contains (whole words, any case). */
export function blockedTerms(variant: VariantImport, blocklist: readonly string[]): string[] {
  const textOf = [variant.components.title, variant.components.body, variant.components.cta].filter(Boolean).join(" ").toLowerCase();
  return blocklist.filter((term) => {
    const escaped = term.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    return new RegExp(`(^|[^\\p{L}\\p{N}])${escaped}($|[^\\p{L}\\p{N}])`, "u").test(textOf);
  });
}

export type Refusal = { index: number; id?: string; reason: string };

/**
 * The import rules, shared by the admin endpoint and `npm run variants`: a variant must parse,
 * belong to a known content item, and contain no blocklisted term.
 */
export function screenVariants(
  list: readonly unknown[],
  knownContentIds: ReadonlySet<string>,
  blocklist: readonly string[],
): { accepted: VariantImport[]; rejected: Refusal[] } {
  const accepted: VariantImport[] = [];
  const rejected: Refusal[] = [];
  list.forEach((raw, index) => {
    const parsed = variantImportSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      rejected.push({ index, reason: `${issue?.path.join(".") || "variant"}: ${issue?.message ?? "invalid"}` });
      return;
    }
    const variant = parsed.data;
    const blocked = blockedTerms(variant, blocklist);
    if (!knownContentIds.has(variant.contentId)) rejected.push({ index, id: variant.id, reason: `no content item "${variant.contentId}"` });
    else if (blocked.length) rejected.push({ index, id: variant.id, reason: `blocklisted: ${blocked.join(", ")}` });
    else accepted.push(variant);
  });
  return { accepted, rejected };
}
