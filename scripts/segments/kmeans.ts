import { createRandom } from "../train/random";

/**
 * Spherical k-means (cosine): vectors are scaled to unit length, seeded with k-means++ from a
 * seeded generator, then Lloyd's iterations until no vector changes cluster (or `maxIterations`).
 * The same vectors, k and seed always give the same clusters.
 */
export type Clustering = { assignment: Int32Array; centroids: Float64Array[]; iterations: number };

export function unit(vector: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(vector);
  const norm = Math.hypot(...out);
  if (norm > 0) for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / norm;
  return out;
}

const dot = (a: Float64Array, b: Float64Array) => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
};

/** k-means++ seeding on cosine distance (1 - cos): each next centre drawn with probability ∝ its squared distance. */
function seedCentroids(points: readonly Float64Array[], k: number, seed: number): Float64Array[] {
  const random = createRandom(seed);
  const centroids = [Float64Array.from(points[random.int(points.length)] as Float64Array)];
  const distance = Float64Array.from(points, (p) => (1 - dot(p, centroids[0] as Float64Array)) ** 2);
  while (centroids.length < k) {
    const total = distance.reduce((a, b) => a + b, 0);
    let r = random.next() * total;
    let pick = points.length - 1;
    for (let i = 0; i < points.length; i++) {
      r -= distance[i] as number;
      if (r <= 0) {
        pick = i;
        break;
      }
    }
    const centre = Float64Array.from(points[pick] as Float64Array);
    centroids.push(centre);
    points.forEach((p, i) => {
      distance[i] = Math.min(distance[i] as number, (1 - dot(p, centre)) ** 2);
    });
  }
  return centroids;
}

export function kmeans(vectors: readonly ArrayLike<number>[], k: number, seed: number, maxIterations = 100): Clustering {
  if (vectors.length === 0) throw new Error("k-means needs at least one vector");
  const points = vectors.map(unit);
  const clusters = Math.min(k, points.length);
  let centroids = seedCentroids(points, clusters, seed);
  const assignment = new Int32Array(points.length).fill(-1);
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    let moved = 0;
    points.forEach((p, i) => {
      let best = 0;
      let bestCosine = Number.NEGATIVE_INFINITY;
      centroids.forEach((c, j) => {
        const cosine = dot(p, c);
        if (cosine > bestCosine) {
          bestCosine = cosine;
          best = j;
        }
      });
      if (assignment[i] !== best) moved++;
      assignment[i] = best;
    });
    if (moved === 0) break;
    const sums = centroids.map((c) => new Float64Array(c.length));
    points.forEach((p, i) => {
      const sum = sums[assignment[i] as number] as Float64Array;
      for (let j = 0; j < p.length; j++) sum[j] = (sum[j] as number) + (p[j] as number);
    });
    // An emptied cluster keeps its centre; the others move to their members' mean direction.
    centroids = sums.map((s, j) => (s.some((x) => x !== 0) ? unit(s) : (centroids[j] as Float64Array)));
  }
  return { assignment, centroids, iterations };
}
