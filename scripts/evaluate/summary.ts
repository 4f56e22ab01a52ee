import type { Interval } from "./bootstrap";
import type { RankingFigures } from "./leave-one-out";
import type { ObservedCtr } from "./off-policy";
import type { Estimate } from "./ope";
import type { EvaluationReport } from "./run";
import type { ClassifierFigures, Unavailable } from "./time-split";

/** The report as a few aligned lines for a person (stderr); the JSON line is the record. */
export function summary(report: EvaluationReport): string {
  const lines = [
    `model ${report.model.version} on ${report.data.name}: ${report.data.examples} examples, ${report.data.items} items ` +
      `(${report.data.itemsKnownToModel} in the model's catalogue)`,
    `data: ${report.data.citation}`,
  ];
  const t = report.timeSplit;
  if (t) {
    lines.push(
      "",
      `time split (${report.splitFrom}): test from ${t.testFrom}, ${t.test.examples} examples, ${t.test.positives} positives`,
      row("", "AUC [95%]", "log loss"),
      ...(["model", "popularity", "itemKnn"] as const).map((name) => classifierRow(name, t[name])),
      `model - popularity AUC, paired 95%: ${interval(t.model.aucMinusPopularity, 3)}`,
    );
  }
  const o = report.offPolicy;
  if (o) {
    const ctr = (name: string, c: ObservedCtr & { window: string }) =>
      row(`${name} (${c.window})`, `${pct(c.ctr)} ${interval(c.interval, 2, 100)}`, `${c.clicks}/${c.impressions}`);
    lines.push(
      "",
      `off-policy, clicks per impression, on ${o.loggedData}`,
      row("logging policy", "observed CTR [95%]", "clicks"),
      ctr("random", o.logging.random),
      ctr("bts", o.logging.bts),
      ctr("bts", o.logging.btsTestWindow),
      row("target policy", "IPS [95%]", "SNIPS [95%]", "DR [95%]", "matched/rounds"),
      ...Object.entries(o.estimates).map(([name, v]) =>
        "unavailable" in v
          ? row(name, `unavailable: ${v.unavailable}`)
          : row(name, est(v.ips), est(v.snips), est(v.dr), `${v.matched}/${v.rounds}`),
      ),
    );
  }
  const l = report.leaveOneOut;
  if (l) {
    lines.push(
      "",
      `leave-one-out: ${l.users} users${l.usersWithoutNegatives > 0 ? ` (and ${l.usersWithoutNegatives} with no unseen item, left out)` : ""}, ` +
        `latest positive vs ${l.negatives} sampled items` +
        `${l.fewestNegatives < l.negatives ? ` (only ${l.fewestNegatives} for some users)` : ""}; baselines learn from ${l.baselinesLearnFrom}`,
      row("", `HR@${l.k} [95%]`, `NDCG@${l.k} [95%]`),
      ...(["model", "popularity", "itemKnn"] as const).map((name) => rankingRow(name, l[name])),
    );
  }
  return lines.join("\n");
}

const row = (...cells: string[]) =>
  cells
    .map((c, i) => (i === 0 ? c.padEnd(22) : c.padEnd(26)))
    .join("")
    .trimEnd();
const fixed = (x: number | null, digits: number, scale = 1) => (x === null ? "n/a" : (x * scale).toFixed(digits));
const interval = (i: Interval | null, digits: number, scale = 1) =>
  i ? `[${fixed(i.low, digits, scale)}, ${fixed(i.high, digits, scale)}]` : "[n/a]";
const pct = (x: number | null) => `${fixed(x, 2, 100)}%`;
const est = (e: Estimate) => `${pct(e.value)} ${interval(e.interval, 2, 100)}`;

function classifierRow(name: string, f: ClassifierFigures | Unavailable): string {
  if ("unavailable" in f) return row(name, `unavailable: ${f.unavailable}`);
  return row(
    name,
    `${fixed(f.auc, 3)} ${interval(f.aucInterval, 3)}`,
    f.logLoss === null ? "n/a (not a probability)" : fixed(f.logLoss, 4),
  );
}

function rankingRow(name: string, f: RankingFigures): string {
  return row(name, `${fixed(f.hitRate, 3)} ${interval(f.hitRateInterval, 3)}`, `${fixed(f.ndcg, 3)} ${interval(f.ndcgInterval, 3)}`);
}
