#!/usr/bin/env bash
# Create every environment the project needs, from nothing but Python 3.11+ and bash:
#   .venv          the tap (editable) + test and lint tools + pgserver/psycopg for the embedded PostgreSQL
#   .venv-meltano  Meltano itself (kept apart: its pins must not constrain the tap's)
#   .meltano/      the plugins of meltano.yml (`meltano install`: tap-analytics, target-postgres)
#   .venv-dagster  only with --with-dagster: Dagster for the backfill example (orchestrate/), apart too
# Idempotent and cheap to rerun: a stamp of the inputs skips work already done. Used by `make setup`,
# `make demo`, `make dagster` and the e2e tests' session fixtures. Set PYTHON to choose the interpreter.
set -euo pipefail

WITH_DAGSTER=0
for arg in "$@"; do
  case "$arg" in
    --with-dagster) WITH_DAGSTER=1 ;;
    *) printf '[setup] unknown option %s (known: --with-dagster)\n' "$arg" >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

MELTANO_VERSION="${MELTANO_VERSION:-4.4.1}"
E2E_PACKAGES=(pgserver==0.1.4 "psycopg[binary]>=3.2" "PyYAML>=6")
export MELTANO_SEND_ANONYMOUS_USAGE_STATS=false PIP_DISABLE_PIP_VERSION_CHECK=1

LOG=.meltano/setup.log
log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; [[ -s "$LOG" ]] && tail -n 40 "$LOG" >&2; exit 1; }
quiet() { "$@" >>"$LOG" 2>&1; }  # full output kept in .meltano/setup.log, shown on failure

find_python() {
  local candidate
  for candidate in "${PYTHON:-}" python3.11 python3.12 python3.13 python3; do
    [[ -n "$candidate" ]] || continue
    command -v "$candidate" >/dev/null 2>&1 || continue
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

stamp_of() {  # hash of whatever, when changed, needs a reinstall
  { cat pyproject.toml scripts/setup.sh; grep -E '^\s*(pip_url|- name|inherit_from):' meltano.yml
    echo "$MELTANO_VERSION ${E2E_PACKAGES[*]}"; } | sha256sum | cut -c1-16
}

mkdir -p .meltano
exec 9>.meltano/.setup.lock
flock 9  # the demo and a test session may both call this at once
: >"$LOG"

# Dagster (orchestrate/) in its own venv, with the tap's package but none of its dependencies: the job
# imports only tap_analytics.windows (standard library) and runs everything else through Meltano.
setup_dagster() {
  local stamp_file=.meltano/.setup-dagster-stamp stamp
  stamp="$({ cat orchestrate/requirements.txt; echo "$PY"; } | sha256sum | cut -c1-16)"
  if [[ -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp" && -x .venv-dagster/bin/dagster ]]; then
    log ".venv-dagster up to date"
    return 0
  fi
  log "installing Dagster into .venv-dagster (orchestrate/requirements.txt)"
  [[ -x .venv-dagster/bin/python ]] || "$PY" -m venv .venv-dagster
  quiet .venv-dagster/bin/python -m pip install -r orchestrate/requirements.txt \
    || die "pip install of Dagster failed"
  quiet .venv-dagster/bin/python -m pip install --no-deps -e . \
    || die "pip install of the tap's package into .venv-dagster failed"
  echo "$stamp" >"$stamp_file"
}

STAMP_FILE=.meltano/.setup-stamp
STAMP="$(stamp_of)"
if [[ -f "$STAMP_FILE" && "$(cat "$STAMP_FILE")" == "$STAMP" \
      && -x .venv/bin/tap-analytics && -x .venv-meltano/bin/meltano \
      && -x .meltano/extractors/tap-analytics/venv/bin/tap-analytics \
      && -x .meltano/loaders/target-postgres/venv/bin/target-postgres ]]; then
  log "environments up to date (rm $STAMP_FILE to force a reinstall)"
  if (( WITH_DAGSTER )); then
    PY="$(find_python)" || die "Python 3.11+ not found (set PYTHON=/path/to/python3.11)"
    setup_dagster
  fi
  exit 0
fi

PY="$(find_python)" || die "Python 3.11+ not found (set PYTHON=/path/to/python3.11)"
log "using $("$PY" --version) at $(command -v "$PY")"

if [[ ! -x .venv/bin/python ]]; then
  log "creating .venv (the tap)"
  "$PY" -m venv .venv
fi
log "installing the tap (editable) and test dependencies into .venv"
quiet .venv/bin/python -m pip install -e ".[dev]" "${E2E_PACKAGES[@]}" \
  || die "pip install into .venv failed"

if [[ ! -x .venv-meltano/bin/meltano ]] \
   || [[ "$(.venv-meltano/bin/meltano --version 2>/dev/null)" != *"$MELTANO_VERSION"* ]]; then
  log "installing meltano $MELTANO_VERSION into .venv-meltano"
  "$PY" -m venv .venv-meltano
  quiet .venv-meltano/bin/python -m pip install "meltano==$MELTANO_VERSION" \
    || die "pip install meltano failed"
fi

log "meltano install (plugins of meltano.yml)"
quiet .venv-meltano/bin/meltano install \
  || die "meltano install failed; details: .meltano/setup.log"

echo "$STAMP" >"$STAMP_FILE"
if (( WITH_DAGSTER )); then
  setup_dagster
fi
log "done: .venv, .venv-meltano and .meltano/ are ready"
