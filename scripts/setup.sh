#!/usr/bin/env bash
# Set up a fresh machine for mio-nb, idempotently: a virtual environment with pinned packages, and
# (with --browser) Debian's chromium for the browser tests. Safe to run again: it skips what is
# already in place (a stamp in the venv records what was installed).
#
# Usage: scripts/setup.sh [--browser] [--python VERSION|PATH] [--venv DIR] [--extras LIST]
#   --browser         also install Debian's chromium (browser tests)
#   --python X        the interpreter: a path, or a version such as 3.12 (found on PATH as
#                     python3.12, else in pyenv, which installs it when missing);
#                     default: $PYTHON, else python3
#   --venv DIR        the venv to make (default: $MIO_NB_VENV, else .venv)
#   --extras LIST     mio-nb's extras to install (default: sandbox,test,dev)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
venv=${MIO_NB_VENV:-$root/.venv}
python=${PYTHON:-python3}
extras=sandbox,test,dev
browser=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --browser) browser=1 ;;
    --python) python=${2:?--python needs a version or a path}; shift ;;
    --venv) venv=${2:?--venv needs a folder}; shift ;;
    --extras) extras=${2?--extras needs a list}; shift ;;
    -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

if [[ $browser == 1 ]] && ! command -v chromium >/dev/null 2>&1; then
  echo "mio-nb setup: installing Debian's chromium for the browser tests"
  sudo=""; [[ $(id -u) == 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    chromium fonts-dejavu-core >/dev/null
fi

# A version number (3.12) names an interpreter: pythonX.Y on PATH if it runs (a pyenv shim may
# not), else pyenv's newest X.Y, installed by pyenv when missing.
if [[ $python =~ ^[0-9]+\.[0-9]+$ ]]; then
  version=$python
  if "python$version" -c "" >/dev/null 2>&1; then
    python=$(command -v "python$version")
  else
    pyenv=$(command -v pyenv || echo "${PYENV_ROOT:-$HOME/.pyenv}/bin/pyenv")
    if [[ ! -x $pyenv ]]; then
      echo "setup.sh: no python$version on PATH and no pyenv to install it" >&2
      exit 1
    fi
    newest() { ls -d "$("$pyenv" root)/versions/$version".* 2>/dev/null | sort -V | tail -1; }
    if [[ -z $(newest) ]]; then
      echo "mio-nb setup: installing Python $version with pyenv"
      "$pyenv" install "$version"
    fi
    python=$(newest)/bin/python$version
  fi
fi

if [[ ! -x "$venv/bin/python" ]]; then
  echo "mio-nb setup: creating $venv with $("$python" --version)"
  "$python" -m venv "$venv"
fi

# Reinstall only when the pins, the project's metadata, the extras or the interpreter changed.
stamp="$venv/.mio-nb-setup"
want=$( (cat pyproject.toml requirements/constraints.txt; echo "$extras"; "$venv/bin/python" -VV) \
  | sha256sum | cut -d' ' -f1)
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "mio-nb setup: installing mio-nb[$extras] with pinned versions into $venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "pip==25.3"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check \
    -c requirements/constraints.txt -e ".${extras:+[$extras]}"
  echo "$want" > "$stamp"
fi
