import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { putProfiles } from "../../scripts/bench/seed-state";
import { addDemoSite, chromiumAvailable, DESKTOP_UA, type Stack, sharedStack } from "../../scripts/harness/stack";
import { seedSecrets } from "../../scripts/harness/traffic";
import { waitFor } from "../../scripts/harness/wait";
import { localLogRows } from "../../scripts/log/local";
import { demoVisitors } from "../../scripts/seed/demo-data";
import { sign } from "../../worker/lib/signing";

const GRANTED = { personalization: true, measurement: true };
/** True once the mail's image has loaded and has pixels. */
const IMAGE_SHOWN = `(() => { const img = document.getElementById("hero"); return img.complete && img.naturalWidth > 0; })()`;

/**
 * An e-mail as a mail client shows it: an HTML file with the slot's image and link, opened in
 * Chromium from disk (no page of the site around it), as a person reading the mail an hour after
 * it was sent.
 */
describe.skipIf(!chromiumAvailable)("an e-mail in Chromium", () => {
  let stack: Stack;
  let dir: string;
  beforeAll(async () => {
    stack = await sharedStack();
    dir = await mkdtemp(join(tmpdir(), "ep-email-"));
  }, 180_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function call(path: string, token: string, body: unknown): Promise<Response> {
    return fetch(new URL(path, stack.url), {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "user-agent": DESKTOP_UA },
      body: JSON.stringify(body),
    });
  }

  it("shows the content chosen at open time, and its click lands on the same item; each logged once", async () => {
    const site = `email-${crypto.randomUUID().slice(0, 8)}`;
    await addDemoSite(stack, site, "opt-out");
    const keyRes = await call(`/v1/admin/sites/${site}/keys`, stack.secrets.ADMIN_TOKEN ?? "", { name: "mailer", scopes: ["decide"] });
    expect(keyRes.status).toBe(201);
    const { secret } = (await keyRes.json()) as { secret: string };
    // A visitor of this test's own (a demo shopper's profile on this site) signs in as the
    // customer, then gets the mail. Not the shared stack's visitor: the other files decide for it
    // unlinked.
    const customerId = `reader-${crypto.randomUUID()}`;
    const visitorId = crypto.randomUUID();
    const [shopper] = demoVisitors();
    if (!shopper) throw new Error("no demo visitor");
    await putProfiles(stack.url, seedSecrets(stack), [{ site, visitorId, profile: shopper.profile }]);
    const visitorToken = await sign(visitorId, stack.secrets.ID_SIGNING_KEY ?? "");
    expect((await call("/v1/identity/link", secret, { site, visitorToken, customerId, consent: GRANTED })).status).toBe(200);
    const minted = await call("/v1/email/tokens", secret, {
      site,
      sentAt: Date.now() - 60 * 60 * 1000,
      recipients: [{ customerId, consent: GRANTED }],
    });
    const [r = ""] = ((await minted.json()) as { tokens: string[] }).tokens;

    const base = new URL(`/v1/email/${site}/hero`, stack.url).href;
    const html = `<!doctype html><html><body>
      <p>Picked for you:</p>
      <a id="slot" href="${base}/click?r=${encodeURIComponent(r)}"><img id="hero" alt="" src="${base}.png?r=${encodeURIComponent(r)}"></a>
    </body></html>`;
    const file = join(dir, "mail.html");
    await writeFile(file, html);

    const context = await stack.browser.newContext({ userAgent: DESKTOP_UA });
    try {
      const page = await context.newPage();
      const image = page.waitForResponse((res) => new URL(res.url()).pathname.startsWith("/demo/img/"));
      await page.goto(pathToFileURL(file).href);
      const shown = /\/demo\/img\/([A-Za-z0-9_-]+)\.svg$/.exec(new URL((await image).url()).pathname)?.[1];
      expect(shown).toBeDefined();
      await page.waitForFunction(IMAGE_SHOWN);
      await page.click("#slot");
      await page.waitForURL((url) => url.pathname === `/demo/products/${shown}`);

      const interactions = async () =>
        (await localLogRows(stack.mf, { site, distinct: false }))
          .filter((row) => row.kind === "interaction")
          .map((row) => `${row.event}:${row.content_id}`)
          .sort();
      await waitFor(async () => (await interactions()).length >= 2, 20_000);
      // Opened again (a mail client reloads its images): the same content, and nothing logged twice.
      await page.goBack();
      await page.reload();
      await page.waitForFunction(IMAGE_SHOWN);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(await interactions()).toEqual([`click:${shown}`, `impression:${shown}`]);
    } finally {
      await context.close();
    }
  });
});
