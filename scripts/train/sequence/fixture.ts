/**
 * `npx tsx scripts/train/sequence/fixture.ts`: regenerates models/fixtures/sequence-ring, the small
 * sequence model that test/parity-sequence.test.ts scores inside workerd against the training
 * pipeline's own scores (its parity.json). Trained on the SYNTHETIC ring (./ring.ts), narrow (d = 16,
 * the 8 most recent items) so that the fixture stays a few kilobytes. Run it again whenever the
 * sequence encoder, train.py or export.py change what a model computes.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { trainSequenceModel } from "./pipeline";
import { writeRing } from "./ring";

const FIXTURE_DIR = join("models", "fixtures", "sequence-ring");

async function main() {
  const root = mkdtempSync(join(tmpdir(), "sequence-fixture-"));
  const data = writeRing(root);
  await trainSequenceModel({
    source: {
      kind: "interactions",
      ...data,
      negatives: 0,
      seed: 0,
      timezone: "UTC",
      citation: "SYNTHETIC ring of 60 items (scripts/train/sequence/ring.ts, seed 11)",
    },
    out: FIXTURE_DIR,
    build: join(root, "build"),
    version: "ring-seq-fixture",
    seed: 0,
    epochs: 25,
    length: 8,
    dim: 16,
    bootstrap: 100,
    log: (line) => console.log(line),
  });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
