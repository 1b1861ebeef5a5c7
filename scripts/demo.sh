#!/usr/bin/env bash
# `make run`: starts a demo FHIR server (Medplum's FHIR router in memory) with healthgraph's own
# generated population, builds the same population's claims warehouse in SQLite (once; rebuilt only
# when the generator, the builder or DEMO_PATIENTS/DEMO_SEED change), then the gateway with the
# playground over both. Ctrl-C stops everything.
#
# The MongoDB lake joins as a third source (`lake`, kind mongo) when a MongoDB-wire server is at hand:
# MONGODB_URL if set; else the FerretDB of `make services` if it answers (127.0.0.1:$FERRETDB_PORT);
# else a FerretDB of the demo's own (the binary scripts/ferretdb/build.sh built) on $DEMO_FERRETDB_PORT
# with its data in .services/demo/ferretdb/. The same generated population is imported into its
# database `demo` (idempotent: unchanged bundles are skipped), and the gateway runs on a generated
# copy of demo/healthgraph.yaml with the lake source added. Without a server it says so in one line.
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

# --- the lake ------------------------------------------------------------------------------------
FERRETDB_PORT="${FERRETDB_PORT:-27018}"
DEMO_FERRETDB_PORT="${DEMO_FERRETDB_PORT:-27020}"
CONFIG="$ROOT/demo/healthgraph.yaml"
mongo_ping() {
  (cd "$ROOT" && node -e '
    const { MongoClient } = require("mongodb");
    const c = new MongoClient(process.argv[1], { serverSelectionTimeoutMS: 1500 });
    c.db("admin").command({ ping: 1 }).then(() => process.exit(0), () => process.exit(1)).finally(() => c.close());
  ' "$1") >/dev/null 2>&1
}
lake_base=""
lake_off=""
if [[ -n "${MONGODB_URL:-}" ]]; then
  if mongo_ping "$MONGODB_URL"; then lake_base="$MONGODB_URL"; else lake_off="MONGODB_URL ($MONGODB_URL) does not answer"; fi
elif mongo_ping "mongodb://127.0.0.1:$FERRETDB_PORT/"; then
  lake_base="mongodb://127.0.0.1:$FERRETDB_PORT/"
  echo "demo lake: using the FerretDB of make services on :$FERRETDB_PORT"
elif [[ -x "$("$ROOT/scripts/ferretdb/build.sh" --path)" ]]; then
  mkdir -p "$ROOT/.services/demo/ferretdb"
  "$("$ROOT/scripts/ferretdb/build.sh" --path)" --handler=sqlite --sqlite-url="file:$ROOT/.services/demo/ferretdb/" \
    --state-dir="$ROOT/.services/demo/ferretdb" --listen-addr="127.0.0.1:$DEMO_FERRETDB_PORT" --debug-addr="" \
    --telemetry=disable --log-level=WARN >"$ROOT/.services/demo-ferretdb.log" 2>&1 &
  FERRET_PID=$!
  trap 'kill $FHIR_PID $FERRET_PID 2>/dev/null || true' EXIT INT TERM
  for _ in $(seq 1 40); do
    mongo_ping "mongodb://127.0.0.1:$DEMO_FERRETDB_PORT/" && { lake_base="mongodb://127.0.0.1:$DEMO_FERRETDB_PORT/"; break; }
    kill -0 $FERRET_PID 2>/dev/null || break
    sleep 0.5
  done
  [[ -n "$lake_base" ]] && echo "demo lake: started FerretDB on :$DEMO_FERRETDB_PORT (data in .services/demo/ferretdb/)" ||
    lake_off="the demo's FerretDB did not start (see .services/demo-ferretdb.log)"
else
  lake_off="no MongoDB-wire server: set MONGODB_URL, run make services, or build FerretDB with scripts/ferretdb/build.sh"
fi
if [[ -n "$lake_base" ]]; then
  # The database `demo` on that server (any path or options in the URL are replaced).
  export DEMO_LAKE_URL="$(printf %s "$lake_base" | sed -E 's#^(mongodb(\+srv)?://[^/?]+)/?[^?]*#\1/demo#')"
  BUNDLES="$ROOT/.services/demo/bundles-$DEMO_PATIENTS-$DEMO_SEED"
  # Regenerated only when the generator changed (same files, same mtimes: the import skips them).
  if [[ ! -f "$BUNDLES/.done" || "$ROOT/dist/src/demo/generate.js" -nt "$BUNDLES/.done" ]]; then
    rm -rf "$BUNDLES"
    node -e 'require(process.argv[1]).writePopulation(process.argv[2], { patients: Number(process.argv[3]), seed: Number(process.argv[4]) })' \
      "$ROOT/dist/src/demo/generate.js" "$BUNDLES" "$DEMO_PATIENTS" "$DEMO_SEED"
    touch "$BUNDLES/.done"
  fi
  if "$ROOT/bin/healthgraph" lake import --url "$DEMO_LAKE_URL" "$BUNDLES" --quiet | sed -u 's/^/demo lake: /'; then
    CONFIG="$ROOT/.services/demo/healthgraph.yaml"
    node -e '
      const fs = require("fs"); const { parseDocument } = require("yaml");
      const doc = parseDocument(fs.readFileSync(process.argv[1], "utf8"));
      doc.get("sources").add(doc.createNode({ id: "lake", kind: "mongo", url: "${DEMO_LAKE_URL}", mapping: "fhir", maxTimeMs: 10000 }));
      fs.writeFileSync(process.argv[2], "# Generated by scripts/demo.sh: demo/healthgraph.yaml plus the MongoDB lake (source lake).\n" + doc.toString());
    ' "$ROOT/demo/healthgraph.yaml" "$CONFIG"
    echo "demo lake: $DEMO_LAKE_URL (source \"lake\", the same population imported by healthgraph lake import)"
  else
    lake_off="importing the demo population into $DEMO_LAKE_URL failed"
  fi
fi
[[ -z "$lake_off" ]] || echo "demo lake: off ($lake_off)"

echo "playground: open http://127.0.0.1:$PORT/graphql (example queries are in the tabs)"
export DEMO_FHIR_URL="http://127.0.0.1:$DEMO_FHIR_PORT/fhir"
"$ROOT/bin/healthgraph" serve --config "$CONFIG" --port "$PORT"
