#!/usr/bin/env bash
# `make run`: starts a demo FHIR server (Medplum's FHIR router in memory) with healthgraph's own
# generated population, builds the same population's claims warehouse in SQLite (once; rebuilt only
# when the generator, the builder or DEMO_PATIENTS/DEMO_SEED change), then the gateway with the
# playground over both. Ctrl-C stops everything.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT="${1:-4000}"
DEMO_FHIR_PORT="${DEMO_FHIR_PORT:-8090}"
DEMO_PATIENTS="${DEMO_PATIENTS:-40}"
DEMO_SEED="${DEMO_SEED:-1}"
mkdir -p "$ROOT/.services/demo"
LOG="$ROOT/.services/demo-fhir.log"
export DEMO_CLAIMS_DB="$ROOT/.services/demo/claims.db"
export DEMO_AUDIT_FILE="$ROOT/.services/demo/audit.sqlite"

node "$ROOT/dist/test/peers/sql/claims/demo.js" --patients "$DEMO_PATIENTS" --seed "$DEMO_SEED" --out "$DEMO_CLAIMS_DB" \
  | sed -u 's/^/demo claims warehouse: /'

node "$ROOT/dist/test/peers/fhir-server.js" --port "$DEMO_FHIR_PORT" --demo "$DEMO_PATIENTS" --seed "$DEMO_SEED" >"$LOG" 2>&1 &
FHIR_PID=$!
trap 'kill $FHIR_PID 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 120); do
  grep -q '^ready' "$LOG" 2>/dev/null && break
  kill -0 $FHIR_PID 2>/dev/null || { echo "demo FHIR server failed to start:"; tail -n 20 "$LOG"; exit 1; }
  sleep 0.5
done
echo "demo FHIR server: $(grep '^ready' "$LOG")"
echo "demo claims warehouse: $DEMO_CLAIMS_DB (source \"claims\")"
echo "playground: open http://127.0.0.1:$PORT/graphql (example queries are in the tabs)"
export DEMO_FHIR_URL="http://127.0.0.1:$DEMO_FHIR_PORT/fhir"
"$ROOT/bin/healthgraph" serve --config "$ROOT/demo/healthgraph.yaml" --port "$PORT"
