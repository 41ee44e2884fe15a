#!/usr/bin/env bash
# Quick start: set up, then run the main job on the embedded store (./data/graph).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/salescopilot init
.venv/bin/salescopilot stats
