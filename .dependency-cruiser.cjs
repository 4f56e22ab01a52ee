/**
 * The worker's layers, checked in CI (`npm run check` runs `depcruise worker`). From the bottom:
 *
 *   lib     worker/lib        errors, signing, caches, typed configuration: no project imports
 *   wire    worker/wire       zod contracts of what crosses the network or the queue
 *   store   worker/store      persistence: drizzle tables, D1/KV/Durable Object access
 *   domain  worker/<domain>   decisions, consent, events, experiments, inference, models, privacy,
 *                             rewrite, site, variants, ...: plain functions, no HTTP framework
 *   http    worker/http       Hono: routes, middleware, console pages, request adapters
 *   entry   worker/index.ts   the table of contents: app, queue(), scheduled()
 *
 * A module imports its own layer or the ones below it, never above; no import cycles; Hono only
 * in the http layer. docs/architecture.md explains why.
 */
const DOMAIN = "^worker/(?!lib/|wire/|store/|http/|index\\.ts|env\\.d\\.ts)";
module.exports = {
  forbidden: [
    {
      name: "lib-is-the-bottom",
      comment: "worker/lib holds project-independent helpers: it imports nothing else of the worker.",
      severity: "error",
      from: { path: "^worker/lib/" },
      to: { path: "^worker/(?!lib/|env\\.d\\.ts)" },
    },
    {
      name: "wire-above-lib-only",
      comment: "Wire contracts depend on lib only, so that clients, scripts and tests can import them alone.",
      severity: "error",
      from: { path: "^worker/wire/" },
      to: { path: "^worker/(?!lib/|wire/|env\\.d\\.ts)" },
    },
    {
      name: "store-below-domain",
      comment: "Persistence knows tables and bindings, not the domain that uses them.",
      severity: "error",
      from: { path: "^worker/store/" },
      to: { path: "^worker/(?!lib/|wire/|store/|env\\.d\\.ts)" },
    },
    {
      name: "domain-below-http",
      comment: "Domain code is called by the HTTP layer and the queue/scheduled handlers; it never calls them.",
      severity: "error",
      from: { path: DOMAIN },
      to: { path: "^worker/(http/|index\\.ts)" },
    },
    {
      name: "http-below-entry",
      severity: "error",
      from: { path: "^worker/http/" },
      to: { path: "^worker/index\\.ts" },
    },
    {
      name: "hono-in-http-only",
      comment: "Only the HTTP layer (and the entry) speaks Hono; the rest takes plain values.",
      severity: "error",
      from: { path: "^worker/(?!http/|index\\.ts)" },
      to: { path: "node_modules/hono/" },
    },
    {
      name: "no-cycles",
      severity: "error",
      from: { path: "^worker/" },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    exclude: { path: "\\.(onnx|wasm|json)$" },
  },
};
