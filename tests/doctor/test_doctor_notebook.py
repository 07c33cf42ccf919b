"""doctor in a notebook: a table (HTML), and the widget front-end checked by a tiny anywidget whose
answer (or silence) is written into the table."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import comm
import nbformat
import pytest

from mio_nb.doctor import PROBE_RENDERED, WIDGET_FIXES, Report, WidgetProbe
from mio_nb.sandbox import Sandbox

sys.path.insert(0, str(Path(__file__).parents[1] / "widget"))
from widget_testkit import RecordingComm


def probe_report(front_end: str, timeout: float) -> tuple[Report, WidgetProbe]:
    report = Report(backend="test")
    report.add("widget front-end", "SKIP", "waiting...")
    probe = WidgetProbe(front_end, timeout)
    probe.start(report)
    return report, probe


def test_a_front_end_that_renders_the_probe_turns_the_line_ok(monkeypatch):
    monkeypatch.setattr(comm, "create_comm", lambda **kw: RecordingComm(**kw))
    report, probe = probe_report("jupyter", 5.0)
    # What the probe's render() sends from the browser.
    msg = {"content": {"data": {"method": "custom", "content": {"type": PROBE_RENDERED}}}}
    probe.widget._handle_msg({**msg, "buffers": []})
    line = report.check("widget front-end")
    assert line.status == "OK" and "the browser rendered a test widget" in line.detail
    assert report.ok


@pytest.mark.parametrize("front_end", ["colab", "vscode", "jupyter"])
def test_silence_names_the_fix_of_that_front_end(monkeypatch, front_end):
    monkeypatch.setattr(comm, "create_comm", lambda **kw: RecordingComm(**kw))
    report, probe = probe_report(front_end, 0.2)
    assert not probe.answered.wait(1.0)
    line = report.check("widget front-end")
    assert line.status == "FIX"
    assert line.detail.startswith("no reply from the front-end within 0.2 s")
    assert WIDGET_FIXES[front_end] in line.detail
    if front_end == "colab":
        assert "output.enable_custom_widget_manager()" in line.detail


def test_a_notebook_cell_shows_the_table_and_the_probe(tmp_path, sandbox: Sandbox):
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import mio_nb\nreport = mio_nb.doctor(engine=False, widget_timeout=1)\nreport"
        ),
        nbformat.v4.new_code_cell(
            "import time\ntime.sleep(2.5)\nprint(report.check('widget front-end'))"
        ),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIOCREATE_", "MIO_NB_"))}
    env.update(
        MIOCREATE_BASE_URL=sandbox.base_url,
        MIOCREATE_TOKEN=sandbox.token,
        IPYTHONDIR=str(tmp_path / "ipython"),
    )
    before = len(sandbox.tasks())
    NotebookClient(
        nb, timeout=120, startup_timeout=120, kernel_name="python3", allow_errors=False
    ).execute(env=env)
    first, second = nb.cells[0].outputs, nb.cells[1].outputs
    kinds = [sorted(o.get("data", {})) for o in first]
    assert any("text/html" in k for k in kinds), kinds
    assert any("application/vnd.jupyter.widget-view+json" in k for k in kinds), kinds
    table = next(o for o in first if "text/html" in o.get("data", {}))["data"]["text/html"]
    assert "<table>" in table and "authentication" in table and "the local sandbox" in table
    # Nobody renders widgets under nbclient: the line says so, and what to do.
    assert "FIX   widget front-end   no reply from the front-end within 1 s" in second[0]["text"]
    assert "no reply from the front-end" in table, "the table was updated in place"
    everything = nbformat.writes(nb)
    assert sandbox.token not in everything
    assert len(sandbox.tasks()) == before
