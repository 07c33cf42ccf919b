"""Where the status shows: the kernel names the section with every status it sets (trait
``status_at``), so the view never places a status by its words (issue 18). Each test replays the
state messages a view receives and checks every status it would show, with its place."""

from __future__ import annotations

import ast
import time
from pathlib import Path

import pytest
from widget_testkit import Frontend, wait_for

from mio_nb import samples
from mio_nb.client import Client
from mio_nb.sandbox import Faults, Sandbox
from mio_nb.widget import FaceSwapWidget
from mio_nb.widget.state import PLACES

WIDGET = Path(__file__).resolve().parents[2] / "mio_nb" / "widget"

# Where each status belongs, by its words (here only, to check the kernel's places against).
SWAP = ("Uploading the new faces", "Swapping", "Done in ")
DETECTION = ("Choose an original", "Uploading ", "Finding faces", "Found ")  # the original's


def seen(front: Frontend) -> list[tuple[str, str, str]]:
    """(status, status_at, what was stopped last) as a view has them after each state message
    that changed one of them, from the comm's first state on; empty statuses left out. (Resume
    clears ``stopped`` before its task reports: the "Stopped waiting" status stays meanwhile.)"""
    view: dict = {}
    stopped = ""
    out: list[tuple[str, str, str]] = []
    with front.comm.lock:
        sent = list(front.comm.sent)
    for _kind, data, _buffers in sent:
        state = data.get("state")
        if not isinstance(state, dict):
            continue
        view.update(state)
        stopped = view.get("stopped", {}).get("what", stopped)
        now = (view.get("status", ""), view.get("status_at", ""), stopped)
        if now[0] and (not out or out[-1] != now):
            out.append(now)
    return out


def expected_place(status: str, stopped: str) -> str:
    if status.startswith("Stopped waiting"):
        return {"detect": "original", "swap": "swap"}[stopped]
    if status.startswith(SWAP):
        return "swap"
    assert status.startswith(DETECTION), f"a status this test does not know: {status!r}"
    return "original"


def assert_placed(front: Frontend) -> list[str]:
    shown = seen(front)
    for status, at, stopped in shown:
        assert at in PLACES, (status, at)
        assert at == expected_place(status, stopped), (status, at, stopped)
    return [status for status, _, _ in shown]


def test_every_status_of_a_detection_and_a_swap_names_its_section(
    widget: FaceSwapWidget, front: Frontend
):
    assert (widget.status_at, widget.status) == (
        "original",
        "Choose an original (image or video) to start.",
    )
    assert front.upload(samples.group_photo(faces=2).read_bytes(), "pair.png")["type"] == (
        "upload_done"
    )
    widget.wait(timeout=120)
    widget.add_faces(samples.grace_hopper())
    widget.pair(1, "A")
    widget.swap().result(timeout=300)
    statuses = assert_placed(front)
    for start in (*DETECTION, *SWAP):
        assert any(s.startswith(start) for s in statuses), (start, statuses)
    assert widget.status_at == "swap" and widget.status.startswith("Done in ")


def test_stopped_and_resumed_tasks_report_in_their_own_section(sandbox: Sandbox, client: Client):
    widget = FaceSwapWidget(client=client)
    front = Frontend(widget)
    try:
        sandbox.set_faults(Faults(task_seconds=2.0))
        # A detection stopped, then resumed: at the original all along, also in between.
        future = widget.load_main(samples.grace_hopper())
        wait_for(lambda: widget.busy.get("task_id"), 30, "the detection task")
        widget.stop()
        assert future.result(timeout=10) is None
        assert widget.stopped["what"] == "detect" and widget.status_at == "original"
        assert "keeps running on the server" in widget.status
        widget.resume().result(timeout=60)
        assert widget.status.startswith("Found 1 face") and widget.status_at == "original"
        # A swap stopped, then resumed: at Swap.
        widget.add_faces(samples.astronaut())
        future = widget.swap()
        wait_for(lambda: widget.busy.get("what") == "swap" and widget.busy.get("task_id"), 30,
                 "the swap task")  # fmt: skip
        time.sleep(0.3)
        widget.stop()
        assert future.result(timeout=10) is None
        assert widget.stopped["what"] == "swap" and widget.status_at == "swap"
        widget.resume().result(timeout=60)
        assert widget.status.startswith("Done in ") and widget.status_at == "swap"
        statuses = assert_placed(front)
        assert sum(s.startswith("Stopped waiting") for s in statuses) == 2, statuses
    finally:
        sandbox.set_faults(Faults())
        widget.close()


def test_a_failed_detection_reports_at_the_original(widget: FaceSwapWidget, front: Frontend):
    future = widget.load_main(samples.no_face())
    with pytest.raises(Exception, match="No face"):
        future.result(timeout=120)
    assert widget.error_at == "original" and widget.status_at == "original"
    statuses = assert_placed(front)
    assert any(s.startswith("Finding faces") for s in statuses), statuses


@pytest.mark.parametrize(("trait", "setter"), [("status", "_set_status"), ("error", "_set_error")])
def test_status_and_error_are_set_only_with_their_place(trait: str, setter: str) -> None:
    """No code of the widget sets ``status`` (``error``) but the one setter that sets
    ``status_at`` (``error_at``) with it: a text never shows in a section by accident."""
    names_of = (trait, f"{trait}_at")
    setters = []
    for path in WIDGET.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                targets = (
                    node.targets
                    if isinstance(node, ast.Assign)
                    else [node.target]
                    if isinstance(node, ast.AugAssign | ast.AnnAssign)
                    else []
                )
                names = [
                    t.attr
                    for target in targets
                    for t in ast.walk(target)
                    if isinstance(t, ast.Attribute) and t.attr in names_of
                ]
                calls = isinstance(node, ast.Call) and getattr(node.func, "id", "") == "setattr"
                if calls and any(
                    isinstance(a, ast.Constant) and a.value in names_of for a in node.args
                ):
                    names.append("setattr")
                if names:
                    setters.append((path.name, func.name, names))
    found = {(file, func) for file, func, _ in setters}
    assigned = sorted({name for _, _, names in setters for name in names})
    assert found == {("board.py", setter)} and assigned == sorted(names_of), setters
