#!/usr/bin/env bash
# The demo: set up mio-nb (idempotent), then open JupyterLab on a working copy of
# notebooks/01_quickstart.ipynb. With no MIOCREATE_* credentials the notebook starts the local
# sandbox by itself; "Run > Run All Cells" gives a swapped face. JupyterLab listens on 127.0.0.1
# only; the same server serves Notebook 7 (/tree, /notebooks/...). The shipped notebooks are never
# opened (saving would change the repository): working copies go to .demo/ (or $MIO_NB_DEMO_DIR).
#
# Usage: scripts/demo.sh [--no-browser] [--port N]
#   --no-browser   print the URL instead of opening a browser (the default with no display or
#                  under CI)
#   --port N       listen on port N (default: $MIO_NB_PORT, else 8888, else the next free one)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
venv=${MIO_NB_VENV:-$root/.venv}
notebook=01_quickstart.ipynb

open_browser=1
port=${MIO_NB_PORT:-}
while [[ $# -gt 0 ]]; do
  case $1 in
    --no-browser) open_browser=0 ;;
    --port) port=${2:?--port needs a number}; shift ;;
    --port=*) port=${1#--port=} ;;
    -h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
if [[ -n ${CI:-} ]]; then open_browser=0; fi
if [[ $(uname -s) == Linux && -z ${DISPLAY:-} && -z ${WAYLAND_DISPLAY:-} ]]; then open_browser=0; fi

scripts/setup.sh
python=$venv/bin/python

if [[ ! -f notebooks/$notebook ]]; then
  echo "demo.sh: notebooks/$notebook is missing from this checkout" >&2
  exit 1
fi

# Working copies of the notebooks: what the demo opens, runs and saves. A copy already there is
# kept (it may hold your edits); delete the folder to start again from the shipped notebooks.
workdir=${MIO_NB_DEMO_DIR:-$root/.demo}
mkdir -p "$workdir"
for shipped in notebooks/*.ipynb; do
  [[ -e $workdir/$(basename "$shipped") ]] || cp "$shipped" "$workdir/"
done

# A port: the one asked for, else 8888 if free, else any free one.
if [[ -z $port ]]; then
  port=$("$python" - <<'PY'
import socket
for candidate in (8888, 0):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        print(s.getsockname()[1])
        break
PY
)
fi
token=$("$python" -c 'import secrets; print(secrets.token_hex(24))')
url="http://127.0.0.1:$port/lab/tree/$notebook?token=$token"
classic_url="http://127.0.0.1:$port/notebooks/$notebook?token=$token"

args=(
  --ServerApp.ip=127.0.0.1
  "--ServerApp.port=$port"
  --ServerApp.port_retries=0
  "--ServerApp.root_dir=$workdir"
  --LabApp.news_url=None
  --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate
)
if [[ $open_browser == 0 ]]; then args+=(--no-browser --ServerApp.open_browser=False); fi
if [[ $(id -u) == 0 ]]; then args+=(--allow-root); fi

# Quiet and offline: no "Jupyter news?" question (the user's own Jupyter config still applies;
# this extra config folder only turns off the announcements plugin).
extra_config=$(mktemp -d)
mkdir -p "$extra_config/labconfig"
echo '{"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": true}}' \
  > "$extra_config/labconfig/page_config.json"
export JUPYTER_CONFIG_PATH="$extra_config${JUPYTER_CONFIG_PATH:+:$JUPYTER_CONFIG_PATH}"

echo "mio-nb demo: starting JupyterLab on 127.0.0.1:$port (Ctrl-C to stop)"
cd "$workdir"
# The token goes through the environment, not the command line (which `ps` shows).
JUPYTER_TOKEN=$token "$python" -m jupyterlab "${args[@]}" "$notebook" &
server=$!
trap 'kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true
      rm -rf "$extra_config"' INT TERM EXIT

# Wait until it answers, then say where it is.
if ! "$python" - "$port" "$token" "$server" <<'PY'
import os, sys, time, urllib.request
port, token, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit(1)
    try:
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/status", headers={"Authorization": f"token {token}"}
        )
        urllib.request.urlopen(req, timeout=2).read()
        sys.exit(0)
    except OSError:
        time.sleep(0.3)
sys.exit(1)
PY
then
  echo "mio-nb demo: JupyterLab did not start (see its messages above)" >&2
  exit 1
fi
echo
echo "mio-nb demo: JupyterLab is ready. Open this URL in a browser, then Run > Run All Cells:"
echo "    $url"
echo "mio-nb demo: or in Notebook 7:"
echo "    $classic_url"
echo "mio-nb demo: the notebooks opened are working copies in $workdir (notebooks/ stays as shipped)."
echo "mio-nb demo: the command line is $venv/bin/mio-nb (not on PATH: write that path, or first"
echo "    source $venv/bin/activate), e.g.  $venv/bin/mio-nb faces photo.jpg"
echo
wait "$server"
