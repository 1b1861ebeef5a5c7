#!/usr/bin/env bash
# Installs the system packages the test services need, when missing (Debian, as root). Idempotent.
#   chromium — the playground's browser test (driven by playwright-core; no browser download)
#   postgresql, mariadb-server — the SQL connector's test databases (scripts/services.sh runs its own servers
#     from .services/ on ports 5433 and 3307; Debian's "main" PostgreSQL cluster is not created)
# Set HG_SKIP_SYSTEM_DEPS=1 to skip (tests that need a missing package then skip themselves).
set -euo pipefail
[[ "${HG_SKIP_SYSTEM_DEPS:-}" == 1 ]] && exit 0

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
{ [[ -x /usr/sbin/mariadbd ]] && command -v mariadb-install-db >/dev/null 2>&1; } || missing+=(mariadb-server)

((${#missing[@]} == 0)) && exit 0
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-deps: cannot install ${missing[*]} (needs root and apt-get); the tests that need them will skip" >&2
  exit 0
fi
echo "install-system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Debian's postgresql-common would create and start a "main" cluster on port 5432; we run our own.
if [[ " ${missing[*]} " == *" postgresql "* && ! -e /etc/postgresql-common/createcluster.conf ]]; then
  mkdir -p /etc/postgresql-common
  echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.conf
fi
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  "${missing[@]}" >/dev/null
