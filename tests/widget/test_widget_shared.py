"""One source for what the widget's Python and JavaScript share: the generated js/src/shared.js
is current, the JS sends only message names of :class:`Msg`, and the browser's refusals are the
kernel's, word for word, on the same files."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from mio_nb import formats
from mio_nb.widget.messages import Msg
from mio_nb.widget.shared import javascript, synced_traits

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "js" / "src"

# What people pick by mistake, and what they should pick: the first bytes of each.
HEADS = {
    "notes.jpg": b"Dear Ann,\nthe notes from Tuesday are below.\n",
    "accents.jpg": "Caf\u00e9 cr\u00e8me \u2014 \u65e5\u672c\u8a9e".encode(),
    "cut.jpg": "\u65e5\u672c\u8a9e\u65e5\u672c".encode()[:10],
    "tabs.png": b"a\tb\tc\r\n1\t2\t3\r\n",
    "report.pdf.jpg": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
    "page.png": b"<!DOCTYPE html><html><head>",
    "page2.png": b"  \n<html lang=en>",
    "drawing.png": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">',
    "photo.heic": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
    "photo.avif": b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00",
    "scan.bmp": b"BM\x36\x00\x0c\x00\x00\x00\x00\x00\x36\x00\x00\x00",
    "bmw.txt": b"BMW service notes: oil",
    "archive.jpg": b"PK\x03\x04\x14\x00\x06\x00",
    "song.mp3": b"ID3\x04\x00\x00\x00\x00",
    "clip.avi": b"RIFF\x00\x00\x00\x00AVI LIST",
    "clip.mkv": b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01matroska",
    "binary.jpg": bytes(range(0, 64)),
    "ctrl.jpg": b"hello\x00world",
    "clip.mp4": b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00",
    "clip.mov": b"\x00\x00\x00\x14ftypqt  ",
    "clip.webm": b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01B\x82\x84webm",
    "face.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "face.jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF",
    "face.gif": b"GIF89a\x01\x00",
    "face.webp": b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    "empty.jpg": b"",
}


def test_the_generated_module_is_current() -> None:
    committed = (JS / "shared.js").read_text(encoding="utf-8")
    assert committed == javascript(), (
        "js/src/shared.js is stale: run `python -m mio_nb.widget.shared > js/src/shared.js` "
        "then `cd js && npm run build`"
    )


def test_the_js_names_messages_only_through_msg() -> None:
    literal = re.compile(r"\btype\s*(?::|===|==)\s*[\"'](\w+)[\"']")
    inputs = {"file", "checkbox", "button", "range"}
    for path in JS.glob("*.js"):
        if path.name == "shared.js":
            continue
        found = set(literal.findall(path.read_text(encoding="utf-8"))) - inputs
        assert not found, f"{path.name} spells message names {found}: use MSG from shared.js"
    used = set()
    for path in JS.glob("*.js"):
        used |= set(re.findall(r"\bMSG\.(\w+)", path.read_text(encoding="utf-8")))
    assert used <= {m.name for m in Msg}


def test_python_names_messages_only_through_msg() -> None:
    # The kernel side (mio_nb/) and the browser played by tests and benchmarks use Msg, as the
    # JS uses MSG.
    names = "|".join(m.value for m in Msg)
    literal = re.compile(rf"""["']type["']\s*[)\]]?\s*(?::|==|!=)\s*["']({names})["']""")
    assert literal.search('if c.get("type") != "media"') and literal.search("{'type': 'pair'}")
    found = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for folder in (ROOT / "mio_nb", ROOT / "tests", ROOT / "benchmarks")
        for path in sorted(folder.rglob("*.py"))
        for match in literal.finditer(path.read_text(encoding="utf-8"))
        if path != Path(__file__).resolve()
    ]
    assert not found, "message names spelled out: use Msg\n" + "\n".join(found)


def test_the_widget_handles_every_browser_message_by_its_msg_name() -> None:
    from mio_nb.widget.faceswap import FaceSwapWidget

    kernel_side = {Msg.MEDIA, Msg.UPLOAD_ACK, Msg.UPLOAD_ERROR, Msg.UPLOAD_DONE}
    handled = set(FaceSwapWidget._handler_names())
    assert handled == {m.value for m in Msg} - {m.value for m in kernel_side}


def test_the_js_traits_are_the_python_traits() -> None:
    text = (JS / "shared.js").read_text(encoding="utf-8")
    names = json.loads(re.search(r"TRAIT_NAMES = Object.freeze\((\[.*?\])\)", text).group(1))
    assert names == list(synced_traits())
    for name in names:
        assert re.search(rf"^ \* @property {{.*}} {name}$", text, re.M), name


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
@pytest.mark.parametrize("role", ["main", "new_face"])
def test_the_browser_refuses_in_the_kernels_words(role: str) -> None:
    script = (
        'import { checkFile } from "./src/formats.js";\n'
        "const cases = JSON.parse(process.argv[1]);\n"
        "const out = {};\n"
        "for (const [name, bytes] of Object.entries(cases)) {\n"
        "  const head = Uint8Array.from(bytes);\n"
        f'  out[name] = checkFile({{ name, size: head.length, head, role: "{role}" }});\n'
        "}\n"
        "console.log(JSON.stringify(out));\n"
    )
    cases = {name: list(head) for name, head in HEADS.items()}
    run = subprocess.run(
        ["node", "--input-type=module", "-e", script, json.dumps(cases)],
        cwd=ROOT / "js",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    browser = json.loads(run.stdout)
    for name, head in HEADS.items():
        kernel = (
            formats.SENTENCES["empty"].format(name=name)
            if not head
            else formats.refusal(name, head, role)
        )
        assert browser[name] == kernel, name
    said = {n: browser[n] for n in ("notes.jpg", "clip.mp4", "report.pdf.jpg", "page.png")}
    assert said["notes.jpg"].startswith("notes.jpg is text, not a picture")
    assert said["report.pdf.jpg"].startswith("report.pdf.jpg is a PDF document, not a picture")
    assert said["page.png"].startswith("page.png is a web page (HTML), not a picture")
    if role == "new_face":
        assert said["clip.mp4"] == (
            "clip.mp4 is a video, not a picture: a new face must be a picture "
            "(JPG, PNG, WEBP or GIF)."
        )
        assert "MP4" not in said["notes.jpg"]  # a new face's list: pictures only
    else:
        assert said["clip.mp4"] is None and "MP4" in said["notes.jpg"]


def test_each_slot_lists_only_what_it_takes() -> None:
    assert formats.accepted_names("new_face") == "JPG, PNG, WEBP or GIF"
    assert formats.accepted_names("main") == "JPG, PNG, WEBP, GIF, MP4, M4V, MOV or WEBM"
    assert "video" not in formats.accept_attribute("new_face")
    assert ".mov" in formats.accept_attribute("main") and ".jpeg" in formats.accept_attribute(
        "main"
    )
