"""The README's demo command: scripts/demo.sh --no-browser prints a URL that opens the quickstart.

Runs the script as a newcomer would (it runs scripts/setup.sh first, which finds everything in
place), reads the URL it prints, checks the server listens on loopback only, and opens the URL in
chromium: JupyterLab shows 01_quickstart.ipynb with a python3 kernel.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "scripts" / "demo.sh"
QUICKSTART = REPO / "notebooks" / "01_quickstart.ipynb"
URL_RE = re.compile(r"(http://127\.0\.0\.1:(\d+)/lab/tree/01_quickstart\.ipynb\?token=\w+)")


@pytest.mark.skipif(not QUICKSTART.exists(), reason="notebooks/01_quickstart.ipynb not written yet")
def test_demo_prints_a_loopback_url_that_opens_the_quickstart(browser, artifacts_dir, tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Lab settings of its own: no autosave, so opening the committed notebook never rewrites it.
    settings = tmp_path / "settings"
    docmanager = settings / "@jupyterlab" / "docmanager-extension"
    docmanager.mkdir(parents=True)
    (docmanager / "plugin.jupyterlab-settings").write_text('{"autosave": false}')
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIOCREATE_")}
    env.update(
        MIO_NB_PORT=str(port),
        MIO_NB_SANDBOX_DIR=str(tmp_path / "sandbox"),
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
        JUPYTERLAB_SETTINGS_DIR=str(settings),
    )
    env.pop("DISPLAY", None)
    proc = subprocess.Popen(
        ["bash", str(DEMO), "--no-browser"],
        cwd=tmp_path,  # the script finds the repo by itself
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 180
        url = None
        while url is None and time.monotonic() < deadline and proc.poll() is None:
            found = [m for line in list(lines) if (m := URL_RE.search(line))]
            url = found[0] if found else None
            time.sleep(0.3)
        assert url is not None, "demo.sh printed no URL:\n" + "".join(lines)
        assert int(url.group(2)) == port

        listening = [
            c.laddr
            for c in psutil.net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN and c.laddr.port == port
        ]
        assert listening and all(addr.ip == "127.0.0.1" for addr in listening), listening

        context = browser.new_context(viewport={"width": 1280, "height": 900})
        try:
            page = context.new_page()
            page.goto(url.group(1))
            page.get_by_role("tab", name=re.compile(r"01_quickstart\.ipynb")).wait_for(
                timeout=90_000
            )
            page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=60_000)
            # The quickstart's kernel starts: the status bar names the python kernel.
            page.get_by_text(re.compile(r"Python 3.*\| Idle")).first.wait_for(timeout=90_000)
            page.screenshot(path=str(artifacts_dir / "demo-quickstart-opened.png"))
        finally:
            context.close()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
