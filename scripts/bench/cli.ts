/** A positive integer flag value, or the fallback; a bad value throws with the usage text. */
export function positiveInt(name: string, value: string | undefined, fallback: number, usage: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got "${value}"\n${usage}`);
  return n;
}
