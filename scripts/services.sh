#!/usr/bin/env bash
# Starts, stops and reports the local services that integration tests, benchmarks and the demo use.
#
#   scripts/services.sh start    # start every service that is not already running and healthy
#   scripts/services.sh stop     # stop every service this script started
#   scripts/services.sh status   # one line per service; exit 1 if any is down
#
# Each service is one set of functions (<name>_start, <name>_stop, <name>_healthy, <name>_describe)
# listed in SERVICES; add a service by writing those and appending its name. Pid files and logs live
# in .services/. Services run the compiled JavaScript in dist/ (build first: npx tsc -p tsconfig.build.json).
#
# Environment: FHIR_PORT (8081), FAULTY_PORT (8082), FHIR_SYNTHEA_PATIENTS (60), SERVICES_HOST (127.0.0.1),
#              SERVICES_TIMEOUT (seconds to wait for readiness, 90),
#              PG_PORT (5433), MARIADB_PORT (3307), CLAIMS_SYNTHEA_PATIENTS (FHIR_SYNTHEA_PATIENTS),
#              FERRETDB_PORT (27018), FERRETDB_GOGC (400), HG_TOOLS_DIR (where FerretDB is built, ~/.cache/healthgraph).
#
# A service may also define <name>_available, which prints why and fails when the service cannot run on
# this machine (e.g. its Debian package is missing and we are not root); it is then skipped, and the
# tests that need it skip themselves.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="$ROOT/.services"
HOST="${SERVICES_HOST:-127.0.0.1}"
TIMEOUT="${SERVICES_TIMEOUT:-90}"
FHIR_PORT="${FHIR_PORT:-8081}"
FAULTY_PORT="${FAULTY_PORT:-8082}"
FHIR_SYNTHEA_PATIENTS="${FHIR_SYNTHEA_PATIENTS:-60}"

PG_PORT="${PG_PORT:-5433}"
MARIADB_PORT="${MARIADB_PORT:-3307}"
FERRETDB_PORT="${FERRETDB_PORT:-27018}"
# The test databases' login (loopback only): a read-write owner and a read-only user.
SQL_USER=healthgraph
SQL_PASSWORD=healthgraph
SQL_RO_USER=healthgraph_ro
SQL_RO_PASSWORD=healthgraph_ro

SERVICES=(fhir faulty postgres mariadb sqldata ferretdb)

mkdir -p "$STATE_DIR"

# --- helpers -------------------------------------------------------------------------------------

pid_file() { echo "$STATE_DIR/$1.pid"; }
log_file() { echo "$STATE_DIR/$1.log"; }

# The pid of a service we started, if that process is still alive.
running_pid() {
  local file pid
  file="$(pid_file "$1")"
  [[ -f "$file" ]] || return 1
  pid="$(cat "$file")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

http_ok() {
  curl --silent --fail --max-time 2 --output /dev/null "$1"
}

# Starts a node process in the background, detached from this shell, recording its pid.
spawn() {
  local name="$1"; shift
  : >"$(log_file "$name")"
  nohup node "$@" >>"$(log_file "$name")" 2>&1 </dev/null &
  echo $! >"$(pid_file "$name")"
}

# Polls a health function until it succeeds, the process dies, or the timeout passes.
wait_ready() {
  local name="$1" health="$2" deadline=$((SECONDS + TIMEOUT))
  while ((SECONDS < deadline)); do
    if "$health"; then
      echo "$name: ready ($("${name}_describe"))"
      return 0
    fi
    if ! running_pid "$name" >/dev/null; then
      echo "$name: exited during startup; last log lines:" >&2
      tail -n 20 "$(log_file "$name")" >&2
      return 1
    fi
    sleep 0.5
  done
  echo "$name: not ready after ${TIMEOUT}s; last log lines:" >&2
  tail -n 20 "$(log_file "$name")" >&2
  return 1
}

# Sends SIGTERM and waits up to $2 tenths of a second (default 50) before SIGKILL.
stop_pid() {
  local name="$1" tries="${2:-50}" pid
  if pid="$(running_pid "$name")"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 "$tries"); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -9 "$pid" 2>/dev/null || true
    fi
    echo "$name: stopped (pid $pid)"
  else
    echo "$name: not running"
  fi
  rm -f "$(pid_file "$name")"
}

require_build() {
  if [[ ! -f "$ROOT/dist/test/peers/$1" ]]; then
    echo "dist/test/peers/$1 is missing: build first (npx tsc -p tsconfig.build.json)" >&2
    return 1
  fi
}

# Starts a service unless it is already healthy; a started-but-unhealthy one is restarted.
ensure_started() {
  local name="$1" why
  if declare -F "${name}_available" >/dev/null && ! why="$("${name}_available" 2>&1)"; then
    echo "$name: skipped ($why)"
    return 0
  fi
  if "${name}_healthy"; then
    echo "$name: already running ($("${name}_describe"))"
    return 0
  fi
  if running_pid "$name" >/dev/null; then
    echo "$name: running but not healthy; restarting"
    "${name}_stop" >/dev/null
  fi
  "${name}_start"
  wait_ready "$name" "${name}_healthy"
}

# --- FHIR peer: Medplum's FHIR router over an in-memory repository, Synthea data --------------------

fhir_url() { echo "http://$HOST:$FHIR_PORT/fhir"; }
fhir_healthy() { http_ok "$(fhir_url)/metadata"; }
fhir_describe() { echo "$(fhir_url), $(grep -m1 '^ready' "$(log_file fhir)" 2>/dev/null | cut -d' ' -f3-4 || true)"; }
fhir_start() {
  require_build fhir-server.js
  spawn fhir "$ROOT/dist/test/peers/fhir-server.js" --port "$FHIR_PORT" --host "$HOST" --synthea "$FHIR_SYNTHEA_PATIENTS"
}
fhir_stop() { stop_pid fhir; }

# --- Faulty peer: a misbehaving reverse proxy in front of the FHIR peer ----------------------------

faulty_url() { echo "http://$HOST:$FAULTY_PORT"; }
faulty_healthy() { http_ok "$(faulty_url)/ok/fhir/metadata"; }
faulty_describe() { echo "$(faulty_url)/{ok,slow/MS,fail/STATUS,flaky/KEY/N,reset,hang,garbage,count/KEY}/fhir"; }
faulty_start() {
  require_build faulty-server.js
  spawn faulty "$ROOT/dist/test/peers/faulty-server.js" --port "$FAULTY_PORT" --host "$HOST" --upstream "$(fhir_url)"
}
faulty_stop() { stop_pid faulty; }

# --- Test databases: PostgreSQL and MariaDB from the Debian packages, run directly (no systemd) -----
#
# Each server keeps its data directory, socket and server log in .services/<name>/ — or, when we are
# root and the server's system user cannot reach this checkout (say it lies under /root), in
# /var/tmp/healthgraph-<hash of the checkout path>/<name>/. Durability is switched off: test data only.

# Runs a command as a server's system user when we are root (neither server runs as root).
as_user() {
  local user="$1"; shift
  if [[ $(id -u) -eq 0 ]]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

# The directory for a server's files, created and owned by its system user.
db_dir() {
  local name="$1" user="$2" dir="$STATE_DIR/$1"
  if [[ $(id -u) -eq 0 ]] && ! runuser -u "$user" -- test -x "$STATE_DIR" 2>/dev/null; then
    dir="/var/tmp/healthgraph-$(printf %s "$ROOT" | sha256sum | cut -c1-12)/$name"
  fi
  mkdir -p "$dir"
  [[ $(id -u) -ne 0 ]] || chown "$user": "$dir"
  echo "$dir"
}

# Prints the last lines of a server's own log (it is not the service log: the server user writes it).
server_log_tail() {
  [[ -f "$1" ]] && { echo "--- last lines of $1:" >&2; tail -n 20 "$1" >&2; }
  return 0
}

# PostgreSQL: database healthgraph_test (the loader adds schemas cdm and claims), on $HOST:$PG_PORT.
pg_bin() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [[ -n "$dir" ]] || dir="$(dirname "$(command -v pg_ctl 2>/dev/null || echo /nonexistent/pg_ctl)")"
  echo "$dir"
}
postgres_url() { echo "postgres://$SQL_USER:$SQL_PASSWORD@$HOST:$PG_PORT/healthgraph_test"; }
postgres_available() {
  [[ -x "$(pg_bin)/initdb" ]] || { echo "PostgreSQL is not installed; scripts/install-system-deps.sh installs it as root"; return 1; }
  [[ $(id -u) -ne 0 ]] || id postgres >/dev/null 2>&1 || { echo "there is no postgres system user"; return 1; }
}
postgres_healthy() {
  [[ -x "$(pg_bin)/psql" ]] &&
    PGPASSWORD="$SQL_PASSWORD" PGCONNECT_TIMEOUT=2 "$(pg_bin)/psql" -h "$HOST" -p "$PG_PORT" -U "$SQL_USER" \
      -d healthgraph_test -Atqc 'select 1' >/dev/null 2>&1
}
postgres_describe() { echo "postgres://$SQL_USER:***@$HOST:$PG_PORT/healthgraph_test"; }
postgres_start() {
  local bin dir
  bin="$(pg_bin)"
  dir="$(db_dir postgres postgres)"
  : >"$(log_file postgres)"
  if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    rm -rf "$dir/data"
    as_user postgres "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 --no-sync >>"$(log_file postgres)" 2>&1
  fi
  if ! as_user postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t "$TIMEOUT" -o \
    "-p $PG_PORT -c listen_addresses=$HOST -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >>"$(log_file postgres)" 2>&1; then
    server_log_tail "$dir/server.log"
    return 1
  fi
  head -n 1 "$dir/data/postmaster.pid" >"$(pid_file postgres)"
  # Users and database, idempotently; the read-only user can read every table the owner creates.
  as_user postgres "$bin/psql" -h "$dir" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
    >>"$(log_file postgres)" 2>&1 <<SQL
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', '$SQL_USER', '$SQL_PASSWORD')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$SQL_USER') \gexec
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', '$SQL_RO_USER', '$SQL_RO_PASSWORD')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$SQL_RO_USER') \gexec
SELECT 'CREATE DATABASE healthgraph_test OWNER $SQL_USER'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'healthgraph_test') \gexec
\connect healthgraph_test
ALTER DEFAULT PRIVILEGES FOR ROLE $SQL_USER GRANT USAGE ON SCHEMAS TO $SQL_RO_USER;
ALTER DEFAULT PRIVILEGES FOR ROLE $SQL_USER GRANT SELECT ON TABLES TO $SQL_RO_USER;
SQL
}
postgres_stop() {
  local dir
  if running_pid postgres >/dev/null; then
    dir="$(db_dir postgres postgres)"
    as_user postgres "$(pg_bin)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  stop_pid postgres
}

# MariaDB: databases cdm and claims (created by the loader), on $HOST:$MARIADB_PORT.
mariadbd_bin() { command -v mariadbd 2>/dev/null || echo /usr/sbin/mariadbd; }
mariadb_url() { echo "mysql://$SQL_USER:$SQL_PASSWORD@$HOST:$MARIADB_PORT"; }
mariadb_available() {
  [[ -x "$(mariadbd_bin)" ]] && command -v mariadb-install-db >/dev/null 2>&1 ||
    { echo "MariaDB is not installed; scripts/install-system-deps.sh installs it as root"; return 1; }
  [[ $(id -u) -ne 0 ]] || id mysql >/dev/null 2>&1 || { echo "there is no mysql system user"; return 1; }
}
mariadb_healthy() {
  command -v mariadb >/dev/null 2>&1 &&
    MYSQL_PWD="$SQL_PASSWORD" mariadb --no-defaults --protocol=tcp -h "$HOST" -P "$MARIADB_PORT" -u "$SQL_USER" \
      --connect-timeout=2 -e 'select 1' >/dev/null 2>&1
}
mariadb_describe() { echo "mysql://$SQL_USER:***@$HOST:$MARIADB_PORT/{cdm,claims}"; }
mariadb_start() {
  local dir as_mysql=() admin
  dir="$(db_dir mariadb mysql)"
  [[ $(id -u) -ne 0 ]] || as_mysql=(--user=mysql)
  : >"$(log_file mariadb)"
  if [[ ! -d "$dir/data/mysql" ]]; then
    rm -rf "$dir/data"
    mariadb-install-db --no-defaults --datadir="$dir/data" "${as_mysql[@]}" --auth-root-authentication-method=socket \
      --skip-test-db >>"$(log_file mariadb)" 2>&1 || { tail -n 20 "$(log_file mariadb)" >&2; return 1; }
  fi
  nohup "$(mariadbd_bin)" --no-defaults "${as_mysql[@]}" --datadir="$dir/data" --socket="$dir/mariadbd.sock" \
    --port="$MARIADB_PORT" --bind-address="$HOST" --pid-file="$dir/mariadbd.pid" --log-error="$dir/server.log" \
    --skip-name-resolve --skip-log-bin --local-infile=1 --max-allowed-packet=64M \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    --innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 \
    >>"$(log_file mariadb)" 2>&1 </dev/null &
  echo $! >"$(pid_file mariadb)"
  # The socket answers before TCP does; the install made an account for the OS user (root or us).
  admin=(mariadb --no-defaults -S "$dir/mariadbd.sock" -u "$(id -un)")
  local deadline=$((SECONDS + TIMEOUT))
  until "${admin[@]}" -e 'select 1' >/dev/null 2>&1; do
    if ! running_pid mariadb >/dev/null || ((SECONDS >= deadline)); then
      server_log_tail "$dir/server.log"
      return 1
    fi
    sleep 0.2
  done
  "${admin[@]}" >>"$(log_file mariadb)" 2>&1 <<SQL
CREATE USER IF NOT EXISTS '$SQL_USER'@'%' IDENTIFIED BY '$SQL_PASSWORD';
GRANT ALL PRIVILEGES ON \`cdm\`.* TO '$SQL_USER'@'%';
GRANT ALL PRIVILEGES ON \`claims\`.* TO '$SQL_USER'@'%';
GRANT ALL PRIVILEGES ON \`hg\\_%\`.* TO '$SQL_USER'@'%';
CREATE USER IF NOT EXISTS '$SQL_RO_USER'@'%' IDENTIFIED BY '$SQL_RO_PASSWORD';
GRANT SELECT ON \`cdm\`.* TO '$SQL_RO_USER'@'%';
GRANT SELECT ON \`claims\`.* TO '$SQL_RO_USER'@'%';
SQL
}
mariadb_stop() { stop_pid mariadb 300; }

# The OMOP and claims datasets in PostgreSQL, MariaDB and SQLite (.services/sqlite/). Loading is skipped
# when each database already holds the same input (a content hash in hg_load_marker); without
# ../shared/data nothing is loaded and the tests that need the data skip.
sqldata_loader() {
  PG_PORT="$PG_PORT" MARIADB_PORT="$MARIADB_PORT" SERVICES_HOST="$HOST" \
    CLAIMS_SYNTHEA_PATIENTS="${CLAIMS_SYNTHEA_PATIENTS:-$FHIR_SYNTHEA_PATIENTS}" \
    node "$ROOT/dist/test/peers/sql/load.js" "$@"
}
sqldata_available() {
  [[ -f "$ROOT/dist/test/peers/sql/load.js" ]] || { echo "dist/test/peers/sql/load.js is missing: build first"; return 1; }
}
sqldata_healthy() { sqldata_loader --check >/dev/null 2>&1; }
sqldata_describe() { echo "omop + claims in postgres schemas cdm/claims, mariadb databases cdm/claims, .services/sqlite/{omop,claims}.db"; }
sqldata_start() {
  : >"$(log_file sqldata)"
  if ! sqldata_loader 2>&1 | tee -a "$(log_file sqldata)" | sed -u 's/^/sqldata: /'; then
    return 1
  fi
}
sqldata_stop() { echo "sqldata: nothing to stop (the data stays loaded)"; }

# --- FerretDB: a MongoDB-wire server (SQLite backend) for the MongoDB lake --------------------------
#
# Built once per machine from the Go module proxy by scripts/ferretdb/build.sh (kept in ~/.cache/healthgraph,
# several minutes cold); data in .services/ferretdb/. Loopback only, no auth, telemetry off.
ferretdb_url() { echo "mongodb://$HOST:$FERRETDB_PORT/"; }
ferretdb_available() {
  [[ -x "$("$ROOT/scripts/ferretdb/build.sh" --path)" ]] || command -v go >/dev/null 2>&1 ||
    { echo "FerretDB is not built and Go is not installed to build it"; return 1; }
}
ferretdb_healthy() {
  (cd "$ROOT" && node -e '
    const { MongoClient } = require("mongodb");
    const c = new MongoClient(process.argv[1], { serverSelectionTimeoutMS: 1500 });
    c.db("admin").command({ ping: 1 }).then(() => process.exit(0), () => process.exit(1)).finally(() => c.close());
  ' "$(ferretdb_url)") >/dev/null 2>&1
}
ferretdb_describe() { echo "$(ferretdb_url), FerretDB $(basename "$("$ROOT/scripts/ferretdb/build.sh" --path)" | sed 's/^ferretdb-//'), SQLite in .services/ferretdb/"; }
ferretdb_start() {
  local bin
  bin="$("$ROOT/scripts/ferretdb/build.sh")"
  mkdir -p "$STATE_DIR/ferretdb"
  : >"$(log_file ferretdb)"
  # GOGC=400: FerretDB allocates heavily per inserted document; fewer garbage collections cut its CPU per
  # document by about a fifth on the lake import (docs/benchmarks.md, "The MongoDB lake").
  GOGC="${FERRETDB_GOGC:-400}" nohup "$bin" --handler=sqlite --sqlite-url="file:$STATE_DIR/ferretdb/" --state-dir="$STATE_DIR/ferretdb" \
    --listen-addr="$HOST:$FERRETDB_PORT" --debug-addr="" --telemetry=disable --log-level=WARN \
    --test-enable-nested-pushdown --test-batch-size=1000 \
    >>"$(log_file ferretdb)" 2>&1 </dev/null &
  echo $! >"$(pid_file ferretdb)"
}
ferretdb_stop() { stop_pid ferretdb; }

# --- commands --------------------------------------------------------------------------------------

cmd_start() {
  local name
  for name in "${SERVICES[@]}"; do
    ensure_started "$name"
  done
}

cmd_stop() {
  local i
  for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
    "${SERVICES[$i]}_stop"
  done
}

cmd_status() {
  local name failed=0
  local why
  for name in "${SERVICES[@]}"; do
    if declare -F "${name}_available" >/dev/null && ! why="$("${name}_available" 2>&1)"; then
      echo "$name: unavailable ($why)"
    elif "${name}_healthy"; then
      echo "$name: up ($("${name}_describe"))"
    elif running_pid "$name" >/dev/null; then
      echo "$name: starting or unhealthy (pid $(running_pid "$name"))"
      failed=1
    else
      echo "$name: down"
      failed=1
    fi
  done
  return "$failed"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 {start|stop|status}" >&2
    exit 2
    ;;
esac
