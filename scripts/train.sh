#!/usr/bin/env bash
# Train the default ranking model (models/default/) from the Open Bandit Dataset sample.
#
#   bash scripts/train.sh [--obd DIR] [--out DIR] [--seed N] [--epochs N] ...
#
# Arguments are passed to scripts/train/train.py (see --help). Defaults: data from
# ../shared/data/obd (relative to the repo root), output to models/default/, the fp32
# model to scripts/train/out/ (git-ignored). Relative paths are taken from the repo root.
#
# Needs Debian's Python with torch, onnx and numpy (python3-torch, python3-onnx,
# python3-numpy). We always call /usr/bin/python3: another python3 earlier on PATH may
# not see the Debian packages. With the npm dependencies installed, the result is then
# checked by the worker's parity test (test/parity.test.ts).
set -euo pipefail

cd "$(dirname "$0")/.."
PY=/usr/bin/python3
APT_PACKAGES="python3-torch python3-onnx python3-numpy"

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

export PYTHONDONTWRITEBYTECODE=1
"$PY" scripts/train/train.py "$@"
case " $* " in *" -h "* | *" --help "*) exit 0 ;; esac

# Cross-check with the worker's own encoder and onnxruntime-web inside workerd (the parity test
# reads models/default/parity.json); skipped when the npm dependencies are not installed.
if [ -d node_modules/onnxruntime-web ]; then
  echo "checking models/default/parity.json with the worker's encoder in workerd ..."
  WRANGLER_SEND_METRICS=false npx vitest run test/parity.test.ts
else
  echo "(npm dependencies not installed: skipped the worker parity check)"
fi
