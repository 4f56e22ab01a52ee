// Long by design: the HTTP contract is one table with an entry per route, so that test/openapi.test.ts
// can hold it against the routes the app registers and /openapi.json is generated from one place.
import { z } from "zod";
import { performanceQuerySchema } from "../../events/report";
import { previewRequestSchema } from "../../experiments/preview";
import { servingConfigSchema } from "../../models/config";
import { auditListSchema, consentListSchema, requestListSchema } from "../../privacy/lists";
import { sitePolicySchema } from "../../site/policy";
import { reviewRequestSchema, variantImportRequestSchema } from "../../variants/schema";
import { visitorImportSchema } from "../../visitors/import";
import {
  importRecordSchema,
  importResultSchema,
  itemId,
  itemInputSchema,
  itemPageSchema,
  itemViewSchema,
  pageQuerySchema,
  resourceId,
  siteDetailSchema,
  siteInputSchema,
  sitePageSchema,
  siteUpdateSchema,
  siteViewSchema,
  slotInputSchema,
  slotUpdateSchema,
  slotViewSchema,
} from "../../wire/catalogue";
import {
  apiKeyInputSchema,
  browserLinkRequestSchema,
  customerSubjectRequestSchema,
  linkRequestSchema,
  linkTokenRequestSchema,
  recipientTokensRequestSchema,
} from "../../wire/channels";
import { consentRequestSchema, consentStateSchema, privacyRequestStatusSchema, revocationRequestSchema } from "../../wire/consent";
import { decideQuerySchema, decideRequestSchema, decideResponseSchema, whyQuerySchema } from "../../wire/decide";
import { eventsAnswerSchema, eventsQuerySchema, eventsRequestSchema } from "../../wire/events";
import { canaryBodySchema, killBodySchema, pushFormSchema, versionParam } from "../../wire/models";
import { sampleSizeQuerySchema, siteParam } from "../routes/admin-experiments";
import { importQuerySchema, itemListQuerySchema } from "../routes/admin-sites";

/**
 * The HTTP contract: one entry per route the app registers ("METHOD /path" as Hono spells it),
 * with the very zod schemas the handler validates with. ./document.ts turns it into OpenAPI 3.1;
 * test/openapi.test.ts walks `app.routes` so that no route is missing here and none is stale.
 */

export type Tag =
  | "decisions"
  | "channels"
  | "consent"
  | "privacy"
  | "admin: sites"
  | "admin: models"
  | "admin: experiments"
  | "edge"
  | "console"
  | "demo"
  | "service";
/** Who may call (`apiKey`: a site's API key, for servers and apps): anyone (CORS-checked for a site's pages), the admin or privacy bearer token, the console's session cookie. */
export type Auth = "public" | "admin" | "privacy" | "console" | "apiKey";
type Body =
  | { schema: z.ZodType; type?: "application/json" | "multipart/form-data" | "application/x-www-form-urlencoded" }
  | { raw: string; type: string };

export type Operation = {
  summary: string;
  tag: Tag;
  auth: Auth;
  description?: string;
  query?: z.ZodObject;
  /** Path parameters other than plain strings. */
  params?: Record<string, z.ZodType>;
  body?: Body;
  /** The success status and its body: a schema, or a media type with no schema (HTML, JavaScript). */
  ok: { status: 200 | 201 | 202 | 302 | 303; schema?: z.ZodType; type?: string; description?: string };
};

const json = <S extends z.ZodType>(schema: S) => ({ schema });
const object = z.object({}).loose();
const site = { site: resourceId };
const page = (summary: string, extra: Partial<Operation> = {}): Operation => ({
  summary,
  tag: "console",
  auth: "console",
  ok: { status: 200, type: "text/html" },
  ...extra,
});
const form = (summary: string): Operation => page(summary, { ok: { status: 303, description: "back to the page, with the outcome" } });
const demo = (summary: string, type = "text/html"): Operation => ({ summary, tag: "demo", auth: "public", ok: { status: 200, type } });

export const operations = {
  "GET /openapi.json": { summary: "This document", tag: "service", auth: "public", ok: { status: 200, schema: object } },
  "GET /openapi": { summary: "This document as a readable page", tag: "service", auth: "public", ok: { status: 200, type: "text/html" } },
  "GET /health/live": { summary: "Liveness: the isolate answers", tag: "service", auth: "public", ok: { status: 200, schema: object } },
  "GET /health": {
    summary: "Readiness: bindings, model and catalogue",
    tag: "service",
    auth: "public",
    ok: { status: 200, schema: object },
  },

  "GET /v1/tag.js": {
    summary: "The script tag: fills [data-slot] elements and reports impressions and clicks",
    tag: "decisions",
    auth: "public",
    ok: { status: 200, type: "text/javascript" },
  },
  "GET /v1/decide": {
    summary: "Decide the content of a page's slots (the tag's query form)",
    tag: "decisions",
    auth: "public",
    query: decideQuerySchema,
    ok: { status: 200, schema: decideResponseSchema },
  },
  "POST /v1/decide": {
    summary: "Decide the content of a page's slots (a server, an app, an e-mail)",
    tag: "decisions",
    auth: "public",
    body: json(decideRequestSchema),
    ok: { status: 200, schema: decideResponseSchema },
  },
  "POST /v1/events": {
    summary: "Impressions, clicks, conversions, dismissals (JSON or sendBeacon's text/plain)",
    tag: "decisions",
    auth: "public",
    description:
      "Each event carries the signed token of its decision; the whole batch is refused if one is bad. `delivery=queued` (the default) queues the events before the 202; `delivery=batched` (the script tag's beacons) queues them after it, with the isolate's other beacons of the log window.",
    query: eventsQuerySchema,
    body: json(eventsRequestSchema),
    ok: { status: 202, schema: eventsAnswerSchema },
  },
  "GET /v1/why": {
    summary: "Why this content: one decision explained to its own visitor",
    tag: "decisions",
    auth: "public",
    query: whyQuerySchema,
    ok: { status: 200, schema: object },
  },
  "GET /v1/consent": {
    summary: "The visitor's consent state and pseudonymous id",
    tag: "consent",
    auth: "public",
    query: z.object({ site: resourceId }),
    ok: { status: 200, schema: consentStateSchema },
  },
  "POST /v1/consent": {
    summary: "Record the visitor's choice (personalization, measurement)",
    tag: "consent",
    auth: "public",
    body: json(consentRequestSchema),
    ok: { status: 200, schema: consentStateSchema },
  },

  "POST /v1/privacy/revocations": {
    summary: "Revoke a subject's consent and erase their data",
    tag: "privacy",
    auth: "privacy",
    body: json(revocationRequestSchema),
    ok: { status: 202, schema: z.object({ requestId: z.string() }) },
  },
  "GET /v1/privacy/requests": {
    summary: "Erasure requests",
    tag: "privacy",
    auth: "privacy",
    query: requestListSchema,
    ok: { status: 200, schema: object },
  },
  "GET /v1/privacy/requests/{id}": {
    summary: "One erasure request",
    tag: "privacy",
    auth: "privacy",
    ok: { status: 200, schema: privacyRequestStatusSchema },
  },
  "GET /v1/privacy/consent-log": {
    summary: "Consent records",
    tag: "privacy",
    auth: "privacy",
    query: consentListSchema,
    ok: { status: 200, schema: object },
  },
  "GET /v1/privacy/audit-log": {
    summary: "The audit log",
    tag: "privacy",
    auth: "privacy",
    query: auditListSchema,
    ok: { status: 200, schema: object },
  },
  "GET /v1/privacy/subjects/{id}/export": {
    summary: "Everything held about a subject",
    tag: "privacy",
    auth: "privacy",
    ok: { status: 200, schema: object },
  },

  "GET /v1/admin/sites": {
    summary: "List sites",
    tag: "admin: sites",
    auth: "admin",
    query: pageQuerySchema,
    ok: { status: 200, schema: sitePageSchema },
  },
  "POST /v1/admin/sites": {
    summary: "Create a site",
    tag: "admin: sites",
    auth: "admin",
    body: json(siteInputSchema),
    ok: { status: 201, schema: siteViewSchema },
  },
  "GET /v1/admin/sites/{site}": {
    summary: "Show a site",
    tag: "admin: sites",
    auth: "admin",
    params: site,
    ok: { status: 200, schema: siteDetailSchema },
  },
  "PATCH /v1/admin/sites/{site}": {
    summary: "Update a site",
    tag: "admin: sites",
    auth: "admin",
    params: site,
    body: json(siteUpdateSchema),
    ok: { status: 200, schema: siteViewSchema },
  },
  "POST /v1/admin/sites/{site}/archive": {
    summary: "Archive a site",
    tag: "admin: sites",
    auth: "admin",
    params: site,
    ok: { status: 200, schema: siteViewSchema },
  },
  "GET /v1/admin/sites/{site}/slots": {
    summary: "List a site's slots",
    tag: "admin: sites",
    auth: "admin",
    params: site,
    ok: { status: 200, schema: z.object({ slots: z.array(slotViewSchema) }) },
  },
  "POST /v1/admin/sites/{site}/slots": {
    summary: "Create a slot",
    tag: "admin: sites",
    auth: "admin",
    params: site,
    body: json(slotInputSchema),
    ok: { status: 201, schema: slotViewSchema },
  },
  "PATCH /v1/admin/sites/{site}/slots/{slot}": {
    summary: "Update a slot",
    tag: "admin: sites",
    auth: "admin",
    params: { ...site, slot: resourceId },
    body: json(slotUpdateSchema),
    ok: { status: 200, schema: slotViewSchema },
  },
  "POST /v1/admin/sites/{site}/slots/{slot}/archive": {
    summary: "Archive a slot",
    tag: "admin: sites",
    auth: "admin",
    params: { ...site, slot: resourceId },
    ok: { status: 200, schema: slotViewSchema },
  },
  "GET /v1/admin/sites/{site}/items": {
    summary: "List a site's items",
    tag: "admin: sites",
    auth: "admin",
    params: site,
    query: itemListQuerySchema,
    ok: { status: 200, schema: itemPageSchema },
  },
  "GET /v1/admin/sites/{site}/items/{item}": {
    summary: "Show an item",
    tag: "admin: sites",
    auth: "admin",
    params: { ...site, item: itemId },
    ok: { status: 200, schema: itemViewSchema },
  },
  "PUT /v1/admin/sites/{site}/items/{item}": {
    summary: "Create or replace an item",
    tag: "admin: sites",
    auth: "admin",
    params: { ...site, item: itemId },
    body: json(z.object(itemInputSchema.shape).partial({ id: true })),
    ok: { status: 200, schema: itemViewSchema },
  },
  "POST /v1/admin/sites/{site}/items/{item}/archive": {
    summary: "Archive an item",
    tag: "admin: sites",
    auth: "admin",
    params: { ...site, item: itemId },
    ok: { status: 200, schema: itemViewSchema },
  },
  "POST /v1/admin/sites/{site}/items/import": {
    summary: "Import a catalogue feed (CSV or Google Merchant Center XML) as a diff",
    tag: "admin: sites",
    auth: "admin",
    description:
      "Added, changed, archived, and refused rows with their line and reason; `dryRun=true` previews. Bad rows change nothing else.",
    params: site,
    query: importQuerySchema,
    body: { raw: "the feed", type: "text/csv" },
    ok: { status: 201, schema: importResultSchema, description: "the diff (200 for a dry run)" },
  },
  "GET /v1/admin/sites/{site}/imports": {
    summary: "A site's latest imports (uploads and feed URL fetches), newest first, with why any failed",
    tag: "admin: sites",
    auth: "admin",
    params: site,
    ok: { status: 200, schema: z.object({ imports: z.array(importRecordSchema) }) },
  },
  "GET /v1/admin/sites/{site}/policy": {
    summary: "A site's policy",
    tag: "admin: experiments",
    auth: "admin",
    params: { site: siteParam },
    ok: { status: 200, schema: sitePolicySchema },
  },
  "PUT /v1/admin/sites/{site}/policy": {
    summary: "Replace a site's policy",
    tag: "admin: experiments",
    auth: "admin",
    params: { site: siteParam },
    body: json(sitePolicySchema),
    ok: { status: 200, schema: sitePolicySchema },
  },
  "PATCH /v1/admin/sites/{site}/policy": {
    summary: "Change sections of a site's policy",
    tag: "admin: experiments",
    auth: "admin",
    params: { site: siteParam },
    body: json(z.object(sitePolicySchema.shape).partial()),
    ok: { status: 200, schema: sitePolicySchema },
  },
  "GET /v1/admin/sites/{site}/variants": {
    summary: "A site's creative variants",
    tag: "admin: experiments",
    auth: "admin",
    params: { site: siteParam },
    ok: { status: 200, schema: object },
  },
  "POST /v1/admin/sites/{site}/variants": {
    summary: "Import variants (screened, then pending review)",
    tag: "admin: experiments",
    auth: "admin",
    params: { site: siteParam },
    body: json(variantImportRequestSchema),
    ok: { status: 200, schema: object },
  },
  "POST /v1/admin/sites/{site}/variants/{contentId}/{id}/review": {
    summary: "Approve or reject a variant",
    tag: "admin: experiments",
    auth: "admin",
    params: { site: siteParam },
    body: json(reviewRequestSchema),
    ok: { status: 200, schema: object },
  },
  "GET /v1/admin/reports/performance": {
    summary: "Performance by slot and day",
    tag: "admin: experiments",
    auth: "admin",
    query: performanceQuerySchema,
    ok: { status: 200, schema: object },
  },
  "GET /v1/admin/reports/models": {
    summary: "Models: quality and drift",
    tag: "admin: models",
    auth: "admin",
    query: performanceQuerySchema,
    ok: { status: 200, schema: object },
  },
  "GET /v1/admin/reports/uplift": {
    summary: "Uplift against the holdout",
    tag: "admin: experiments",
    auth: "admin",
    query: performanceQuerySchema,
    ok: { status: 200, schema: object },
  },
  "GET /v1/admin/reports/experiments": {
    summary: "Experiments by arm",
    tag: "admin: experiments",
    auth: "admin",
    query: performanceQuerySchema,
    ok: { status: 200, schema: object },
  },
  "GET /v1/admin/reports/fairness": {
    summary: "Exposure by segment",
    tag: "admin: experiments",
    auth: "admin",
    query: performanceQuerySchema,
    ok: { status: 200, schema: object },
  },
  "GET /v1/admin/reports/variants": {
    summary: "Variants by language",
    tag: "admin: experiments",
    auth: "admin",
    query: performanceQuerySchema,
    ok: { status: 200, schema: object },
  },
  "POST /v1/admin/preview-tokens": {
    summary: "A QA preview token (forced arms, model, content)",
    tag: "admin: experiments",
    auth: "admin",
    body: json(previewRequestSchema),
    ok: { status: 201, schema: object },
  },
  "GET /v1/admin/sample-size": {
    summary: "Visitors needed per arm",
    tag: "admin: experiments",
    auth: "admin",
    query: sampleSizeQuerySchema,
    ok: { status: 200, schema: object },
  },
  "POST /v1/admin/visitors/import": {
    summary: "Import visitor profiles and tombstones",
    tag: "admin: sites",
    auth: "admin",
    body: json(visitorImportSchema),
    ok: { status: 200, schema: object },
  },

  "GET /v1/admin/sites/{site}/keys": {
    summary: "A site's API keys (never their secrets)",
    tag: "admin: sites",
    auth: "admin",
    params: site,
    ok: { status: 200, schema: object },
  },
  "POST /v1/admin/sites/{site}/keys": {
    summary: "Create an API key for servers and apps (its secret is in this answer only)",
    tag: "admin: sites",
    auth: "admin",
    params: site,
    body: json(apiKeyInputSchema),
    ok: { status: 201, schema: object },
  },
  "DELETE /v1/admin/sites/{site}/keys/{id}": {
    summary: "Revoke an API key: its next call gets 401",
    tag: "admin: sites",
    auth: "admin",
    params: { ...site, id: z.uuid() },
    ok: { status: 200, schema: object },
  },
  "POST /v1/identity/link": {
    summary: "Link a device to a customer (a server with its API key, or a signed-in page with a link token)",
    tag: "channels",
    auth: "public",
    description: "With an API key the body is a server's link request; without one, a page's link token from one of the site's origins.",
    body: json(z.union([linkRequestSchema, browserLinkRequestSchema])),
    ok: { status: 200, schema: object },
  },
  "POST /v1/identity/tokens": {
    summary: "Mint a short-lived link token for a signed-in page",
    tag: "channels",
    auth: "apiKey",
    body: json(linkTokenRequestSchema),
    ok: { status: 200, schema: object },
  },
  "POST /v1/email/tokens": {
    summary: "Mint signed recipient tokens for an e-mail's slots",
    tag: "channels",
    auth: "apiKey",
    body: json(recipientTokensRequestSchema),
    ok: { status: 200, schema: object },
  },
  "GET /v1/email/{site}/{image}": {
    summary: "An e-mail slot's image, chosen at open time (`<slot>.png?r=<recipient token>`): a redirect",
    tag: "channels",
    auth: "public",
    params: { ...site, image: z.string().regex(/\.png$/) },
    query: z.object({ r: z.string().describe("the signed recipient token") }),
    ok: { status: 302, description: "to the chosen content's image" },
  },
  "GET /v1/email/{site}/{slot}/click": {
    summary: "An e-mail slot's link: logs the click and redirects to the content shown at open",
    tag: "channels",
    auth: "public",
    params: { ...site, slot: resourceId },
    query: z.object({ r: z.string().describe("the signed recipient token"), d: z.string().optional() }),
    ok: { status: 302, description: "to the content's page on one of the site's origins" },
  },
  "POST /v1/privacy/customers/revocations": {
    summary: "Revoke a customer by customer id: every linked device, and erasure of each",
    tag: "privacy",
    auth: "privacy",
    body: json(customerSubjectRequestSchema),
    ok: { status: 202, schema: object },
  },
  "POST /v1/privacy/customers/export": {
    summary: "Everything held about a customer, with the devices linked to them",
    tag: "privacy",
    auth: "privacy",
    body: json(customerSubjectRequestSchema),
    ok: { status: 200, schema: object },
  },

  "GET /v1/admin/models": {
    summary: "The model registry and the serving config",
    tag: "admin: models",
    auth: "admin",
    ok: { status: 200, schema: object },
  },
  "PUT /v1/admin/models/{version}": {
    summary: "Push a model version (validated before it is stored)",
    tag: "admin: models",
    auth: "admin",
    params: { version: versionParam },
    body: { schema: pushFormSchema, type: "multipart/form-data" },
    ok: { status: 201, schema: object },
  },
  "POST /v1/admin/models/rollback": {
    summary: "Roll back to the previous version",
    tag: "admin: models",
    auth: "admin",
    ok: { status: 200, schema: servingChange() },
  },
  "POST /v1/admin/models/kill-switch": {
    summary: "Serve editors' defaults everywhere (or stop)",
    tag: "admin: models",
    auth: "admin",
    body: json(killBodySchema),
    ok: { status: 200, schema: servingChange() },
  },
  "POST /v1/admin/models/{version}/promote": {
    summary: "Promote a version to serve everyone",
    tag: "admin: models",
    auth: "admin",
    params: { version: versionParam },
    ok: { status: 200, schema: servingChange() },
  },
  "POST /v1/admin/models/{version}/canary": {
    summary: "Serve a version to a share of visitors",
    tag: "admin: models",
    auth: "admin",
    params: { version: versionParam },
    body: json(canaryBodySchema),
    ok: { status: 200, schema: servingChange() },
  },
  "POST /v1/admin/models/{version}/retire": {
    summary: "Retire a version",
    tag: "admin: models",
    auth: "admin",
    params: { version: versionParam },
    ok: { status: 200, schema: servingChange() },
  },

  "GET /admin/assets/{name}": page("A console asset (script, style)", {
    auth: "public",
    ok: { status: 200, type: "application/octet-stream" },
  }),
  "GET /admin/sign-in": page("Sign-in page", { auth: "public" }),
  "POST /admin/sign-in": form("Sign in with a token"),
  "POST /admin/sign-out": form("Sign out"),
  "GET /admin/performance": page("Performance"),
  "GET /admin/content": page("Content and variants"),
  "POST /admin/content/review": form("Review a variant"),
  "POST /admin/content/blocklist": form("Block or unblock content"),
  "GET /admin/models": page("Models"),
  "GET /admin/segments": page("Segments"),
  "POST /admin/models/promote": form("Promote a model"),
  "POST /admin/models/retire": form("Retire a model"),
  "POST /admin/models/rollback": form("Roll back the model"),
  "POST /admin/models/kill-switch": form("Switch the model off or on"),
  "GET /admin/experiments": page("Experiments"),
  "GET /admin/sites": page("Sites, slots and catalogue"),
  "POST /admin/sites/create": form("Create a site"),
  "POST /admin/sites/update": form("Update a site"),
  "POST /admin/sites/archive": form("Archive a site"),
  "POST /admin/sites/slots": form("Create or update a slot"),
  "POST /admin/sites/slots/archive": form("Archive a slot"),
  "POST /admin/sites/import": form("Upload a feed: its preview waits on the Sites page"),
  "POST /admin/sites/import/apply": form("Apply a previewed import"),
  "GET /admin/privacy": page("Privacy requests"),
  "POST /admin/privacy/revocations": form("Revoke and erase a subject"),
  "GET /admin/privacy/export": page("A subject's export", { ok: { status: 200, type: "application/json" } }),

  "GET /edge/{site}/{path}": {
    summary: "The site's origin page with its slots filled while it streams (HTMLRewriter)",
    tag: "edge",
    auth: "public",
    description: "Any other method, and any non-HTML answer, is passed to the origin unchanged.",
    params: { site: resourceId },
    ok: { status: 200, type: "text/html" },
  },

  "GET /demo/origin": demo("Demo shop: home (the edge route's origin)"),
  "GET /demo/origin/fr": demo("Demo shop: home in French"),
  "GET /demo/origin/large": demo("Demo shop: a large page"),
  "GET /demo/origin/logo.svg": demo("Demo shop: logo", "image/svg+xml"),
  "POST /demo/origin/newsletter": {
    summary: "Demo shop: newsletter form",
    tag: "demo",
    auth: "public",
    ok: { status: 201, type: "text/plain" },
  },
  "GET /demo/edge": { summary: "Demo: the shop through the edge route", tag: "demo", auth: "public", ok: { status: 302 } },
  "GET /demo/img/{file}": demo("Demo shop: an image", "image/svg+xml"),
  "GET /demo/products/{id}": demo("Demo shop: a product page"),
  "GET /demo/tag": demo("Demo: the shop with the script tag"),
} satisfies Record<string, Operation>;

/** What a lifecycle step answers: the registry rows it changed and the serving config it published. */
function servingChange() {
  return z.object({ changes: z.array(object), serving: servingConfigSchema });
}

export type OperationKey = keyof typeof operations;
