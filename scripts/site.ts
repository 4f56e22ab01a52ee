/**
 * Onboarding from a terminal, through the worker's admin API (the typed client, scripts/api-client.ts):
 *
 *   npm run site -- create --id ID --name NAME --origin https://shop.example [--origin …] [--consent opt-in|opt-out]
 *                          [--timezone Europe/Paris] [--edge-origin https://origin.example] [--feed-url https://…]
 *   npm run site -- show SITE
 *   npm run site -- slots SITE [add --id hero --name Hero [--default 1] [--max 3] | archive SLOT]
 *   npm run site -- items SITE [list [--cursor ID] [--limit N] | import FILE [--full] [--dry-run] [--slots a,b] | archive ID]
 *   npm run site -- imports SITE
 *
 * Every command takes --url (default http://127.0.0.1:8787, or EP_URL) and --token (or
 * EP_ADMIN_TOKEN; for a local URL, .dev.vars). The worker checks every field with the same schemas
 * as the API and the console, so this script adds no rules of its own.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { ConsentModel } from "../worker/wire/consent";
import { type AdminTarget, adminCall, adminTarget, CliError, TAKES_EFFECT } from "./admin-client";

const USAGE = `usage: npm run site -- <command> [--url URL] [--token TOKEN]
  create --id ID --name NAME --origin URL [--origin URL …] [--consent opt-in|opt-out] [--timezone ZONE]
         [--edge-origin URL] [--feed-url URL]
  show SITE
  slots SITE                                  list the site's slots
  slots SITE add --id ID --name NAME [--default N] [--max N]
  slots SITE archive SLOT
  items SITE [list] [--cursor ID] [--limit N] list items, a page at a time
  items SITE import FILE [--full] [--dry-run] [--slots a,b]
                                              import a CSV or Google Merchant Center feed (a diff; --full archives
                                              what the file no longer lists; --dry-run previews it)
  items SITE archive ID
  imports SITE                                the latest imports (uploads and feed URL fetches), and why any failed`;

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: "string" },
    token: { type: "string" },
    id: { type: "string" },
    name: { type: "string" },
    origin: { type: "string", multiple: true },
    consent: { type: "string" },
    timezone: { type: "string" },
    "edge-origin": { type: "string" },
    "feed-url": { type: "string" },
    default: { type: "string" },
    max: { type: "string" },
    cursor: { type: "string" },
    limit: { type: "string" },
    full: { type: "boolean", default: false },
    "dry-run": { type: "boolean", default: false },
    slots: { type: "string" },
    help: { type: "boolean", default: false },
  },
});

const need = (value: string | undefined, what: string) => {
  if (!value) throw new CliError(`${what} is required\n${USAGE}`);
  return value;
};
const numberFlag = (value: string | undefined) => (value === undefined ? undefined : Number(value));
const print = (value: unknown) => console.log(JSON.stringify(value, null, 2));

async function create(target: AdminTarget) {
  const site = {
    id: need(flags.id, "--id"),
    name: need(flags.name, "--name"),
    allowedOrigins: flags.origin ?? [],
    // The worker checks it (and says which values it takes).
    ...(flags.consent ? { consentModel: flags.consent as ConsentModel } : {}),
    ...(flags.timezone ? { timezone: flags.timezone } : {}),
    ...(flags["edge-origin"] ? { originUrl: flags["edge-origin"] } : {}),
    ...(flags["feed-url"] ? { feedUrl: flags["feed-url"] } : {}),
  };
  print(await adminCall(target, "POST /v1/admin/sites", { body: site }));
  console.log(`site created; it ${TAKES_EFFECT}. Next: npm run site -- slots ${site.id} add --id hero --name Hero`);
}

async function slots(target: AdminTarget, site: string, action: string | undefined, slot: string | undefined) {
  const params = { site };
  if (!action || action === "list") return print(await adminCall(target, "GET /v1/admin/sites/{site}/slots", { params }));
  if (action === "add") {
    const body = {
      id: need(flags.id, "--id"),
      name: need(flags.name, "--name"),
      ...(flags.default ? { defaultCount: numberFlag(flags.default) } : {}),
      ...(flags.max ? { maxCount: numberFlag(flags.max) } : {}),
    };
    print(await adminCall(target, "POST /v1/admin/sites/{site}/slots", { params, body }));
  } else if (action === "archive") {
    print(await adminCall(target, "POST /v1/admin/sites/{site}/slots/{slot}/archive", { params: { site, slot: need(slot, "SLOT") } }));
  } else throw new CliError(`unknown slots action "${action}"\n${USAGE}`);
  console.log(`slot saved; it ${TAKES_EFFECT}`);
}

async function importItems(target: AdminTarget, site: string, file: string) {
  const text = readFileSync(file, "utf8");
  const type = /\.(xml|rss|atom)$/i.test(file) ? "application/xml" : "text/csv";
  const query = { mode: flags.full ? "full" : "partial", dryRun: flags["dry-run"] ? "true" : "false", slots: flags.slots } as const;
  const started = performance.now();
  const answer = await adminCall(target, "POST /v1/admin/sites/{site}/items/import", { params: { site }, query, body: text, type });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `${answer.dryRun ? "preview" : "imported"} in ${seconds} s: ${answer.added.length} added, ${answer.changed.length} changed, ${answer.unchanged} unchanged, ${answer.archived.length} archived, ${answer.refused.length} refused`,
  );
  for (const row of answer.refused) console.log(`  line ${row.line}${row.id ? ` (${row.id})` : ""}: ${row.reason}`);
  if (answer.applied)
    console.log(`applied in ${answer.applied.statements} D1 statements (import ${answer.applied.importId}); it ${TAKES_EFFECT}`);
  else console.log("nothing changed: run again without --dry-run to apply");
}

async function items(target: AdminTarget, site: string, action: string | undefined, arg: string | undefined) {
  const params = { site };
  if (!action || action === "list") {
    const query = { cursor: flags.cursor, limit: flags.limit ?? "100" };
    return print(await adminCall(target, "GET /v1/admin/sites/{site}/items", { params, query }));
  }
  if (action === "import") return importItems(target, site, need(arg, "FILE"));
  if (action === "archive")
    return print(await adminCall(target, "POST /v1/admin/sites/{site}/items/{item}/archive", { params: { site, item: need(arg, "ID") } }));
  throw new CliError(`unknown items action "${action}"\n${USAGE}`);
}

async function main() {
  const [command, site, action, arg] = positionals;
  if (flags.help || !command) return console.log(USAGE);
  const target = adminTarget(flags);
  if (command === "create") return create(target);
  if (command === "show") return print(await adminCall(target, "GET /v1/admin/sites/{site}", { params: { site: need(site, "SITE") } }));
  if (command === "slots") return slots(target, need(site, "SITE"), action, arg);
  if (command === "items") return items(target, need(site, "SITE"), action, arg);
  if (command === "imports")
    return print(await adminCall(target, "GET /v1/admin/sites/{site}/imports", { params: { site: need(site, "SITE") } }));
  throw new CliError(`unknown command "${command}"\n${USAGE}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof CliError ? err.message : err);
  process.exit(err instanceof CliError ? 2 : 1);
});
