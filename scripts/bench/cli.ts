import { type ParseArgsConfig, parseArgs } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * Parses a bench script's flags strictly, with `--json` and `--help` added to every one; `--help`
 * prints the usage text and exits.
 */
export function parseFlags(argv: readonly string[], options: Options, usage: string): Record<string, unknown> {
  const { values } = parseArgs({
    args: [...argv],
    options: { ...options, json: { type: "boolean", default: false }, help: { type: "boolean", default: false } },
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  return values;
}

/** A positive integer flag value, or the fallback; a bad value throws with the usage text. */
export function positiveInt(name: string, value: unknown, fallback: number, usage: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got "${String(value)}"\n${usage}`);
  return n;
}
