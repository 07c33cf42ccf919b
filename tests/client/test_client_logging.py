"""mio-nb logs, the application shows (issue 9): the package logger has a NullHandler, so a
warning such as "another running sandbox uses ..." never reaches stderr (which a notebook shows
in red and saves with the cell) unless the user configured logging; then it does."""

from __future__ import annotations

import subprocess
import sys

WARN = (
    "import logging, mio_nb\n"
    "logging.getLogger('mio_nb.sandbox.runner').warning('another running sandbox uses %s', 'x')\n"
    "print('done')\n"
)


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )


def test_package_warnings_do_not_reach_stderr_by_default() -> None:
    run = _run(WARN)
    assert run.stdout == "done\n" and run.stderr == ""
    handlers = _run(
        "import logging, mio_nb\n"
        "print([type(h).__name__ for h in logging.getLogger('mio_nb').handlers])"
    )
    assert handlers.stdout.strip() == "['NullHandler']"


def test_a_user_who_configures_logging_sees_them() -> None:
    run = _run("import logging; logging.basicConfig()\n" + WARN)
    assert "another running sandbox uses x" in run.stderr
