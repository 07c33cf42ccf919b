"""Harness for the browser tests: one real JupyterLab server and one Debian chromium per session.

The server runs from the same (virtual-environment) Python as pytest, on a free loopback port with
a random token, fully offline (no news, no update check, no extension manager, no language server),
with its own config/data/runtime/settings/workspace directories under a pytest temporary directory
so nothing from the user's own Jupyter set-up leaks in. Kernels are the environment's ``python3``
(ipykernel), see ``MIO_NB_SANDBOX_DIR`` pointing to a temporary directory and no ``MIOCREATE_*``
variable, so every widget falls back to the local sandbox.

Tests get a :class:`Lab` (fixture ``lab``): a fresh browser page plus helpers to write a notebook
with given cells into the server's root, open it, run all its cells, and take named screenshots
under ``tests/artifacts/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import pytest
from playwright import sync_api

CHROMIUM = Path(os.environ.get("MIO_NB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
VIEWPORT = {"width": 1280, "height": 900}
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "artifacts"
SERVER_START_TIMEOUT = 90.0
# Lab plugins that would reach the internet or pop up dialogs/toasts that get in the way.
DISABLED_LAB_PLUGINS = {
    "@jupyterlab/apputils-extension:announcements": True,
    "@jupyterlab/extensionmanager-extension": True,
    # No language server runs (jupyter_lsp is off), so neither do the plugins that use one.
    "@jupyterlab/lsp-extension": True,
    "@jupyterlab/notebook-extension:language-server": True,
    "@jupyterlab/fileeditor-extension:language-server": True,
}
DISABLED_SERVER_EXTENSIONS = {"jupyter_lsp": False, "jupyter_server_terminals": False}
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    # Attach every cell to the DOM: widgets below the fold render and stay findable.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def kernel_env(sandbox_dir: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a test kernel runs in: no MioCreate credentials, a private sandbox dir."""
    env = {k: v for k, v in (base or os.environ).items() if not k.startswith("MIOCREATE_")}
    env["MIO_NB_SANDBOX_DIR"] = str(sandbox_dir)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    env.pop("MPLBACKEND", None)
    return env


@dataclass
class LabServer:
    """A running JupyterLab server (see :func:`lab_server`)."""

    url: str
    token: str
    root: Path
    sandbox_dir: Path
    log_path: Path
    proc: subprocess.Popen[bytes]

    def api(self, path: str, method: str = "GET", body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no server log)"


def _write_lab_config(base: Path) -> dict[str, Path]:
    dirs = {
        name: base / name
        for name in ("config", "data", "runtime", "settings", "workspaces", "ipython")
    }
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    (dirs["config"] / "labconfig").mkdir(exist_ok=True)
    (dirs["config"] / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": DISABLED_LAB_PLUGINS})
    )
    (dirs["config"] / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": DISABLED_SERVER_EXTENSIONS}})
    )
    for rel, settings in LAB_SETTINGS.items():
        path = dirs["settings"] / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings))
    return dirs


def _wait_for_status(server: LabServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(
                f"JupyterLab exited with {server.proc.returncode}:\n{server.log_tail()}"
            )
        try:
            server.api("/api/status")
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            last = repr(exc)
        time.sleep(0.25)
    raise RuntimeError(
        f"JupyterLab did not answer /api/status in {timeout:.0f} s ({last}):\n{server.log_tail()}"
    )


def _stop_server(server: LabServer) -> None:
    proc = server.proc
    if proc.poll() is None:
        # A clean shutdown also shuts down the kernels it started.
        with contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            server.api("/api/shutdown", method="POST")
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
    # Whatever the server started in its own process group (kernels) goes with it.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """A real JupyterLab server on 127.0.0.1, started once for the session."""
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "root"
    root.mkdir()
    sandbox_dir = base / "sandbox"
    sandbox_dir.mkdir()
    dirs = _write_lab_config(base)
    token = secrets.token_hex(24)
    port = free_port()
    env = kernel_env(sandbox_dir)
    for name in list(env):
        if name.startswith("JUPYTER") or name == "IPYTHONDIR":
            env.pop(name)
    env.update(
        JUPYTER_CONFIG_DIR=str(dirs["config"]),
        JUPYTER_DATA_DIR=str(dirs["data"]),
        JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
        JUPYTER_PLATFORM_DIRS="1",
        IPYTHONDIR=str(dirs["ipython"]),
    )
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.open_browser=False",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",
        "--ServerApp.terminals_enabled=False",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.expose_app_in_browser=True",
        # Notebook 7 (the `notebook` package) is served by the same server: /tree, /notebooks/...
        "--JupyterNotebookApp.expose_app_in_browser=True",
        f"--LabApp.user_settings_dir={dirs['settings']}",
        f"--LabApp.workspaces_dir={dirs['workspaces']}",
        "--LabApp.extension_manager=readonly",
        "--MappingKernelManager.cull_idle_timeout=0",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # CI and these machines run as root
    log_path = base / "jupyterlab.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = LabServer(
        url=f"http://127.0.0.1:{port}",
        token=token,
        root=root,
        sandbox_dir=sandbox_dir,
        log_path=log_path,
        proc=proc,
    )
    try:
        _wait_for_status(server, SERVER_START_TIMEOUT)
        yield server
    finally:
        _stop_server(server)
        if ARTIFACTS.is_dir():
            shutil.copy(log_path, ARTIFACTS / "jupyterlab-server.log")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's chromium, headless, driven by Playwright (one for the session)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup.sh --browser (installs chromium)")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:80] or "step"


# JS run in the page: the current notebook panel and its kernel, through the app object that
# `--LabApp.expose_app_in_browser` puts on window.
_JS_KERNEL_READY = """
(path) => {
  const app = window.jupyterapp;
  const panel = app && app.shell && app.shell.currentWidget;
  if (!panel || !panel.context || !panel.context.isReady || !panel.sessionContext) return false;
  if (panel.context.path !== path) return false;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
}
"""
_JS_RUN_ALL = """
() => {
  window.__mioRunAll = null;
  window.jupyterapp.commands.execute('notebook:run-all-cells').then(
    ok => { window.__mioRunAll = {ok: ok === undefined ? true : ok}; },
    err => { window.__mioRunAll = {error: String(err && err.message || err)}; });
}
"""
_JS_KERNEL_EXEC = """
async (code) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const future = kernel.requestExecute({code, store_history: false, stop_on_error: true});
  let out = '';
  let error = null;
  future.onIOPub = (msg) => {
    const type = msg.header.msg_type;
    if (type === 'stream') out += msg.content.text;
    else if (type === 'execute_result') out += msg.content.data['text/plain'] + '\\n';
    else if (type === 'error') error = msg.content.ename + ': ' + msg.content.evalue;
  };
  await future.done;
  return {out, error};
}
"""
_JS_CELL_IMAGES = """
async (index) => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[index];
  cell.node.scrollIntoView({block: 'center'});
  const imgs = [...cell.node.querySelectorAll('.jp-OutputArea-output img')];
  await Promise.all(imgs.map(i => i.decode().catch(() => null)));
  return imgs.map(i => ({
    loaded: i.complete && i.naturalWidth > 0, width: i.naturalWidth, height: i.naturalHeight,
    shown: i.getBoundingClientRect().width, src: i.src.slice(0, 40)}));
}
"""
_JS_CELL_VIDEO = """
async ([index, timeout]) => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[index];
  cell.node.scrollIntoView({block: 'center'});
  const v = cell.node.querySelector('.jp-OutputArea-output video');
  if (!v) return null;
  const sleep = (ms) => new Promise(r => setTimeout(r, ms));
  const t0 = Date.now();
  while (v.readyState < 2 && !v.error && Date.now() - t0 < timeout) await sleep(200);
  v.muted = true;
  let playError = null;
  try { await v.play(); } catch (e) { playError = String(e); }
  while (v.currentTime < 0.2 && !v.error && Date.now() - t0 < timeout) await sleep(100);
  v.pause();
  const poster = await new Promise(res => {
    if (!v.poster) return res(null);
    const im = new Image();
    im.onload = () => res({width: im.naturalWidth, height: im.naturalHeight});
    im.onerror = () => res(null);
    im.src = v.poster;
  });
  return {readyState: v.readyState, duration: v.duration, error: v.error && v.error.code,
          currentTime: v.currentTime, playError, poster, src: v.currentSrc.slice(0, 30),
          shown: v.getBoundingClientRect().width};
}
"""
_JS_NOTEBOOK_JSON = """
() => window.jupyterapp.shell.currentWidget.content.model.toJSON()
"""


@dataclass
class Lab:
    """One browser page on the session's JupyterLab, with notebook helpers."""

    server: LabServer
    page: Any
    artifacts: Path
    test_name: str
    console: list[str] = field(default_factory=list)
    _step: int = 0

    # -- notebooks -------------------------------------------------------------------------------
    def write_notebook(self, name: str, cells: list[str]) -> Path:
        """Write a notebook of code cells (python3 kernel) into the server's root dir."""
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
        }
        nb.metadata["language_info"] = {"name": "python"}
        nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
        path = self.server.root / f"{name}.ipynb"
        nbformat.write(nb, path)
        return path

    def open_notebook(self, path: Path, timeout: float = 90, ui: str = "lab") -> None:
        """Open a notebook of the server's root in JupyterLab (``ui="lab"``) or in Notebook 7
        (``ui="notebook"``, the same server's /notebooks/...) and wait for an idle kernel."""
        rel = path.relative_to(self.server.root).as_posix()
        if ui == "notebook":
            url = f"{self.server.url}/notebooks/{rel}?token={self.server.token}"
        else:
            # A workspace of its own, reset: nothing from an earlier test is restored next to it.
            workspace = f"t{secrets.token_hex(6)}"
            url = f"{self.server.url}/lab/workspaces/{workspace}/tree/{rel}"
            url += f"?reset&token={self.server.token}"
        self.page.goto(url)
        self.page.wait_for_function(_JS_KERNEL_READY, arg=rel, timeout=timeout * 1000, polling=250)

    def run_all(self, timeout: float = 300) -> dict[str, Any]:
        """Run all cells, wait until they finished, and fail on any error output.

        Returns the notebook as JSON (nbformat) as JupyterLab's model holds it after the run.
        """
        self.page.evaluate(_JS_RUN_ALL)
        self.page.wait_for_function(
            "() => window.__mioRunAll !== null", timeout=timeout * 1000, polling=250
        )
        outcome = self.page.evaluate("() => window.__mioRunAll")
        nb = self.page.evaluate(_JS_NOTEBOOK_JSON)
        errors = [
            f"cell {i}: {out.get('ename')}: {out.get('evalue')}\n"
            + "\n".join(out.get("traceback", []))
            for i, cell in enumerate(nb["cells"])
            for out in cell.get("outputs", [])
            if out.get("output_type") == "error"
        ]
        assert not errors, "notebook cells raised:\n" + "\n".join(errors)
        assert outcome == {"ok": True}, f"Run All Cells did not finish cleanly: {outcome}"
        missing = [
            i
            for i, cell in enumerate(nb["cells"])
            if cell["cell_type"] == "code" and not cell.get("execution_count")
        ]
        assert not missing, f"cells {missing} did not run"
        return nb

    def new_notebook_and_run(self, name: str, cells: list[str], timeout: float = 300) -> dict:
        path = self.write_notebook(name, cells)
        self.open_notebook(path)
        return self.run_all(timeout=timeout)

    def kernel_exec(self, code: str) -> str:
        """Run code in the open notebook's kernel (no new cell) and return what it printed."""
        result = self.page.evaluate(_JS_KERNEL_EXEC, code)
        assert result["error"] is None, f"kernel code failed: {result['error']}\n{code}"
        return result["out"]

    def collapse_sidebars(self) -> None:
        """Give the notebook the whole width (nicer screenshots)."""
        self.page.evaluate(
            "() => { const s = window.jupyterapp.shell; s.collapseLeft && s.collapseLeft();"
            " s.collapseRight && s.collapseRight(); }"
        )

    def cell_images(self, cell: int) -> list[dict[str, Any]]:
        """The pictures a code cell's outputs show, once scrolled into view: natural size and
        on-screen width of each, and whether it loaded."""
        return self.page.evaluate(_JS_CELL_IMAGES, cell)

    def cell_video(self, cell: int, timeout: float = 30) -> dict[str, Any] | None:
        """The first <video> of a cell's outputs, scrolled into view and played (muted): its
        readyState, duration, error code, the time it reached, and its poster's natural size
        (None when the poster is not a picture)."""
        return self.page.evaluate(_JS_CELL_VIDEO, [cell, timeout * 1000])

    @staticmethod
    def stream_text(nb: dict[str, Any], cell: int) -> str:
        """The stdout text a cell printed (as the notebook model holds it)."""
        parts = []
        for out in nb["cells"][cell].get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stdout":
                text = out.get("text", "")
                parts.append("".join(text) if isinstance(text, list) else text)
        return "".join(parts)

    # -- artefacts -------------------------------------------------------------------------------
    def shot(
        self,
        step: str,
        *,
        element: Any = None,
        copy_to: str | None = None,
        full_page: bool = False,
    ) -> Path:
        """Screenshot as tests/artifacts/<test>-<NN>-<step>.png: the page, or just ``element``
        (a locator); ``copy_to`` also saves a copy under that name."""
        self._step += 1
        path = self.artifacts / f"{_slug(self.test_name)}-{self._step:02d}-{_slug(step)}.png"
        if element is not None:
            # JupyterLab scrolls inside the notebook panel, so an element taller than the window
            # cannot be captured whole: grow the window to fit it for the shot.
            box = element.bounding_box() or {"height": 0}
            size = self.page.viewport_size or VIEWPORT
            tall = box["height"] + 300 > size["height"]
            if tall:
                self.page.set_viewport_size(
                    {"width": size["width"], "height": int(box["height"]) + 300}
                )
            try:
                element.scroll_into_view_if_needed()
                element.screenshot(path=str(path))
            finally:
                if tall:
                    self.page.set_viewport_size(size)
        else:
            self.page.screenshot(path=str(path), full_page=full_page)
        if copy_to:
            shutil.copy(path, self.artifacts / copy_to)
        return path


WIDGET_CELL = "from mio_nb import FaceSwapWidget\nw = FaceSwapWidget()\nw"


@dataclass
class FaceSwapUI:
    """The FaceSwapWidget as a person finds it on the page: by accessible names and labels."""

    lab: Lab

    @property
    def page(self) -> Any:
        return self.lab.page

    @property
    def root(self) -> Any:
        """The output area that holds the widget (so code cells' text never matches)."""
        return self.page.locator(".jp-OutputArea-output").filter(
            has=self.page.locator('input[type="file"][aria-label="Original file"]')
        )

    def show(self, name: str) -> None:
        """A new notebook with the widget cell, run; waits until the widget is drawn."""
        self.lab.new_notebook_and_run(name, [WIDGET_CELL])
        self.lab.collapse_sidebars()
        self.wait_visible(self.button("Choose original"), 60, "the widget to render")

    def button(self, name: str) -> Any:
        return self.root.get_by_role("button", name=name, exact=True)

    def file_input(self, label: str) -> Any:
        return self.root.locator(f'input[type="file"][aria-label="{label}"]')

    def upload_original(self, path: Path) -> None:
        self.file_input("Original file").set_input_files(str(path))

    def add_new_face(self, path: Path) -> None:
        self.file_input("New face file").set_input_files(str(path))

    def detected_faces(self) -> Any:
        return self.root.get_by_role("button", name=re.compile(r"^Detected face \d+$"))

    def new_faces(self) -> Any:
        return self.root.get_by_role("button", name=re.compile(r"^New face [A-Z]+$"))

    def status_text(self) -> str:
        return " | ".join(t.strip() for t in self.root.get_by_role("status").all_inner_texts())

    def alert_text(self) -> str:
        texts = self.root.locator('[role="alert"]').all_inner_texts()
        return " | ".join(t.strip() for t in texts if t.strip())

    def wait_visible(self, locator: Any, timeout: float, what: str) -> None:
        """Wait for ``locator`` to show; fail at once with the widget's error text if one shows."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                locator.first.wait_for(state="visible", timeout=1000)
                return
            except sync_api.TimeoutError:
                pass
            alert = self.alert_text()
            if alert:
                self.lab.shot(f"error-waiting-for-{what}")
                pytest.fail(f"the widget shows an error while waiting for {what}: {alert}")
            if time.monotonic() > deadline:
                self.lab.shot(f"timeout-waiting-for-{what}")
                pytest.fail(
                    f"{what}: not there after {timeout:.0f} s; widget status: "
                    f"{self.status_text()!r}"
                )

    def media_sources(self) -> list[str]:
        """The src of every <img>/<video> inside the widget."""
        return self.root.locator("img, video, source").evaluate_all(
            "els => els.map(e => e.currentSrc || e.src || '').filter(Boolean)"
        )


@pytest.fixture
def faceswap(lab: Lab) -> FaceSwapUI:
    return FaceSwapUI(lab)


@pytest.fixture
def lab(
    request: pytest.FixtureRequest, lab_server: LabServer, browser: Any, artifacts_dir: Path
) -> Iterator[Lab]:
    """A fresh browser context and page on the session's JupyterLab."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(30_000)
    page = context.new_page()
    helper = Lab(server=lab_server, page=page, artifacts=artifacts_dir, test_name=request.node.name)
    for stale in artifacts_dir.glob(f"{_slug(helper.test_name)}-*"):
        stale.unlink()  # the artifacts of this test's last run
    page.on("console", lambda msg: helper.console.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda exc: helper.console.append(f"pageerror: {exc}"))
    try:
        yield helper
    finally:
        failed = getattr(request.node, "rep_call", None)
        if failed is not None and failed.failed:
            # A failed screenshot must not hide the real failure.
            with contextlib.suppress(Exception):
                helper.shot("FAILED", full_page=True)
        (artifacts_dir / f"{_slug(helper.test_name)}-console.txt").write_text(
            "\n".join(helper.console)
        )
        # Shut the kernels this page started, so the session does not accumulate them.
        try:
            for session in lab_server.api("/api/sessions"):
                lab_server.api(f"/api/sessions/{session['id']}", method="DELETE")
        except (urllib.error.URLError, OSError):
            pass
        context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
