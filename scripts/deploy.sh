#!/usr/bin/env bash
# Deploys to a real Cloudflare account: `npm run deploy -- staging|production`.
# Applies the remote D1 migrations, deploys the worker, and registers the bundled default model
# as the live version if the registry has none (the worker serves it from the bundle).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-}"
case "$target" in
  staging|production) ;;
  *) echo "usage: npm run deploy -- staging|production" >&2; exit 2 ;;
esac
export WRANGLER_SEND_METRICS=false
npx wrangler d1 migrations apply DB --remote --env "$target"
npx wrangler deploy --env "$target"
npx tsx scripts/model.ts register-bundled --env "$target"
