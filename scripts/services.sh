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
#              SERVICES_TIMEOUT (seconds to wait for readiness, 90).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="$ROOT/.services"
HOST="${SERVICES_HOST:-127.0.0.1}"
TIMEOUT="${SERVICES_TIMEOUT:-90}"
FHIR_PORT="${FHIR_PORT:-8081}"
FAULTY_PORT="${FAULTY_PORT:-8082}"
FHIR_SYNTHEA_PATIENTS="${FHIR_SYNTHEA_PATIENTS:-60}"

SERVICES=(fhir faulty)

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

stop_pid() {
  local name="$1" pid
  if pid="$(running_pid "$name")"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
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
  local name="$1"
  if "${name}_healthy"; then
    echo "$name: already running ($("${name}_describe"))"
    return 0
  fi
  if running_pid "$name" >/dev/null; then
    echo "$name: running but not healthy; restarting"
    stop_pid "$name" >/dev/null
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
  for name in "${SERVICES[@]}"; do
    if "${name}_healthy"; then
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
