"""The widget avoids what Colab lacks (issue 5).

Colab's browser cannot reach the kernel's localhost (so no media may be fetched from a local URL:
everything has to travel inside comm messages), and Colab drops comm messages above about 1 MB
(jupyter-widgets/ipywidgets#3452). This test watches every websocket frame between the page and
the kernel and every request the page makes while a person swaps a face in a photo larger than
that limit, so the upload and the result both have to be cut into pieces.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("mio_nb.widget", reason="mio_nb.widget (FaceSwapWidget) cannot be imported yet")
from mio_nb import samples

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: The largest websocket frame allowed (one frame carries one kernel message with its buffers).
MAX_FRAME_BYTES = 1_000_000
#: Pages JupyterLab itself may load from the server; media from the kernel must not be among them.
SERVER_MEDIA_PATHS = ("/files/", "/view/", "/nbconvert/")


def big_portrait(folder: Path) -> Path:
    """A real one-face photo well above 1 MB: the sample portrait enlarged, with film grain."""
    with Image.open(samples.group_photo(faces=1)) as im:
        im = im.convert("RGB").resize((im.width * 5, im.height * 5), Image.Resampling.LANCZOS)
    rng = np.random.default_rng(7)
    pixels = np.asarray(im, dtype=np.int16) + rng.normal(0, 4, (im.height, im.width, 3)).astype(
        np.int16
    )
    path = folder / "big-portrait.png"
    Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(path)
    return path


def test_no_large_comm_message_and_no_local_media_urls(lab, faceswap, tmp_path) -> None:
    original = big_portrait(tmp_path)
    size = original.stat().st_size
    assert size > 3_000_000, f"the test photo should be well above 1 MB: {size}"

    frames: dict[str, list[int]] = {"sent": [], "received": []}

    def nbytes(payload: str | bytes) -> int:
        return len(payload.encode()) if isinstance(payload, str) else len(payload)

    def watch(ws) -> None:
        if "/api/kernels/" not in ws.url:
            return
        ws.on("framesent", lambda payload: frames["sent"].append(nbytes(payload)))
        ws.on("framereceived", lambda payload: frames["received"].append(nbytes(payload)))

    requests: list[tuple[str, str]] = []
    lab.page.on("websocket", watch)
    lab.page.on("request", lambda req: requests.append((req.resource_type, req.url)))

    faceswap.show("colab_check")
    faceswap.upload_original(original)
    faceswap.wait_visible(faceswap.button("Detected face 1"), 180, "the face of the big photo")
    faceswap.add_new_face(samples.astronaut())
    faceswap.wait_visible(faceswap.button("New face A"), 180, "new face A")
    swap = faceswap.button("Swap")
    swap.wait_for(state="visible")
    lab.page.wait_for_function("b => !b.disabled", arg=swap.element_handle(), timeout=15_000)
    swap.click()
    result = faceswap.root.locator('img[alt="Swap result"]')
    faceswap.wait_visible(result, 300, "the swap result image")
    lab.page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=result.element_handle(), timeout=30_000
    )
    lab.shot("colab-check-finished")

    # 1. Comm messages: the whole photo went up, yet no frame came near Colab's limit.
    assert frames["sent"] and frames["received"], "no kernel websocket traffic was seen"
    summary = {
        side: f"{len(sizes)} frames, {sum(sizes)} bytes, largest {sorted(sizes)[-3:]}"
        for side, sizes in frames.items()
    }
    (lab.artifacts / "colab-websocket-frames.txt").write_text(f"photo {size} bytes\n{summary}\n")
    assert sum(frames["sent"]) > size, (
        f"only {sum(frames['sent'])} bytes went to the kernel for a {size}-byte photo"
    )
    biggest_sent, biggest_received = max(frames["sent"]), max(frames["received"])
    assert biggest_sent <= MAX_FRAME_BYTES, (
        f"a {biggest_sent}-byte message went to the kernel ({summary['sent']})"
    )
    assert biggest_received <= MAX_FRAME_BYTES, (
        f"a {biggest_received}-byte message came from the kernel ({summary['received']})"
    )

    # 2. No media by URL: the page asked nothing of any server but JupyterLab's, and nothing of
    #    JupyterLab's file-serving routes; the widget's media are blob:/data: URLs it made itself.
    lab_origin = urlsplit(lab.server.url)
    foreign = [
        (kind, url)
        for kind, url in requests
        if urlsplit(url).scheme in ("http", "https", "ws", "wss")
        and (urlsplit(url).hostname, urlsplit(url).port) != (lab_origin.hostname, lab_origin.port)
    ]
    assert not foreign, f"the page made requests outside JupyterLab: {foreign}"
    served = [
        (kind, url) for kind, url in requests if urlsplit(url).path.startswith(SERVER_MEDIA_PATHS)
    ]
    assert not served, f"media fetched from the Jupyter server: {served}"
    sources = faceswap.media_sources()
    assert sources, "the widget shows no media"
    assert all(src.startswith(("blob:", "data:")) for src in sources), sources
