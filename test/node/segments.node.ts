import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { kmeans } from "../../scripts/segments/kmeans";
import { segmentVisitors } from "../../scripts/segments/run";
import { createRandom } from "../../scripts/train/random";
import { RING, writeRing } from "../../scripts/train/sequence/ring";
import { nearestSegment, type SegmentsFile, segmentsFileSchema } from "../../worker/inference/segments";

/** The committed ring fixture (scripts/train/sequence/fixture.ts) and the data it was trained on. */
const MODEL = "models/fixtures/sequence-ring";

describe("kmeans", () => {
  it("finds two separated directions whatever the order, and repeats itself for a seed", () => {
    const random = createRandom(4);
    const around = (x: number, y: number) => [x + 0.05 * random.normal(), y + 0.05 * random.normal(), 0.05 * random.normal()];
    const vectors = [...Array.from({ length: 30 }, () => around(1, 0)), ...Array.from({ length: 20 }, () => around(0, 1))];
    const a = kmeans(vectors, 2, 7);
    expect(new Set(a.assignment.slice(0, 30)).size).toBe(1);
    expect(new Set(a.assignment.slice(30)).size).toBe(1);
    expect(a.assignment[0]).not.toBe(a.assignment[30]);
    expect(kmeans(vectors, 2, 7)).toEqual(a);
  });
});

describe("npm run segments on the ring fixture", () => {
  let file: SegmentsFile;
  let options: Parameters<typeof segmentVisitors>[0];

  beforeAll(async () => {
    const data = writeRing(mkdtempSync(join(tmpdir(), "segments-")));
    options = { model: MODEL, interactions: data.csv, items: data.items, k: 4, seed: 0, top: 5, timezone: "UTC" };
    file = await segmentVisitors(options);
  });

  it("writes the documented format: every visitor in one segment, largest first", () => {
    expect(segmentsFileSchema.safeParse(file).success).toBe(true);
    expect(file.model.version).toBe("ring-seq-fixture");
    expect(file.segments.map((s) => s.id)).toEqual(["s1", "s2", "s3", "s4"]);
    expect(file.segments.reduce((sum, s) => sum + s.visitors, 0)).toBe(file.data.visitors);
    expect(file.data.visitors).toBe(RING.visitors + 1);
    const sizes = file.segments.map((s) => s.visitors);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
  });

  it("describes each segment by the items it takes more than everyone, and has no CTR without impressions", () => {
    const favourites = file.segments.map((s) => s.topItems[0]);
    for (const item of favourites) expect(item?.lift).toBeGreaterThan(2);
    expect(new Set(favourites.map((i) => i?.contentId)).size).toBe(file.segments.length);
    for (const s of file.segments) {
      // Shelves are k mod 4: every segment takes them about as everyone does.
      for (const value of s.topAttributes) expect(value.lift).toBeGreaterThan(0.8);
      for (const value of s.topAttributes) expect(value.lift).toBeLessThan(1.25);
      expect(s.ctr).toBeNull();
    }
  });

  it("places a segment's centroid in that segment, and repeats itself for the same seed", async () => {
    for (const s of file.segments) expect(nearestSegment(file.segments, s.centroid)).toBe(s.id);
    expect(await segmentVisitors(options)).toEqual(file);
  });
});
