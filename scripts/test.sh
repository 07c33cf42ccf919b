#!/usr/bin/env bash
# The whole test suite on a fresh machine: set-up, lint, the widget bundle check, the JS unit tests,
# then pytest (sandbox, client, widget in a real JupyterLab + chromium, notebooks).
# Extra arguments go to pytest, e.g. scripts/test.sh -k sandbox
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --browser
venv=${MIO_NB_VENV:-$PWD/.venv}
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
