"""Refused early: every input mistake is caught before the first request, and says which file
(and in which role) or which argument is wrong. Requests are counted by the sandbox itself."""

from __future__ import annotations

import os
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from client_testkit import FAST_RETRY, portrait
from PIL import Image

from mio_nb import Client, FaceSet, MioError, samples
from mio_nb.sandbox import Sandbox


class RequestCounter:
    """Counts every HTTP request the sandbox's server parses (API and storage alike)."""

    def __init__(self, sb: Sandbox) -> None:
        self.count = 0
        self._lock = threading.Lock()
        counter = self
        base = sb._httpd.RequestHandlerClass

        class Counting(base):  # type: ignore[misc, valid-type]
            def _dispatch(self) -> None:
                with counter._lock:
                    counter.count += 1
                super()._dispatch()

        sb._httpd.RequestHandlerClass = Counting


@pytest.fixture(scope="module")
def counted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, RequestCounter]]:
    with Sandbox(port=0, data_dir=tmp_path_factory.mktemp("bad-sb"), engine="instant") as sb:
        yield sb, RequestCounter(sb)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_header(width: int, height: int, idat: bytes = b"") -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = _chunk(b"IHDR", ihdr) + (_chunk(b"IDAT", idat) if idat else b"")
    return b"\x89PNG\r\n\x1a\n" + body + _chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bad-inputs")
    good = d / "good.jpg"
    portrait().save(good, quality=90)
    jpg = good.read_bytes()
    png_path = d / "good.png"
    portrait(seed=1).save(png_path)
    png = png_path.read_bytes()
    video = Path(samples.sample_video(faces=1, seconds=1.0, height=240, audio=False)).read_bytes()
    other = d / "other.jpg"
    portrait((150, 190), seed=3).save(other, quality=90)
    out: dict[str, Path] = {"good": good, "good_png": png_path, "other": other}

    def put(name: str, data: bytes) -> None:
        (d / name).write_bytes(data)
        out[name] = d / name

    put("empty.jpg", b"")
    put("notes.jpg", b"these are my notes, not a photo\n" * 4)
    put("scan.pdf", b"%PDF-1.4\n" + b"0" * 200)
    put("truncated.jpg", jpg[: len(jpg) // 2])
    put("noise.jpg", b"\xff\xd8\xff\xe0" + os.urandom(3000))
    put("signature.png", b"\x89PNG\r\n\x1a\n")
    put("zero.png", _png_header(0, 0))
    put("bomb.png", _png_header(30000, 30000, zlib.compress(b"\0" * 1000)))
    put("108mp.png", _png_header(12000, 9000, zlib.compress(b"\0" * 1000)))
    put("truncated.png", png[: len(png) // 2])
    broken = bytearray(png)
    mid = len(broken) // 2
    broken[mid : mid + 64] = bytes(64)
    put("broken-idat.png", bytes(broken))
    put("noise.gif", b"GIF89a" + os.urandom(500))
    put("header.webp", b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(16))
    put(
        "header.webm",
        b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04"
        b"\x42\xf3\x81\x08\x42\x82\x84webm\x42\x87\x81\x04\x42\x85\x81\x02",
    )
    put("segment.webm", out["header.webm"].read_bytes() + b"\x18\x53\x80\x67\x01" + bytes(7))
    put("header.mp4", b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2")
    put("header.mov", b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ")
    put("empty-moov.mov", b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  \x00\x00\x00\x08moov")
    put("half.mp4", video[: len(video) // 2])
    put("clip.mp4", video)
    huge = d / "huge.mp4"
    with open(huge, "wb") as f:
        f.truncate(500_000_001)  # sparse: costs no disk
    out["huge.mp4"] = huge
    os.mkfifo(d / "pipe.jpg")
    out["pipe.jpg"] = d / "pipe.jpg"
    (d / "folder.jpg").mkdir()
    out["folder.jpg"] = d / "folder.jpg"
    (d / "dangling.jpg").symlink_to(d / "nowhere.jpg")
    out["dangling.jpg"] = d / "dangling.jpg"
    out["missing.jpg"] = d / "missing.jpg"
    (d / "a-file").write_text("I am a file")
    out["a-file"] = d / "a-file"
    return out


@pytest.fixture(scope="module")
def faces(counted: tuple[Sandbox, RequestCounter], tmp_path_factory) -> FaceSet:
    """A real FaceSet of the three-face group photo (made before any case is counted)."""
    sb, _ = counted
    out = tmp_path_factory.mktemp("faces-out")
    with Client.for_sandbox(sb, output_dir=out, progress=False) as c:
        found = c.detect_faces(samples.group_photo(faces=3), timeout=60)
    assert len(found) == 3
    return found


@dataclass(frozen=True)
class Case:
    id: str
    run: Callable[[Client, dict[str, Path], FaceSet], Any]
    says: tuple[str, ...]  # what the message must name (the file and its role, or the argument)
    client_options: tuple[tuple[str, Any], ...] = ()


def swap(original: str, new_face: str = "good") -> Callable[..., Any]:
    return lambda c, f, _: c.swap_image(f[original], f[new_face])


def swap_as_new_face(name: str) -> Callable[..., Any]:
    return lambda c, f, _: c.swap_image(f["good"], f[name])


def video_swap(original: str) -> Callable[..., Any]:
    return lambda c, f, _: c.swap_video(f[original], f["good"])


CASES = [
    # -- the original, by path ------------------------------------------------------------
    Case("missing", swap("missing.jpg"), ("original", "missing.jpg", "does not exist")),
    Case("dangling-symlink", swap("dangling.jpg"), ("original", "dangling.jpg")),
    Case("directory", swap("folder.jpg"), ("original", "folder.jpg", "not a file")),
    Case("fifo", swap("pipe.jpg"), ("original", "pipe.jpg", "not a file")),
    Case("empty", swap("empty.jpg"), ("original", "empty.jpg", "empty")),
    Case("text-named-jpg", swap("notes.jpg"), ("original", "notes.jpg", "is text, not a picture")),
    Case("pdf", swap("scan.pdf"), ("original", "scan.pdf", "is a PDF document")),
    Case("truncated-jpeg", swap("truncated.jpg"), ("original", "truncated.jpg", "decoded")),
    Case("jpeg-magic-noise", swap("noise.jpg"), ("original", "noise.jpg", "decoded")),
    Case("png-signature-only", swap("signature.png"), ("original", "signature.png")),
    Case("png-0x0", swap("zero.png"), ("original", "zero.png")),
    Case("png-bomb-30000", swap("bomb.png"), ("original", "bomb.png", "megapixels")),
    Case("png-108-megapixels", swap("108mp.png"), ("original", "108mp.png", "megapixels")),
    Case("truncated-png", swap("truncated.png"), ("original", "truncated.png", "decoded")),
    Case("png-broken-idat", swap("broken-idat.png"), ("original", "broken-idat.png")),
    Case("gif-magic-noise", swap("noise.gif"), ("original", "noise.gif")),
    Case("webp-header-only", swap("header.webp"), ("original", "header.webp")),
    Case("video-as-image-original", swap("clip.mp4"), ("original", "clip.mp4", "video")),
    Case("over-500-mb", swap("huge.mp4"), ("original", "huge.mp4", "500 MB")),
    # -- videos -------------------------------------------------------------------------
    Case("webm-header-only", video_swap("header.webm"), ("original", "header.webm")),
    Case("webm-empty-segment", video_swap("segment.webm"), ("original", "segment.webm")),
    Case("mp4-header-only", video_swap("header.mp4"), ("original", "header.mp4", "moov")),
    Case("mov-header-only", video_swap("header.mov"), ("original", "header.mov", "moov")),
    Case("mov-empty-moov", video_swap("empty-moov.mov"), ("original", "empty-moov.mov")),
    Case("mp4-cut-in-half", video_swap("half.mp4"), ("original", "half.mp4")),
    Case("image-as-video-original", video_swap("good"), ("original", "good.jpg", "image")),
    # -- the new face ---------------------------------------------------------------------
    Case("new-face-missing", swap_as_new_face("missing.jpg"), ("new face", "missing.jpg")),
    Case("new-face-truncated", swap_as_new_face("truncated.jpg"), ("new face", "truncated.jpg")),
    Case("new-face-video", swap_as_new_face("clip.mp4"), ("new face", "clip.mp4", "video")),
    Case("new-face-empty", swap_as_new_face("empty.jpg"), ("new face", "empty.jpg")),
    # -- in-memory inputs -----------------------------------------------------------------
    Case("empty-bytes", lambda c, f, _: c.swap_image(b"", f["good"]), ("original", "empty")),
    Case(
        "truncated-jpeg-bytes",
        lambda c, f, _: c.swap_image(f["truncated.jpg"].read_bytes(), f["good"]),
        ("original", "in-memory data", "decoded"),
    ),
    Case(
        "pil-0x0",
        lambda c, f, _: c.swap_image(Image.new("RGB", (0, 0)), f["good"]),
        ("original", "0x0"),
    ),
    Case(
        "pil-108-megapixels",
        lambda c, f, _: c.swap_image(f["good"], Image.new("1", (12000, 9000))),
        ("new face", "megapixels"),
    ),
    Case("not-a-file-object", lambda c, f, _: c.swap_image(42, f["good"]), ("original", "int")),
    Case(
        "upload-many-one-bad",
        lambda c, f, _: c.upload_many([f["good"], f["truncated.jpg"]]),
        ("input #1", "truncated.jpg"),
    ),
    # -- arguments ------------------------------------------------------------------------
    Case("hd-no", lambda c, f, _: c.swap_image(f["good"], f["other"], hd="no"), ("hd", "'no'")),
    Case("hd-0", lambda c, f, _: c.swap_image(f["good"], f["other"], hd=0), ("hd", "0")),
    Case("hd-3", lambda c, f, _: c.swap_image(f["good"], f["other"], hd=3), ("hd", "3")),
    Case("timeout-0", lambda c, f, _: c.swap_image(f["good"], f["other"], timeout=0), ("timeout",)),
    Case(
        "timeout-negative",
        lambda c, f, _: c.swap_image(f["good"], f["other"], timeout=-5),
        ("timeout", "-5"),
    ),
    Case(
        "detect-timeout-0",
        lambda c, f, _: c.detect_faces(f["good"], timeout=0),
        ("timeout",),
    ),
    Case("client-timeout-0", lambda c, f, _: Client(c.base_url, "t", timeout=0), ("timeout",)),
    Case(
        "client-wait-timeout-negative",
        lambda c, f, _: Client(c.base_url, "t", wait_timeout=-1),
        ("wait_timeout",),
    ),
    # -- faces ----------------------------------------------------------------------------
    Case(
        "face-index-negative",
        lambda c, f, fs: c.swap_faces(None, {-1: f["good"]}, faceset=fs),
        ("face -1", "0..2"),
    ),
    Case(
        "face-index-too-big",
        lambda c, f, fs: c.swap_faces(None, {5: f["good"]}, faceset=fs),
        ("face 5", "0..2"),
    ),
    Case(
        "faces-of-another-original",
        lambda c, f, fs: c.swap_faces(f["other"], {fs[0]: f["good"]}, faceset=fs),
        ("original", "other.jpg", "group-3"),
    ),
    Case(
        "faces-of-another-key",
        lambda c, f, fs: c.swap_faces("temporary/20240101/1/x.jpg", {fs[0]: f["good"]}, fs),
        ("original", "x.jpg"),
    ),
    Case(
        "face-new-face-truncated",
        lambda c, f, fs: c.swap_faces(None, {fs[2]: f["truncated.jpg"]}, faceset=fs),
        ("new face for face 2", "truncated.jpg"),
    ),
    Case(
        "face-new-face-video",
        lambda c, f, fs: c.swap_faces(None, {fs[1]: f["clip.mp4"]}, faceset=fs),
        ("new face for face 1", "clip.mp4"),
    ),
    Case("no-faces", lambda c, f, fs: c.swap_faces(None, {}, faceset=fs), ("No face",)),
    Case(
        "face-key-a-string",
        lambda c, f, fs: c.swap_faces(None, {"a": f["good"]}, faceset=fs),
        ("'a'",),
    ),
    # -- the output folder ----------------------------------------------------------------
    Case(
        "output-through-a-file",
        lambda c, f, _: c.swap_image(f["good"], f["other"]),
        ("output folder", "a-file"),
        (("output_dir", "{a-file}/out"),),
    ),
    Case(
        "output-cannot-be-created",
        lambda c, f, _: c.swap_image(f["good"], f["other"]),
        ("output folder", "/proc/self/mio-out"),
        (("output_dir", "/proc/self/mio-out"),),
    ),
    Case(
        "output-not-writable",
        lambda c, f, _: c.swap_image(f["good"], f["other"]),
        ("output folder", "/proc/self"),
        (("output_dir", "/proc/self"),),
    ),
]


def test_the_table_has_at_least_40_kinds() -> None:
    assert len({c.id for c in CASES}) == len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_bad_input_is_refused_before_any_request(
    case: Case,
    counted: tuple[Sandbox, RequestCounter],
    files: dict[str, Path],
    faces: FaceSet,
    tmp_path: Path,
) -> None:
    sb, counter = counted
    options = {k: v.format(**{"a-file": files["a-file"]}) for k, v in case.client_options}
    options.setdefault("output_dir", str(tmp_path / "out"))
    before = counter.count
    client = Client.for_sandbox(sb, retry=FAST_RETRY, progress=False, **options)
    with pytest.raises(MioError) as info:
        case.run(client, files, faces)
    text = str(info.value)
    for expected in case.says:
        assert expected in text, f"{expected!r} not in {text!r}"
    assert "Traceback" not in text and sb.data_dir.as_posix() not in text
    assert client.request_count == 0
    assert counter.count == before, "a request reached the server"
    assert client.history() == [] if case.client_options == () else True
