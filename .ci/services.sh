#!/usr/bin/env bash
# Install and start the services the tests use, on loopback only: PostgreSQL for the store tests, and
# Debian's Chromium for the browser tests (tests/e2e drive /usr/bin/chromium; no browser is ever downloaded).
# Also installs bubblewrap, the sandbox of agentic trials (tests/agents run the real bwrap).
# Idempotent; safe to run on every `make test`. Prints the PostgreSQL URL for the tests on stdout.
set -euo pipefail

PG_USER=safehub
PG_PASSWORD=safehub-test
PG_DB=safehub_test
PG_PORT=${SAFEHUB_PG_PORT:-5432}

log() { echo "services: $*" >&2; }

if [ "$(id -u)" != 0 ]; then
  log "not root: not installing PostgreSQL, Chromium or bubblewrap; Postgres store tests run only if SAFEHUB_TEST_PG is set,"
  log "and tests/e2e fail unless /usr/bin/chromium is installed (apt-get install chromium)"
  command -v bwrap >/dev/null || log "bubblewrap is missing: tests/agents fail until it is installed (apt-get install bubblewrap)"
  exit 0
fi

apt_updated=0
need() {  # need PACKAGE...: install what is missing
  local missing=()
  for package in "$@"; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ $apt_updated = 0 ]; then apt-get update -qq >&2; apt_updated=1; fi
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

need chromium
need bubblewrap
need postgresql postgresql-client

version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | awk '{print $1"/"$2}' | grep -qx "$version/main"; then
  pg_createcluster "$version" main --port "$PG_PORT" >&2
fi
# Loopback only, whatever the cluster's defaults are.
pg_conftool "$version" main remove listen_addresses >&2 || true
mkdir -p "/etc/postgresql/$version/main/conf.d"
echo "listen_addresses = '127.0.0.1'" > "/etc/postgresql/$version/main/conf.d/safehub.conf"
if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $4}' | grep -q online; then
  pg_ctlcluster "$version" main start >&2
fi
port=$(pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $3}')

for _ in $(seq 1 30); do
  su postgres -c "psql -p $port -tAc 'select 1'" >/dev/null 2>&1 && break
  sleep 1
done
su postgres -c "psql -p $port -v ON_ERROR_STOP=1 -q" >&2 <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER') THEN
    CREATE ROLE $PG_USER LOGIN PASSWORD '$PG_PASSWORD' CREATEDB;
  END IF;
END \$\$;
SQL
if ! su postgres -c "psql -p $port -tAc \"select 1 from pg_database where datname='$PG_DB'\"" | grep -q 1; then
  su postgres -c "createdb -p $port -O $PG_USER $PG_DB" >&2
fi
echo "postgresql://$PG_USER:$PG_PASSWORD@127.0.0.1:$port/$PG_DB"
