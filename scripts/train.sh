#!/usr/bin/env bash
# npm run train -- [--obd DIR --policies random] | [--interactions CSV --items CSV --users CSV]
#                  | [--events NDJSON]  --out DIR --version NAME [--epochs N] [--seed N] ...
#
# Trains a ranking model: scripts/train/train.ts reads the data and encodes it with the worker's own
# encoder, scripts/train/train.py (PyTorch) trains and exports the int8 ONNX model, and the
# TypeScript side writes manifest.json, MODEL_CARD.md, parity.json, demo data and profiles.ndjson.
# With no data flag it retrains the bundled default (models/default) on the OBD sample's random/
# logs. `npm run train -- --help` lists every option. Relative paths are taken from the repo root.
#
# Needs Debian's Python with torch, onnx and numpy (python3-torch, python3-onnx, python3-numpy),
# installed here with apt-get when missing and we are root, with OpenBLAS (libopenblas0-pthread):
# Debian's torch calls the system BLAS, and the reference one that is installed by default makes
# the sequence trainer several times slower. We always call /usr/bin/python3: another python3
# earlier on PATH may not see the Debian packages.
set -euo pipefail

cd "$(dirname "$0")/.."
PY=/usr/bin/python3
APT_PACKAGES="python3-torch python3-onnx python3-numpy libopenblas0-pthread"

have_deps() {
  [ -x "$PY" ] && "$PY" -c "import torch, onnx, numpy" >/dev/null 2>&1
}

if ! have_deps; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "train.sh: installing $APT_PACKAGES with apt-get" >&2
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y $APT_PACKAGES
  else
    echo "train.sh: $PY cannot import torch, onnx and numpy. Install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y $APT_PACKAGES" >&2
    exit 1
  fi
  have_deps || { echo "train.sh: $PY still cannot import torch, onnx, numpy" >&2; exit 1; }
fi

npx tsx scripts/train/train.ts "$@"

# The bundled default is also checked inside workerd, as the worker serves it (the training run has
# already checked any model with the worker's encoder and onnxruntime-web in Node).
out=models/default
prev=""
for arg in "$@"; do
  case "$arg" in -h | --help) exit 0 ;; --out=*) out="${arg#--out=}" ;; esac
  if [ "$prev" = "--out" ]; then out="$arg"; fi
  prev="$arg"
done
if [ "$(realpath -m "$out")" = "$(realpath -m models/default)" ]; then
  echo "checking models/default/parity.json with the worker's encoder in workerd ..."
  WRANGLER_SEND_METRICS=false npx vitest run --project workerd test/parity.test.ts
fi
