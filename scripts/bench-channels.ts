/**
 * What a channel costs per request, on the production bundle in local workerd: the browser's
 * decision (the baseline, one call to the visitor's object), a signed-in browser's decision on a
 * device linked to a customer (two object calls), a server's decision for a customer over an API
 * key (one D1 read for the key, one object call) and an e-mail open (the first decides; later ones
 * read the open the customer's object kept). Rounds interleave the paths, so that a busy machine
 * slows them alike; figures are medians and ratios to the baseline in the same run.
 *
 *   npm run bench:channels -- [--rounds 200]
 */

import { sign } from "../worker/lib/signing";
import { BENCH_SITE } from "./bench/seed-state";
import { startWorkerWithConsumer } from "./bench/stack";
import { median, percentile, round } from "./bench/stats";
import { stopWorkerd } from "./bench/workerd";

const UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Safari/605.1.15";
const GRANTED = { personalization: true, measurement: true };
const roundsArg = process.argv.indexOf("--rounds");
const ROUNDS = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 200;
const page = { url: "https://shop.example/women/knitwear" };
const slots = [{ id: "hero" }, { id: "recommendations", count: 3 }];

async function main() {
  const { mf, url, secrets, visitor } = await startWorkerWithConsumer("bench-channels", { consumerBatchTimeoutS: 1 });
  try {
    const post = async (path: string, body: unknown, headers: Record<string, string>) => {
      const res = await fetch(new URL(path, url), {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": UA, ...headers },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
      return res.json() as Promise<Record<string, unknown>>;
    };
    const admin = { authorization: `Bearer ${secrets.ADMIN_TOKEN}` };
    const { secret } = (await post(`/v1/admin/sites/${BENCH_SITE}/keys`, { name: "bench", scopes: ["decide", "events"] }, admin)) as {
      secret: string;
    };
    const key = { authorization: `Bearer ${secret}` };
    const customerId = "bench-customer";
    const device = crypto.randomUUID();
    const deviceToken = await sign(device, secrets.ID_SIGNING_KEY ?? "");
    await post("/v1/identity/link", { site: BENCH_SITE, visitorToken: deviceToken, customerId, consent: GRANTED }, key);
    const { tokens } = (await post(
      "/v1/email/tokens",
      {
        site: BENCH_SITE,
        sentAt: Date.now() - 3_600_000,
        recipients: Array.from({ length: ROUNDS }, () => ({ customerId, consent: GRANTED })),
      },
      key,
    )) as { tokens: string[] };

    const paths: Record<string, (round: number) => Promise<unknown>> = {
      "web (cookie)": () => post("/v1/decide", { site: BENCH_SITE, page, slots }, { cookie: visitor.cookie }),
      "web, linked device": () =>
        post("/v1/decide", { site: BENCH_SITE, page, slots }, { cookie: `ep_vid=${encodeURIComponent(deviceToken)}` }),
      "server (API key, customer)": () =>
        post("/v1/decide", { site: BENCH_SITE, page, slots, visitor: { customerId }, consent: GRANTED }, key),
      "e-mail, first open": (i) =>
        fetch(new URL(`/v1/email/${BENCH_SITE}/hero.png?r=${tokens[i]}`, url), { headers: { "user-agent": UA }, redirect: "manual" }),
      "e-mail, later open": (i) =>
        fetch(new URL(`/v1/email/${BENCH_SITE}/hero.png?r=${tokens[i]}`, url), { headers: { "user-agent": UA }, redirect: "manual" }),
    };
    const times = new Map<string, number[]>(Object.keys(paths).map((name) => [name, []]));
    for (let i = 0; i < ROUNDS; i++) {
      for (const [name, run] of Object.entries(paths)) {
        const start = performance.now();
        await run(i);
        times.get(name)?.push(performance.now() - start);
      }
    }
    const base = median(times.get("web (cookie)") ?? []);
    console.log(`${ROUNDS} rounds, local workerd (one machine: ratios, not absolute latencies, are the figure)`);
    for (const [name, list] of times) {
      console.log(
        `${name.padEnd(28)} median ${round(median(list), 2)} ms  p95 ${round(percentile(list, 95), 2)} ms  ×${round(median(list) / base, 2)} of web`,
      );
    }
  } finally {
    await stopWorkerd(mf);
  }
}

await main();
