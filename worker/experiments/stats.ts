/**
 * The statistics behind the experiment reports: normal quantiles, the chi-square test for a
 * sample-ratio mismatch, intervals for differences of proportions and of means, and the sample
 * size of a two-arm test. Plain functions, checked against known values in test/experiments.
 */

/** Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile needs 0 < p < 1, got ${p}`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const [a0, a1, a2, a3, a4, a5] = a as [number, number, number, number, number, number];
  const [b0, b1, b2, b3, b4] = b as [number, number, number, number, number];
  const [c0, c1, c2, c3, c4, c5] = c as [number, number, number, number, number, number];
  const [d0, d1, d2, d3] = d as [number, number, number, number];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) / (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1);
}

function logGamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9).
  const g = [
    0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.6150291621406, 12.507343278686905,
    -0.13857109526572012, 9.984369578019572e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let sum = g[0] ?? 0;
  for (let i = 1; i < g.length; i++) sum += (g[i] ?? 0) / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** Regularized upper incomplete gamma Q(s, x) (series below s + 1, continued fraction above). */
function upperGamma(s: number, x: number): number {
  if (x <= 0) return 1;
  if (x < s + 1) {
    let term = 1 / s;
    let sum = term;
    for (let n = 1; n < 500; n++) {
      term *= x / (s + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return 1 - sum * Math.exp(-x + s * Math.log(x) - logGamma(s));
  }
  let b = x + 1 - s;
  let c = 1 / 1e-300;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - s);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.exp(-x + s * Math.log(x) - logGamma(s)) * h;
}

/** P(X ≥ x) for a chi-square variable with `df` degrees of freedom. */
export function chiSquareSurvival(x: number, df: number): number {
  return upperGamma(df / 2, x / 2);
}

/** Sample-ratio mismatch: observed units per arm against the configured weights. */
export function sampleRatioMismatch(observed: readonly number[], weights: readonly number[], alpha = 0.001) {
  const total = observed.reduce((a, b) => a + b, 0);
  const weightSum = weights.reduce((a, b) => a + b, 0);
  let statistic = 0;
  observed.forEach((o, i) => {
    const expected = (total * (weights[i] ?? 0)) / weightSum;
    if (expected > 0) statistic += (o - expected) ** 2 / expected;
  });
  const pValue = total > 0 ? chiSquareSurvival(statistic, Math.max(1, observed.length - 1)) : 1;
  return { statistic, pValue, mismatch: pValue < alpha, alpha };
}

export type Interval = { estimate: number; low: number; high: number };

/** Difference of two proportions (treatment − control), normal approximation, 95%. */
export function proportionDifference(successesT: number, trialsT: number, successesC: number, trialsC: number): Interval | null {
  if (trialsT <= 0 || trialsC <= 0) return null;
  const pT = successesT / trialsT;
  const pC = successesC / trialsC;
  const se = Math.sqrt((pT * (1 - pT)) / trialsT + (pC * (1 - pC)) / trialsC);
  const z = normalQuantile(0.975);
  return { estimate: pT - pC, low: pT - pC - z * se, high: pT - pC + z * se };
}

/** Difference of two means from sums (Welch's standard error, normal quantile), 95%. */
export function meanDifference(
  t: { n: number; sum: number; sumSquares: number },
  c: { n: number; sum: number; sumSquares: number },
): Interval | null {
  if (t.n < 2 || c.n < 2) return null;
  const variance = (g: typeof t) => Math.max(0, (g.sumSquares - (g.sum * g.sum) / g.n) / (g.n - 1));
  const diff = t.sum / t.n - c.sum / c.n;
  const se = Math.sqrt(variance(t) / t.n + variance(c) / c.n);
  const z = normalQuantile(0.975);
  return { estimate: diff, low: diff - z * se, high: diff + z * se };
}

/** Visitors per arm to detect an absolute lift `mde` over `baseline` (two-sided test). */
export function sampleSizePerArm(baseline: number, mde: number, alpha = 0.05, power = 0.8): number {
  const p1 = baseline;
  const p2 = baseline + mde;
  if (!(p1 > 0 && p1 < 1 && p2 > 0 && p2 < 1 && mde !== 0))
    throw new RangeError("baseline and baseline + mde must be inside (0, 1), mde ≠ 0");
  const zAlpha = normalQuantile(1 - alpha / 2);
  const zBeta = normalQuantile(power);
  const pBar = (p1 + p2) / 2;
  const n = (zAlpha * Math.sqrt(2 * pBar * (1 - pBar)) + zBeta * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / mde ** 2;
  return Math.ceil(n);
}
