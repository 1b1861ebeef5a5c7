#!/usr/bin/env bash
# `make bench`: every benchmark, one after another, each printing its figures, goals and how it ran.
# BENCH_ONLY="gateway sql" runs a subset. Results land in bench/results/ (not committed).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
declare -A ENTRY=(
  [gateway]=dist/bench/run.js        # issue 2: single read and patient summary vs the upstream's $graphql
  [engines]=dist/bench/engines.js    # issue 2: gateway CPU per summary, graphql-jit vs graphql-js vs a 16 MB young generation
  [sql]=dist/bench/sql.js            # issue 3: OMOP cohort query vs hand-written SQL
  [pipeline]=dist/bench/pipeline.js  # issue 3: the same query, the gateway's own work alone (SQL answers replayed from memory)
  [sqljson]=dist/bench/sql-json.js   # issue 3: the same answer built as JSON by PostgreSQL (Hasura's design) vs hand-written SQL
  [lake]=dist/bench/lake.js          # issue 4: lake import throughput and summary query
  [identity]=dist/bench/identity.js  # issue 5: linkage throughput on 1,000,000 records
  [timeline]=dist/bench/timeline.js  # issue 5: timeline latency for a 5,000-event patient
  [security]=dist/bench/security.js  # issue 6: summary with auth + consent vs without
)
ORDER=(gateway engines sql pipeline sqljson lake identity timeline security)
status=0
for name in ${BENCH_ONLY:-${ORDER[@]}}; do
  file="${ENTRY[$name]:-}"
  if [[ -z "$file" || ! -f "$file" ]]; then
    echo "== $name: not built, skipped"
    continue
  fi
  echo
  echo "== bench: $name (node $file)"
  node "$file" || { echo "== $name: FAILED (exit $?)"; status=1; }
done
exit $status
