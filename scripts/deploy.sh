#!/usr/bin/env bash
# Deploys to a real Cloudflare account: `npm run deploy -- staging|production`.
# Creates the raw log's storage when it is missing (the R2 bucket with its R2 Data Catalog, the
# lifecycle rule that deletes batch files after RETENTION_DAYS, and the Pipelines stream, Iceberg
# sink and pipeline: docs/operator.md, "The raw log"), applies the remote D1 migrations, deploys the worker,
# and registers the bundled default model as the live version if the registry has none.
# The Iceberg sink needs an R2 API token with catalog and R2 permissions in CATALOG_TOKEN.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-}"
case "$target" in
  staging|production) ;;
  *) echo "usage: npm run deploy -- staging|production" >&2; exit 2 ;;
esac
export WRANGLER_SEND_METRICS=false

bucket="edge-personalizer-log-$target"
stream="edge_personalizer_log_${target}_stream"
sink="edge_personalizer_log_${target}_sink"
retention_days="$(sed -n 's/.*RETENTION_DAYS = "\([0-9]*\)".*/\1/p' wrangler.toml | head -1)"

# Idempotent steps: "already exists" is fine, anything else stops the deploy.
quietly_existing() { local out; if ! out="$("$@" 2>&1)"; then grep -qi "already exists\|already enabled" <<<"$out" || { echo "$out" >&2; return 1; }; fi; }

quietly_existing npx wrangler r2 bucket create "$bucket"
quietly_existing npx wrangler r2 bucket catalog enable "$bucket"
# Batch files (LOG_SINK = "r2") expire by day of upload; the Iceberg table's retention is a DELETE (docs/operator.md).
npx wrangler r2 bucket lifecycle add "$bucket" log-retention log/ --expire-days "${retention_days:-90}" --force
if ! npx wrangler pipelines streams get "$stream" >/dev/null 2>&1; then
  : "${CATALOG_TOKEN:?set CATALOG_TOKEN to an R2 API token with R2 Data Catalog and R2 read/write permissions}"
  npx wrangler pipelines streams create "$stream" --schema-file schemas/log-stream.v1.json --http-enabled=false
  npx wrangler pipelines sinks create "$sink" --type r2-data-catalog --bucket "$bucket" \
    --namespace edge_personalizer --table log --catalog-token "$CATALOG_TOKEN" --compression zstd --roll-interval 300
  npx wrangler pipelines create "edge_personalizer_log_$target" --sql "INSERT INTO $sink SELECT * FROM $stream"
  echo "created the log stream: put its id (npx wrangler pipelines streams get $stream) in wrangler.toml [env.$target] pipelines, then deploy again" >&2
fi

npx wrangler d1 migrations apply DB --remote --env "$target"
npx wrangler deploy --env "$target"
npx tsx scripts/model.ts register-bundled --env "$target"
