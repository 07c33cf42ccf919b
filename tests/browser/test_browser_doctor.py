"""mio_nb.doctor() in JupyterLab: the test widget renders in a real front-end and its answer turns
the table's "widget front-end" line OK in place (the kernel-side check of issue 19)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser]

ANSWERED = "the browser rendered a test widget"


def test_doctor_table_shows_the_front_end_answered(lab) -> None:
    nb = lab.new_notebook_and_run(
        "doctor", ["import mio_nb\nreport = mio_nb.doctor(engine=False, widget_timeout=60)\nreport"]
    )
    html = [
        "".join(out["data"]["text/html"])
        for out in nb["cells"][0]["outputs"]
        if "text/html" in out.get("data", {})
    ]
    assert html and "<table>" in html[0] and "mio-nb doctor" in html[0]
    lab.page.wait_for_function(
        f"() => document.body.innerText.includes({ANSWERED!r})", timeout=60_000, polling=250
    )
    text = lab.page.inner_text(".jp-OutputArea")
    assert "OK\twidget front-end" in text or "OK widget front-end" in " ".join(text.split())
    assert "no reply from the front-end" not in text
    assert lab.kernel_exec("print(report.check('widget front-end').status)").strip() == "OK"
    lab.shot("doctor-table")
