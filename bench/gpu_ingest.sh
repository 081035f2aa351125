#!/usr/bin/env bash
# GPU ingest benchmark, prepared to run as is on a machine with an NVIDIA GPU:
# installs citebot with a CUDA build of torch, ingests a synthetic corpus of CHUNKS chunks on the GPU,
# prints the model's chunks/s alone and citebot's chunks/s end to end (bench/gpu_ingest.py).
#
#   bench/gpu_ingest.sh [CHUNKS]          # default 100000
#
# Environment:
#   PYTHON           interpreter to build the venv from (default python3; 3.11 or newer)
#   VENV             the venv folder (default .venv-gpu); made with --system-site-packages, so a CUDA torch the
#                    machine already has is reused instead of downloaded
#   TORCH_INDEX_URL  where pip finds a CUDA torch when none is installed (default: PyPI, whose Linux wheels are CUDA)
#   WHEELS           a folder of wheels to install from instead of the network (pip --no-index --find-links)
#   BATCH            texts per model batch (default 1024); INGEST_BATCH chunks per write (default 4096)
set -euo pipefail
cd "$(dirname "$0")/.."

CHUNKS=${1:-100000}
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv-gpu}
BATCH=${BATCH:-1024}
INGEST_BATCH=${INGEST_BATCH:-4096}
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=true

if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu_ingest.sh: no NVIDIA GPU visible (nvidia-smi fails); run it on a GPU machine" >&2
  exit 1
fi
nvidia-smi -L

PIP_SOURCE=()
if [ -n "${WHEELS:-}" ]; then PIP_SOURCE=(--no-index --find-links "$WHEELS"); fi

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv --system-site-packages "$VENV"
PY="$VENV/bin/python"
"$PY" -m pip install --quiet --upgrade pip "${PIP_SOURCE[@]}" || true

if ! "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
  echo "installing a CUDA build of torch"
  if [ -n "${TORCH_INDEX_URL:-}" ]; then
    "$PY" -m pip install --quiet torch --index-url "$TORCH_INDEX_URL"
  else
    "$PY" -m pip install --quiet "${PIP_SOURCE[@]}" torch
  fi
fi
"$PY" -m pip install --quiet "${PIP_SOURCE[@]}" -e .
"$PY" -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda, torch.cuda.get_device_name(0))"

"$PY" bench/gpu_ingest.py --chunks "$CHUNKS" --device cuda --batch "$BATCH" --ingest-batch "$INGEST_BATCH"
