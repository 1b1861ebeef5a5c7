#!/usr/bin/env bash
# `make run`: starts a demo FHIR server (Medplum's FHIR router in memory) with healthgraph's own
# generated population, then the gateway with the playground. Ctrl-C stops both.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT="${1:-4000}"
DEMO_FHIR_PORT="${DEMO_FHIR_PORT:-8090}"
DEMO_PATIENTS="${DEMO_PATIENTS:-40}"
mkdir -p "$ROOT/.services"
LOG="$ROOT/.services/demo-fhir.log"

node "$ROOT/dist/test/peers/fhir-server.js" --port "$DEMO_FHIR_PORT" --demo "$DEMO_PATIENTS" >"$LOG" 2>&1 &
FHIR_PID=$!
trap 'kill $FHIR_PID 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 120); do
  grep -q '^ready' "$LOG" 2>/dev/null && break
  kill -0 $FHIR_PID 2>/dev/null || { echo "demo FHIR server failed to start:"; tail -n 20 "$LOG"; exit 1; }
  sleep 0.5
done
echo "demo FHIR server: $(grep '^ready' "$LOG")"
echo "playground: open http://127.0.0.1:$PORT/graphql (example queries are in the tabs)"
export DEMO_FHIR_URL="http://127.0.0.1:$DEMO_FHIR_PORT/fhir"
"$ROOT/bin/healthgraph" serve --config "$ROOT/demo/healthgraph.yaml" --port "$PORT"
