"""What a person sees in an executed notebook: each output's kind, its pictures and its weight.

``output_kind(output)`` names what a front-end shows for one output ("text", "image", "widget",
"video", "progress", "stderr", "error", "html"); ``check_output(output)`` lists what is wrong
with it: a blank or oversized picture, an embedded video over its cap, a poster that is not a
picture, a URL that needs the kernel's file server (``files/...`` or a relative path) or a CDN.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Mapping
from typing import Any

from nbformat.v4 import new_code_cell, new_notebook
from PIL import Image, ImageStat

IMAGE_MAX_BYTES = 187_500  # one displayed picture: 250 KB once base64-encoded in the notebook
VIDEO_MAX_BYTES = 2_000_000  # video bytes embedded in one output
TEXT_MAX_BYTES = 20_000  # one text output (a banner, a path, a repr)
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_URL = re.compile(r"""\b(?:src|href|poster)\s*=\s*["']([^"']*)["']""", re.IGNORECASE)
_DATA_URL = re.compile(r"^data:([\w/+.-]+);base64,(.*)$", re.DOTALL)


def python_notebook(*sources: str) -> Any:
    """A notebook of code cells ``sources`` for the environment's python3 kernel."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [new_code_cell(source) for source in sources]
    return nb


def output_kind(output: Mapping[str, Any]) -> str:
    """What one output shows: text, image, widget, video, html, stderr or error."""
    kind = output["output_type"]
    if kind == "stream":
        return "stderr" if output.get("name") == "stderr" else "text"
    if kind == "error":
        return "error"
    data = output.get("data", {})
    if WIDGET_VIEW in data:
        # tqdm's bar (a task taking over a second) shows its text, not the widget's name.
        return "widget" if "FaceSwapWidget" in "".join(data.get("text/plain", "")) else "progress"
    html = data.get("text/html", "")
    if "<video" in html:
        return "video"
    if "image/png" in data or "image/jpeg" in data:
        return "image"
    if html:
        return "html"
    return "text"


def cell_kinds(cell: Mapping[str, Any]) -> set[str]:
    """The kinds of all outputs of a code cell, but for progress bars (shown only when a task
    takes over a second)."""
    return {output_kind(o) for o in cell.get("outputs", [])} - {"progress"}


def _b64(value: str | list[str]) -> bytes:
    return base64.b64decode("".join(value) if isinstance(value, list) else value)


def picture_problem(data: bytes, what: str, max_bytes: int = IMAGE_MAX_BYTES) -> str | None:
    """Why ``data`` is not a good displayed picture: unreadable, blank or too heavy."""
    if len(data) > max_bytes:
        return f"{what} weighs {len(data)} bytes (cap {max_bytes})"
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            grey = img.convert("L")
    except Exception as exc:  # any decoding failure is the finding
        return f"{what} is not a picture ({exc})"
    if grey.width < 32 or grey.height < 32:
        return f"{what} is only {grey.width}x{grey.height} pixels"
    if ImageStat.Stat(grey).stddev[0] < 8:
        return f"{what} is blank (one flat colour)"
    return None


def check_output(output: Mapping[str, Any]) -> list[str]:
    """What is wrong with one output (empty when it is fine)."""
    problems = []
    data = output.get("data", {})
    for mime in ("image/png", "image/jpeg"):
        if mime in data:
            problem = picture_problem(_b64(data[mime]), mime)
            if problem:
                problems.append(problem)
    for mime in ("text/plain",):
        if len("".join(data.get(mime, ""))) > TEXT_MAX_BYTES:
            problems.append(f"{mime} output over {TEXT_MAX_BYTES} bytes")
    if output.get("output_type") == "stream" and len("".join(output["text"])) > TEXT_MAX_BYTES:
        problems.append(f"stream output over {TEXT_MAX_BYTES} bytes")
    html = "".join(data.get("text/html", ""))
    for url in _URL.findall(html):
        match = _DATA_URL.match(url)
        if not match:
            problems.append(f"HTML output links {url[:80]!r}: not self-contained")
            continue
        mime, payload = match.groups()
        raw = base64.b64decode(payload)
        if mime.startswith("video/"):
            if len(raw) > VIDEO_MAX_BYTES:
                problems.append(f"embedded video of {len(raw)} bytes (cap {VIDEO_MAX_BYTES})")
        elif mime.startswith("image/"):
            problem = picture_problem(raw, f"embedded {mime}")
            if problem:
                problems.append(problem)
        else:
            problems.append(f"HTML output embeds {mime}")
    if "<video" in html and "poster=" not in html:
        problems.append("video without a poster")
    return problems


def video_sources(output: Mapping[str, Any]) -> list[bytes]:
    """The embedded video files of an output."""
    html = "".join(output.get("data", {}).get("text/html", ""))
    found = []
    for url in _URL.findall(html):
        match = _DATA_URL.match(url)
        if match and match.group(1).startswith("video/"):
            found.append(base64.b64decode(match.group(2)))
    return found
