"""The browser harness itself, proven on plain widgets before the face-swap widget exists.

A real JupyterLab, a real kernel (the environment's python with ipykernel), real clicks in chromium:
an ipywidgets button whose Python handler updates a label, and an anywidget counter defined inline
whose Python side answers every click, so both comm directions are exercised.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

ENV_CELL = """\
import os, sys
print("EXE", sys.executable)
print("SANDBOX", os.environ.get("MIO_NB_SANDBOX_DIR"))
print("MIOCREATE", sorted(k for k in os.environ if k.startswith("MIOCREATE_")))
"""

IPYWIDGETS_CELL = """\
import ipywidgets as widgets
clicks = []
button = widgets.Button(description="Press me")
label = widgets.Label(value="not pressed")
def on_click(_):
    clicks.append(1)
    label.value = f"pressed {len(clicks)} times (python)"
button.on_click(on_click)
widgets.VBox([button, label])
"""

ANYWIDGET_CELL = '''\
import anywidget, traitlets

class Counter(anywidget.AnyWidget):
    _esm = """
    function render({ model, el }) {
      const button = document.createElement("button");
      button.className = "mio-test-counter";
      const echo = document.createElement("span");
      echo.className = "mio-test-echo";
      const show = () => { button.textContent = `count is ${model.get("count")}`; };
      const showEcho = () => { echo.textContent = model.get("echo"); };
      button.addEventListener("click", () => {
        model.set("count", model.get("count") + 1);
        model.save_changes();
      });
      model.on("change:count", show);
      model.on("change:echo", showEcho);
      show(); showEcho();
      el.append(button, echo);
    }
    export default { render };
    """
    count = traitlets.Int(0).tag(sync=True)
    echo = traitlets.Unicode("python has seen nothing").tag(sync=True)

    @traitlets.observe("count")
    def _answer(self, change):
        self.echo = f"python saw {change['new']}"

counter = Counter()
counter
'''


def test_kernel_is_the_venv_python_with_sandbox_env(lab) -> None:
    nb = lab.new_notebook_and_run("harness_env", [ENV_CELL])
    out = lab.stream_text(nb, 0)
    lines = dict(line.split(" ", 1) for line in out.strip().splitlines())
    assert Path(lines["EXE"]).resolve() == Path(sys.executable).resolve()
    assert lines["SANDBOX"] == str(lab.server.sandbox_dir)
    assert lines["MIOCREATE"] == "[]"
    # The side channel the widget tests use to ask the kernel questions without a new cell.
    assert lab.kernel_exec("print(6 * 7)") == "42\n"
    assert lab.kernel_exec("import os; print(os.getcwd())").strip() == str(lab.server.root)


def test_ipywidgets_button_and_anywidget_counter(lab) -> None:
    page = lab.page
    lab.new_notebook_and_run("harness_widgets", [IPYWIDGETS_CELL, ANYWIDGET_CELL])

    outputs = page.locator(".jp-OutputArea-output")  # not the code cells' text
    button = outputs.get_by_role("button", name="Press me")
    expect(button).to_be_visible(timeout=30_000)
    label = outputs.locator(".widget-label")
    expect(label).to_have_text("not pressed")
    lab.shot("widgets-rendered")

    button.click()
    expect(label).to_have_text("pressed 1 times (python)", timeout=15_000)
    button.click()
    expect(label).to_have_text("pressed 2 times (python)", timeout=15_000)

    counter = outputs.locator("button.mio-test-counter")
    echo = outputs.locator(".mio-test-echo")
    expect(counter).to_have_text("count is 0", timeout=30_000)
    expect(echo).to_have_text("python has seen nothing")
    for n in (1, 2, 3):
        counter.click()
        expect(counter).to_have_text(f"count is {n}")
        # The echo is set by the Python observer: the click went to the kernel and back.
        expect(echo).to_have_text(f"python saw {n}", timeout=15_000)
    lab.shot("widgets-clicked")
