/**
 * `npm run evaluate -- --model DIR (--obd DIR | --interactions CSV | --events NDJSON) [...]`: the
 * exported model, scored by the worker's own encoder and scorer (scripts/evaluate/scorer.ts),
 * against popularity and item-kNN on the same data. One JSON line on stdout, a summary on stderr.
 */
import { parseEvaluateArgs } from "./evaluate/args";
import { DUMP_SAMPLES, recordingScorer, writeScoreDump } from "./evaluate/dump";
import { evaluate } from "./evaluate/run";
import { loadModelDir } from "./evaluate/scorer";
import { summary } from "./evaluate/summary";

async function main() {
  const options = parseEvaluateArgs(process.argv.slice(2));
  const started = Date.now();
  const loaded = await loadModelDir(options.model);
  const recording = options.dumpScores ? recordingScorer(loaded, DUMP_SAMPLES) : null;
  const report = await evaluate(options, recording?.scorer ?? loaded);
  if (options.dumpScores && recording) writeScoreDump(options.dumpScores, recording.dump());
  process.stderr.write(`${summary(report)}\n(${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  console.log(JSON.stringify(report));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
