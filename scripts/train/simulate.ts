/**
 * A SYNTHETIC interactions dataset in the generic CSV format (interactions.csv, items.csv,
 * users.csv), for training and evaluating without a public dataset on the machine. Everything is
 * drawn from a seeded generator with these mechanisms, each of which a good ranker can use and
 * item popularity cannot (except the first):
 *
 * - popularity: a long tail (item utility grows with -log of a random popularity rank);
 * - taste: users belong to segments and items to genres, each with a latent vector; a user's
 *   utility for an item grows with their dot product (collaborative signal in the histories);
 * - attributes: the user's age band shifts their taste for price (user x item attributes);
 * - time of day: each genre has an hour of the day when it is preferred (context);
 * - sequence: items have "bought together" complements; after an item, the next interaction is
 *   often one of its complements (so the latest history matters);
 * - a few repeat interactions with an item already taken.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRandom, type Random } from "./random";

export type SimulationOptions = { users: number; items: number; interactions: number; days: number; seed: number; start: string };

export const DEFAULT_SIMULATION: SimulationOptions = {
  users: 2000,
  items: 500,
  interactions: 100_000,
  days: 60,
  seed: 1,
  start: "2025-01-06T00:00:00Z",
};

const DIMS = 8;
const SEGMENTS = 6;
const GENRES = ["drama", "comedy", "news", "sport", "music", "tech", "food", "travel", "kids", "crime"];
const AGE_BANDS = ["18-24", "25-34", "35-44", "45-54", "55+"];
const COUNTRIES: [string, number][] = [
  ["JP", 0.3],
  ["US", 0.25],
  ["DE", 0.1],
  ["FR", 0.1],
  ["GB", 0.1],
  ["BR", 0.08],
  ["IN", 0.07],
];
/** Activity by local hour: low at night, peaks at lunch and in the evening. */
const HOURLY = [1, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 2, 3, 3, 3, 3.5, 4, 3.5, 3, 3, 3.5, 4, 5, 6, 6.5, 6, 4, 2];
const WEIGHT = { taste: 1.6, popularity: 0.9, hour: 0.8, price: 0.6 };
const P_COMPLEMENT = 0.35;
const P_REPEAT = 0.03;
const COMPLEMENTS = 3;

const vector = (random: Random, scale = 1) => Array.from({ length: DIMS }, () => random.normal() * scale);
const dot = (a: readonly number[], b: readonly number[]) => a.reduce((sum, x, i) => sum + x * (b[i] ?? 0), 0);

function pickWeighted<T>(random: Random, entries: readonly (readonly [T, number])[]): T {
  const total = entries.reduce((sum, [, w]) => sum + w, 0);
  let r = random.next() * total;
  for (const [value, weight] of entries) {
    r -= weight;
    if (r < 0) return value;
  }
  return (entries.at(-1) as readonly [T, number])[0];
}

export type Simulation = {
  interactions: { userId: string; itemId: string; ts: number }[];
  items: { itemId: string; genre: string; price: number }[];
  users: { userId: string; ageBand: string; country: string; device: string }[];
};

export function simulateInteractions(options: SimulationOptions): Simulation {
  const random = createRandom(options.seed);
  const start = Date.parse(options.start);
  const segmentTaste = Array.from({ length: SEGMENTS }, () => vector(random));
  const genreTaste = GENRES.map(() => vector(random));
  const genreHour = GENRES.map(() => random.int(24));

  const items = Array.from({ length: options.items }, (_, i) => {
    const genre = random.int(GENRES.length);
    const price = Math.round(Math.exp(2.5 + 0.15 * genre + 0.6 * random.normal()) * 100) / 100;
    return { itemId: `item-${i}`, genre, price, taste: (genreTaste[genre] as number[]).map((x) => x + 0.6 * random.normal()) };
  });
  // Popularity: a random rank per item (Fisher-Yates), utility -log(rank): a Zipf-like long tail.
  const ranks = items.map((_, i) => i + 1);
  for (let i = ranks.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [ranks[i], ranks[j]] = [ranks[j] as number, ranks[i] as number];
  }
  const logPopularity = ranks.map((rank) => -Math.log(rank));
  const logPrices = items.map((item) => Math.log(item.price));
  const meanLogPrice = logPrices.reduce((a, b) => a + b, 0) / logPrices.length;
  const sdLogPrice = Math.sqrt(logPrices.reduce((a, b) => a + (b - meanLogPrice) ** 2, 0) / logPrices.length) || 1;
  const zPrice = logPrices.map((p) => (p - meanLogPrice) / sdLogPrice);
  const complements = items.map((item, i) => {
    const sameGenre = items.flatMap((other, j) => (other.genre === item.genre && j !== i ? [j] : []));
    return Array.from({ length: Math.min(COMPLEMENTS, sameGenre.length) }, () => sameGenre[random.int(sameGenre.length)] as number);
  });

  const users = Array.from({ length: options.users }, (_, u) => {
    const segment = random.int(SEGMENTS);
    // The segment mostly decides the age band, and age the device.
    const age = random.next() < 0.7 ? segment % AGE_BANDS.length : random.int(AGE_BANDS.length);
    const device = pickWeighted(random, [
      ["mobile", 0.75 - 0.1 * age],
      ["desktop", 0.2 + 0.08 * age],
      ["tablet", 0.05 + 0.02 * age],
    ]);
    return {
      userId: `user-${u}`,
      age,
      country: pickWeighted(random, COUNTRIES),
      device,
      taste: (segmentTaste[segment] as number[]).map((x) => x + 0.7 * random.normal()),
      activity: Math.exp(random.normal()),
    };
  });

  // How many interactions each user has: proportional to a log-normal activity.
  const counts = new Array<number>(users.length).fill(0);
  const cumulative: number[] = [];
  users.reduce((sum, user) => {
    cumulative.push(sum + user.activity);
    return sum + user.activity;
  }, 0);
  const totalActivity = cumulative.at(-1) ?? 1;
  for (let n = 0; n < options.interactions; n++) {
    const r = random.next() * totalActivity;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] as number) <= r) lo = mid + 1;
      else hi = mid;
    }
    counts[lo] = (counts[lo] ?? 0) + 1;
  }

  const hourly = HOURLY.map((w, h) => [h, w] as const);
  const hourFit = genreHour.map((peak) => Array.from({ length: 24 }, (_, h) => Math.cos((2 * Math.PI * (h - peak)) / 24)));
  const interactions: Simulation["interactions"] = [];
  users.forEach((user, u) => {
    const times = Array.from({ length: counts[u] ?? 0 }, () => {
      const day = random.int(options.days);
      const hour = pickWeighted(random, hourly);
      return start + ((day * 24 + hour) * 3600 + random.int(3600)) * 1000;
    }).sort((a, b) => a - b);
    const base = items.map(
      (item, i) =>
        (WEIGHT.taste * dot(user.taste, item.taste)) / Math.sqrt(DIMS) +
        WEIGHT.popularity * (logPopularity[i] as number) +
        (WEIGHT.price * (user.age - 2) * (zPrice[i] as number)) / 2,
    );
    const taken = new Set<number>();
    const weights = new Float64Array(items.length);
    let last: number | undefined;
    for (const ts of times) {
      const hour = new Date(ts).getUTCHours();
      let choice: number | undefined;
      if (last !== undefined && random.next() < P_COMPLEMENT) {
        const open = (complements[last] ?? []).filter((j) => !taken.has(j));
        if (open.length > 0) choice = open[random.int(open.length)];
      }
      if (choice === undefined && taken.size > 0 && random.next() < P_REPEAT) {
        const history = [...taken];
        choice = history[random.int(history.length)];
      }
      if (choice === undefined) {
        let total = 0;
        items.forEach((item, i) => {
          weights[i] = taken.has(i) ? 0 : Math.exp((base[i] as number) + WEIGHT.hour * ((hourFit[item.genre] as number[])[hour] as number));
          total += weights[i] as number;
        });
        let r = random.next() * total;
        choice = weights.findIndex((w) => {
          r -= w;
          return r < 0;
        });
        if (choice < 0) choice = items.length - 1;
      }
      taken.add(choice);
      last = choice;
      interactions.push({ userId: user.userId, itemId: (items[choice] as (typeof items)[number]).itemId, ts });
    }
  });
  interactions.sort((a, b) => a.ts - b.ts);
  return {
    interactions,
    items: items.map((item) => ({ itemId: item.itemId, genre: GENRES[item.genre] as string, price: item.price })),
    users: users.map((user) => ({
      userId: user.userId,
      ageBand: AGE_BANDS[user.age] as string,
      country: user.country,
      device: user.device,
    })),
  };
}

/** Writes interactions.csv, items.csv and users.csv (the documented generic format) into `dir`. */
export function writeSimulation(dir: string, simulation: Simulation): void {
  const write = (name: string, header: string, lines: string[]) => writeFileSync(join(dir, name), `${[header, ...lines].join("\n")}\n`);
  write(
    "interactions.csv",
    "user_id,item_id,timestamp",
    simulation.interactions.map((r) => `${r.userId},${r.itemId},${new Date(r.ts).toISOString()}`),
  );
  write(
    "items.csv",
    "item_id,genre,price",
    simulation.items.map((r) => `${r.itemId},${r.genre},${r.price}`),
  );
  write(
    "users.csv",
    "user_id,age_band,country,device",
    simulation.users.map((r) => `${r.userId},${r.ageBand},${r.country},${r.device}`),
  );
}
