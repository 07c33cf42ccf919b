#!/usr/bin/env bash
# The whole test suite on a fresh machine: set-up, lint, the widget bundle check, the JS unit tests,
# then pytest (sandbox, client, widget in a real JupyterLab and Notebook 7 + chromium, notebooks).
#
# The whole suite runs on Python 3.11 (.venv; MIO_NB_PYTHON picks another). Python 3.12 and 3.13
# each get a fresh venv with the sandbox only (.venv-3.12, .venv-3.13: no setuptools, as on Colab),
# where tests/pythons runs its smoke test: connect() gives the sandbox, which detects and swaps.
# Extra arguments go to pytest, e.g. scripts/test.sh -k sandbox
#
# scripts/test.sh --live [--yes] [--record DIR]: the opt-in check against the real API instead
# (skipped unless MIOCREATE_TOKEN or the key pair is set; never under CI): mio-nb doctor, then one
# image swap and one get-face (a few credits, asked before unless --yes), recorded, redacted.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
if [[ ${1:-} == --live ]]; then
  shift
  exec "${MIO_NB_VENV:-$root/.venv}/bin/python" "$root/scripts/live_check.py" "$@"
fi
scripts/setup.sh --browser --python "${MIO_NB_PYTHON:-3.11}"
smoke_venvs=""
for version in 3.12 3.13; do
  scripts/setup.sh --python "$version" --venv "$root/.venv-$version" --extras sandbox
  smoke_venvs+="$version=$root/.venv-$version "
done
export MIO_NB_SMOKE_VENVS=$smoke_venvs MIO_NB_REQUIRE_SMOKE=1
venv=${MIO_NB_VENV:-$root/.venv}
"$venv/bin/ruff" check mio_nb tests benchmarks
"$venv/bin/ruff" format --check mio_nb tests benchmarks
"$venv/bin/python" -m mypy  # mio_nb except mio_nb/sandbox/ (see [tool.mypy] in pyproject.toml)
if [[ -f js/package.json ]]; then
  (cd js && npm ci --no-audit --no-fund --loglevel=error && npm run --silent check && npm test --silent)
fi
set +e
"$venv/bin/python" -m pytest "$@"
status=$?
set -e
# pytest exits 5 when it collected no test; that is a failure of the suite, not a pass.
if [[ $status == 5 ]]; then echo "pytest collected no test" >&2; exit 1; fi
exit $status
