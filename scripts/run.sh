#!/usr/bin/env bash
# Quick start: set up, then run the main job on the embedded store (./data/graph): load the demo data
# (two tenants; re-running changes nothing) and show what the store holds.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/salescopilot demo
.venv/bin/salescopilot stats
