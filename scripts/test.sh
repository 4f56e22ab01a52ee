#!/usr/bin/env bash
# `npm test`: installs the npm dependencies on a fresh checkout, then runs the vitest projects
# (workerd and node side by side, then Chromium's, skipped without Debian's chromium; see
# test/README.md). Arguments go to vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
export WRANGLER_SEND_METRICS=false
# Local request.cf comes from a fallback, not from a download of cf.json: nothing needs the internet.
export CLOUDFLARE_CF_FETCH_ENABLED=false
[ -d node_modules ] || npm ci --no-audit --no-fund
exec npx vitest run "$@"
