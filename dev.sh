#!/usr/bin/env bash
# Strategy Arena: the two commands.
#   ./dev.sh start   install what the app needs (first run) and start it on the embedded default:
#                    SQLite file, in-process jobs and cache, bundled real data; no servers needed.
#   ./dev.sh test    install everything the tests need (venv, pip, Debian chromium and
#                    chromium-driver, npm packages) and run the whole suite against the real
#                    PostgreSQL and Redis on this machine, then the Next.js portal's checks
#                    (npm ci, build, lint, tsc --noEmit, npm test). Extra arguments go to pytest
#                    (and skip the portal).
#   ./dev.sh portal  start the app (arena serve, :8050) and the Next.js portal (:3000) together.
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
PYTHON=${PYTHON:-python3}

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@";
  else say "need root for: $*"; return 1; fi
}

ensure_python_env() {  # $1: pip extras, e.g. "" or "[dev]"
  [ -x "$VENV/bin/python" ] || { say "creating $VENV"; "$PYTHON" -m venv "$VENV"; }
  local stamp="$VENV/.installed$1" want
  want=$(sha256sum pyproject.toml | cut -c1-16)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing Python packages ${1:-(runtime)}"
    "$VENV/bin/python" -m pip install -q -U pip
    "$VENV/bin/python" -m pip install -q -e ".$1"
    echo "$want" > "$stamp"
  fi
}

ensure_chromium() {
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    say "installing Debian chromium and chromium-driver (browser tests)"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
}

ensure_services() {
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    say "starting PostgreSQL"
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
  fi
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    say "starting Redis"
    as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
      --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  fi
}

PORTAL=nextjs-portal

ensure_portal_build() {
  command -v npm >/dev/null || { say "the portal needs Node.js 20+ and npm"; exit 1; }
  local stamp="$PORTAL/node_modules/.installed" want
  want=$(sha256sum "$PORTAL/package-lock.json" | cut -c1-16)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing the portal's npm packages (npm ci)"
    (cd "$PORTAL" && npm ci --no-audit --no-fund) && echo "$want" > "$stamp"
  fi
  say "building the portal"
  (cd "$PORTAL" && NEXT_TELEMETRY_DISABLED=1 npm run build)
}

test_portal() {
  ensure_portal_build
  say "portal: lint, type-check, end-to-end test"
  (cd "$PORTAL" && npm run lint && npm run typecheck && ARENA_PYTHON="$PWD/../$VENV/bin/python" npm test)
}

cmd=${1:-}
shift || true
case "$cmd" in
  start)
    ensure_python_env ""
    exec "$VENV/bin/arena" serve "$@"
    ;;
  test)
    ensure_python_env "[dev,alpaca,bench]"
    ensure_chromium
    ensure_services
    say "ruff"
    "$VENV/bin/ruff" check .
    say "pytest"
    set +e
    "$VENV/bin/pytest" "$@"
    rc=$?
    set -e
    if [ "$rc" -eq 5 ]; then say "pytest collected no tests: that is a failure"; exit 1; fi
    [ "$rc" -eq 0 ] || exit "$rc"
    [ "$#" -eq 0 ] && test_portal
    exit 0
    ;;
  portal)
    ensure_python_env ""
    ensure_portal_build
    "$VENV/bin/arena" serve &
    arena_pid=$!
    trap 'kill "$arena_pid" 2>/dev/null || true' EXIT INT TERM
    say "portal at http://127.0.0.1:3000/ (the app at http://127.0.0.1:8050/)"
    (cd "$PORTAL" && NEXT_TELEMETRY_DISABLED=1 NEXT_PUBLIC_API_URL=http://127.0.0.1:8050 \
      npm start -- -p 3000 -H 127.0.0.1)
    ;;
  *)
    echo "usage: ./dev.sh start | ./dev.sh test [pytest args] | ./dev.sh portal" >&2
    exit 2
    ;;
esac
