"""Colab, as far as it can run here (issue 9): a kernel where ``google.colab`` exists (faked as
anywidget's own tests do: ``google.colab.output`` with ``enable_custom_widget_manager`` and the
widget manager's URL; ``google.colab.userdata`` holding the token as a Colab secret).

A Colab browser cannot fetch the kernel's files and drops comm messages above ~1 MB, so every
output must be self-contained: the test runs a notebook there that uses the token from Colab
secrets, shows ``faces.plot()``, an image result, a video result and the widget, and checks that
each shows what it should, that no output links ``files/`` or any relative or remote URL, that the
widget asked Colab for its custom widget manager, and that the token appears nowhere in the
saved notebook.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from nb_outputs import WIDGET_VIEW, cell_kinds, check_output, python_notebook

TOKEN = "sbx_colab_" + secrets.token_hex(12)
FAKE_COLAB = """
import os, sys, types
from mio_nb.sandbox import Sandbox
sandbox = Sandbox(engine="real", token=TOKEN_VALUE)
calls = []
google = types.ModuleType("google")
colab = types.ModuleType("google.colab")
output = types.ModuleType("google.colab.output")
userdata = types.ModuleType("google.colab.userdata")
output.enable_custom_widget_manager = lambda: calls.append("enable_custom_widget_manager")
output._widgets = types.SimpleNamespace(_installed_url="https://colab.invalid/widgets.js")
secrets = {"MIOCREATE_TOKEN": sandbox.token}
userdata.get = lambda name: secrets[name]
google.colab, colab.output, colab.userdata = colab, output, userdata
sys.modules.update({"google": google, "google.colab": colab,
                    "google.colab.output": output, "google.colab.userdata": userdata})
os.environ["MIOCREATE_BASE_URL"] = sandbox.base_url
""".replace("TOKEN_VALUE", repr(TOKEN))

CELLS = [
    FAKE_COLAB,
    "import mio_nb\nfrom mio_nb import FaceSwapWidget, samples\n"
    "client = mio_nb.connect(quiet=True)\n"
    "print(client._transport.credentials.source)",
    "faces = client.detect_faces(samples.group_photo(faces=2))\nfaces.plot()",
    "client.swap_image(samples.grace_hopper(), samples.astronaut())",
    "client.swap_video(samples.sample_video(faces=1, seconds=1), samples.astronaut())",
    "w = FaceSwapWidget(client=client)\nw",
    "print(calls)",
]
EXPECTED = [set(), {"text"}, {"image"}, {"image", "text"}, {"video", "text"}, {"widget"}, {"text"}]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_in_a_colab_kernel_every_output_is_self_contained(run_notebook, notebooks_copy: Path):
    executed = run_notebook(python_notebook(*CELLS), notebooks_copy)
    cells = executed.cells
    assert [cell_kinds(c) for c in cells] == EXPECTED
    assert "".join(cells[1].outputs[0]["text"]).strip() == "Colab secrets"
    problems = [p for c in cells for o in c.outputs for p in check_output(o)]
    assert not problems, problems
    (view,) = [o for o in cells[5].outputs if WIDGET_VIEW in o.get("data", {})]
    assert view["metadata"][WIDGET_VIEW]["colab"]["custom_widget_manager"]["url"]
    assert "".join(cells[6].outputs[0]["text"]).strip() == "['enable_custom_widget_manager']"
    outputs = json.dumps([c.outputs for c in cells])
    assert TOKEN not in outputs and TOKEN not in json.dumps(executed.metadata)
    html = "".join(
        "".join(o.get("data", {}).get("text/html", "")) for c in cells for o in c.outputs
    )
    assert "<video" in html
    for marker in ("files/", "mio_outputs", "127.0.0.1", "localhost", "http"):
        assert marker not in html, marker
