#!/usr/bin/env bash
# Quick start: set up, load the demo data into the embedded store (./data) when its tenants are empty — a store
# that holds data (the demo as loaded, or anything a user changed since) is left exactly as it is — create demo
# API keys once (./data/demo-keys.tsv), then serve the API on http://127.0.0.1:8000 (OpenAPI at /docs).
# Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/salescopilot demo --if-empty
.venv/bin/salescopilot stats
keys=data/demo-keys.tsv
if [ ! -s "$keys" ]; then
  for tenant in hz-pharma sh-pharma; do
    # a rep key reads only its rep's customers: the demo rep is the one who owns the first customer (C-HZ-00001 …)
    rep="R-$( [ "$tenant" = hz-pharma ] && echo HZ || echo SH )-001"
    .venv/bin/salescopilot keys create --tenant "$tenant" --role rep --rep "$rep" --name "demo rep" -o "$keys" >/dev/null
    for role in trainer admin service store safety; do
      .venv/bin/salescopilot keys create --tenant "$tenant" --role "$role" --name "demo $role" -o "$keys" >/dev/null
    done
    # a second trainer: publishing needs four eyes (the publisher is not the text's last editor)
    .venv/bin/salescopilot keys create --tenant "$tenant" --role trainer --name "demo reviewer" -o "$keys" >/dev/null
  done
fi
echo "demo API keys (role, tenant, key) in $keys:"
cat "$keys"
exec .venv/bin/salescopilot serve "$@"
