"""Debian's chromium driven over the DevTools protocol without Playwright, for timing only.

Playwright enables the DevTools *Network* domain on every page it drives, and chromium then copies
each websocket frame (base64) to the driver: uploading 200 MB through a page under Playwright costs
the browser several CPU seconds that a person's browser never spends (a bare websocket upload of
200 MB measured 85 MB/s in a plain chromium, 20 MB/s in the same chromium under Playwright). This
client enables no domain at all: it navigates, evaluates JavaScript and sets a file input, so what
it times is what a person's browser does.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import websocket  # websocket-client, which jupyter_server requires
from conftest import CHROMIUM, CHROMIUM_ARGS


class PlainChromium:
    """One headless chromium with one page; ``evaluate`` runs an async JS function's body."""

    def __init__(self) -> None:
        self._profile = Path(tempfile.mkdtemp(prefix="mio-plain-chromium-"))
        self.proc = subprocess.Popen(
            [str(CHROMIUM), *CHROMIUM_ARGS, f"--user-data-dir={self._profile}",
             "--remote-debugging-port=0", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        port_file = self._profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list") as answer:
            page = next(t for t in json.load(answer) if t["type"] == "page")
        self._ws = websocket.create_connection(
            page["webSocketDebuggerUrl"], timeout=900, suppress_origin=True
        )
        self._ids = itertools.count(1)
        # Headless pages have no focus, and JupyterLab's current notebook follows the focus.
        self.call("Emulation.setFocusEmulationEnabled", enabled=True)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        self._ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:  # no domain is enabled, so only answers come back
            answer = json.loads(self._ws.recv())
            if answer.get("id") == call_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer["result"]

    def evaluate(self, body: str) -> Any:
        """The value of ``(async () => { <body> })()`` in the page."""
        result = self.call(
            "Runtime.evaluate",
            expression=f"(async () => {{ {body} }})()",
            awaitPromise=True,
            returnByValue=True,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"page error: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, condition: str, timeout: float) -> None:
        """Wait until the JS expression ``condition`` is true (checked every 25 ms in the page)."""
        ok = self.evaluate(
            f"const end = performance.now() + {timeout * 1000};"
            "while (performance.now() < end) {"
            f" try {{ if ({condition}) return true; }} catch (e) {{}}"
            " await new Promise(r => setTimeout(r, 25)); } return false;"
        )
        if not ok:
            raise TimeoutError(f"not true after {timeout} s: {condition}")

    def set_file(self, selector: str, path: Path) -> None:
        root = self.call("DOM.getDocument", depth=0)["root"]["nodeId"]
        node = self.call("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
        if not node:
            raise RuntimeError(f"no element {selector}")
        self.call("DOM.setFileInputFiles", nodeId=node, files=[str(path)])

    def close(self) -> None:
        if getattr(self, "_ws", None) is not None:
            self._ws.close()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        shutil.rmtree(self._profile, ignore_errors=True)
