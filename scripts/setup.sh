#!/usr/bin/env bash
# Set up a fresh machine for mio-nb, idempotently: the virtual environment with pinned packages,
# and (with --browser) Debian's chromium for the browser tests. Safe to run again: it skips what is
# already in place. Usage: scripts/setup.sh [--browser]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
venv=${MIO_NB_VENV:-$root/.venv}
python=${PYTHON:-python3}

if [[ "${1:-}" == "--browser" ]] && ! command -v chromium >/dev/null 2>&1; then
  echo "mio-nb setup: installing Debian's chromium for the browser tests"
  sudo=""; [[ $(id -u) == 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    chromium fonts-dejavu-core >/dev/null
fi

if [[ ! -x "$venv/bin/python" ]]; then
  echo "mio-nb setup: creating $venv"
  "$python" -m venv "$venv"
fi

# Reinstall only when the pins or the project's metadata changed.
stamp="$venv/.mio-nb-setup"
want=$(cat pyproject.toml requirements/constraints.txt | sha256sum | cut -d' ' -f1)
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "mio-nb setup: installing mio-nb[sandbox,test,dev] with pinned versions"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "pip==25.3"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check \
    -c requirements/constraints.txt -e ".[sandbox,test,dev]"
  echo "$want" > "$stamp"
fi
