#!/usr/bin/env bash
# Runs the worker locally with seeded data and the bundled default model: applies the local D1
# migrations, seeds the demo site, then serves on $PORT (default 8787). Nothing needs internet.
set -euo pipefail
cd "$(dirname "$0")/.."
export WRANGLER_SEND_METRICS=false
# Local request.cf comes from a fallback, not from a download of cf.json: nothing needs the internet.
export CLOUDFLARE_CF_FETCH_ENABLED=false
[ -d node_modules ] || npm ci --no-audit --no-fund
[ -f .dev.vars ] || cp .dev.vars.example .dev.vars
npx wrangler d1 migrations apply DB --local
npx tsx scripts/seed.ts
exec npx wrangler dev --local --port "${PORT:-8787}" --ip "${HOST:-127.0.0.1}"
