#!/usr/bin/env bash
# Installs the system packages the test services need, when missing (Debian, as root). Idempotent.
#   chromium — the playground's browser test (driven by playwright-core; no browser download)
# Set HG_SKIP_SYSTEM_DEPS=1 to skip (tests that need a missing package then skip themselves).
set -euo pipefail
[[ "${HG_SKIP_SYSTEM_DEPS:-}" == 1 ]] && exit 0

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)

((${#missing[@]} == 0)) && exit 0
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-deps: cannot install ${missing[*]} (needs root and apt-get); the tests that need them will skip" >&2
  exit 0
fi
echo "install-system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
