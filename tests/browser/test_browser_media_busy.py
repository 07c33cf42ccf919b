"""Pictures reach the widget while the kernel is busy running cells.

A view's messages to the kernel wait while a cell runs (Run All, a long cell), so the kernel
sends each picture as soon as it is made. Here the cell that swaps goes on sleeping after the
swap: the photo, every face's picture and the result must be on screen before it ends, each
having crossed the comm once.
"""

from __future__ import annotations

import pytest
from conftest import _JS_RUN_ALL
from test_browser_faceswap_v2 import WIDGET_CELL

pytestmark = pytest.mark.browser

BUSY_CELL = """\
import time
from mio_nb import samples
found = w.load_main(samples.group_photo(faces=2))
w.add_faces(samples.grace_hopper())
found.result()
w.pair(1, "A")
w.swap().result()
open("swapped.txt", "w").write("done")
time.sleep(60)  # busy: the view's requests wait until this ends
"""

# Every <img> of the widget (photo, face cards, result) loaded, the result among them.
_JS_PICTURES = """
() => {
  const root = document.querySelector('.mio-fsw');
  if (!root) return null;
  const imgs = [...root.querySelectorAll('img')];
  const loaded = (sel) => { const i = root.querySelector(sel);
                            return !!i && i.complete && i.naturalWidth > 0; };
  return {
    photo: loaded('img.mio-photo-img'),
    result: loaded('img.mio-result-img'),
    faces: [...root.querySelectorAll('.mio-card img')].filter(
      i => i.complete && i.naturalWidth > 0).length,
    all: imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0),
  };
}
"""


@pytest.mark.timeout(600)
def test_pictures_are_on_screen_while_the_cell_is_still_running(lab, faceswap, tmp_path):
    path = lab.write_notebook("busy-kernel.ipynb", [WIDGET_CELL, BUSY_CELL])
    lab.open_notebook(path)
    lab.page.evaluate(_JS_RUN_ALL)
    state = lab.page.wait_for_function(
        f"() => {{ const s = ({_JS_PICTURES})(); return s && s.photo && s.result && s.faces >= 2"
        " && s.all ? s : null; }",
        timeout=240_000,
        polling=250,
    ).json_value()
    still_running = lab.page.evaluate("() => window.__mioRunAll === null")
    lab.shot("busy-kernel-pictures")
    assert still_running, "the cell ended before the pictures were checked: the test proves nothing"
    assert state["photo"] and state["result"] and state["faces"] >= 2, state
    assert (path.parent / "swapped.txt").exists()
    # The result as first shown is the result, whole: not a comparison.
    assert faceswap.root.locator(".mio-compare-stage").count() == 0

    # Stop the sleeping cell; the view's requests that waited are handled, then: each picture
    # crossed the comm once (pushed when made; nothing asked for again).
    lab.page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.interrupt()"
    )
    lab.page.wait_for_function("() => window.__mioRunAll !== null", timeout=60_000)
    out = lab.kernel_exec(
        "print(next(w._media._transfers) - 1, len(w._media._media), sorted(w._media._media))"
    )
    sent, published, keys = out.split(" ", 2)
    assert int(sent) == int(published), f"{sent} transfers for {published} pictures: {keys}"
