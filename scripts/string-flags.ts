import { parseArgs } from "node:util";
import { z } from "zod";

/**
 * Parses a script's `--name value` flags strictly (every one a string, validated by `schema`, which
 * converts them), with `--help`/`-h` printing the usage text and exiting. A bad value throws with the
 * problem and the usage text.
 */
export function parseStringFlags<S extends z.ZodType>(names: readonly string[], schema: S, usage: string): z.infer<S> {
  const { values } = parseArgs({
    options: { ...Object.fromEntries(names.map((name) => [name, { type: "string" as const }])), help: { type: "boolean", short: "h" } },
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const { help: _help, ...flags } = values;
  const parsed = schema.safeParse(flags);
  if (!parsed.success) throw new Error(`${z.prettifyError(parsed.error)}\n${usage}`);
  return parsed.data;
}
