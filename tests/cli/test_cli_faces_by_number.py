"""`mio-nb faces` numbers faces from 1 in reading order, with a picture of them on the original;
`mio-nb swap ORIGINAL NEW --face N` and `--pair N=PATH ...` change exactly the chosen faces.

Real subprocesses against a sandbox with the real engine, on a real frame of the shared clips
(read in place, saved to tmp at test time) and on the package's group photo.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from cli_testkit import mio
from PIL import Image

from mio_nb import samples
from mio_nb.sandbox import Sandbox

REAL = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "real"
if not REAL.is_dir():
    REAL = Path("/work/shared/fixtures/real")
FACE_LINE = re.compile(r"^\s+face (\d+): \d+x\d+\s+at x=(\d+) y=(\d+) \((\d+)x(\d+)\)")


@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(port=0, data_dir=tmp_path_factory.mktemp("cli-faces-sb"), engine="real") as sb:
        yield sb


def real_frame(tmp_path: Path, clip: str, index: int) -> Path:
    """One frame of a shared real clip as a JPEG in tmp (the clip is read in place)."""
    with Image.open(REAL / clip) as gif:
        gif.seek(index)
        frame = gif.convert("RGB")
    frame = frame.resize((frame.width * 2, frame.height * 2), Image.Resampling.LANCZOS)
    path = tmp_path / f"{Path(clip).stem}-{index}.jpg"
    frame.save(path, quality=95)
    return path


def boxes(stdout: str) -> dict[int, tuple[int, int, int, int]]:
    found = {}
    for line in stdout.splitlines():
        m = FACE_LINE.match(line)
        if m:
            number, x, y, w, h = map(int, m.groups())
            found[number] = (x, y, w, h)
    return found


def changed(original: Path, result: Path, box: tuple[int, int, int, int]) -> float:
    """Mean absolute difference (0..255) inside the face's box, result against original."""
    a = np.asarray(Image.open(original).convert("RGB"), dtype=np.float32)
    b = np.asarray(Image.open(result).convert("RGB").resize((a.shape[1], a.shape[0])), np.float32)
    x, y, w, h = box
    # the middle of the box: eyes, nose and mouth (what a swap replaces), not the background
    x, y, w, h = x + w // 5, y + h // 5, w * 3 // 5, h * 3 // 5
    return float(np.abs(a[y : y + h, x : x + w] - b[y : y + h, x : x + w]).mean())


@pytest.fixture(params=["group", "real-frame"])
def group(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    if request.param == "group":
        return Path(samples.group_photo(faces=3))
    return real_frame(tmp_path, "face-demographics-walking-and-pause.gif", 40)


def test_faces_are_numbered_from_1_in_reading_order_with_a_picture(
    sb: Sandbox, group: Path, tmp_path: Path
) -> None:
    run = mio("faces", group, "--picture", "numbered.png", sb=sb, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    found = boxes(run.stdout)
    assert len(found) >= 2, run.stdout
    assert sorted(found) == list(range(1, len(found) + 1))
    # reading order: within a row (centres close in y) left to right
    centres = [(x + w / 2, y + h / 2, h) for x, y, w, h in (found[n] for n in sorted(found))]
    for (x1, y1, h1), (x2, y2, h2) in itertools.pairwise(centres):
        assert y2 >= y1 - 0.5 * max(h1, h2)
        if abs(y2 - y1) < 0.5 * max(h1, h2):
            assert x2 > x1
    picture = Image.open(tmp_path / "numbered.png")
    assert picture.size[0] > 300 and picture.getextrema() != ((0, 0),) * 3
    assert "Numbered faces on the original: numbered.png" in run.stdout


def test_swap_face_n_changes_only_that_face(sb: Sandbox, group: Path, tmp_path: Path) -> None:
    found = boxes(mio("faces", group, sb=sb, cwd=tmp_path).stdout)
    chosen = len(found)  # the last one: not the default a swap would pick
    run = mio(
        "swap", group, samples.astronaut(), "--face", chosen, "-o", "one.png", sb=sb, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    result = tmp_path / "one.png"
    for number, box in found.items():
        diff = changed(group, result, box)
        if number == chosen:
            assert diff > 2.5, (number, diff)
        else:
            assert diff < 1.0, (number, diff)


def test_several_pairs_change_exactly_the_chosen_faces(
    sb: Sandbox, group: Path, tmp_path: Path
) -> None:
    found = boxes(mio("faces", group, sb=sb, cwd=tmp_path).stdout)
    assert len(found) >= 2
    pairs = {1: samples.astronaut(), len(found): samples.grace_hopper()}
    flags = [f"--pair={n}={path}" for n, path in pairs.items()]
    run = mio("swap", group, *flags, "-o", "two.png", sb=sb, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    for number, box in found.items():
        diff = changed(group, tmp_path / "two.png", box)
        assert (diff > 2.5) if number in pairs else (diff < 1.0), (number, diff)


@pytest.mark.parametrize(
    "args, says",
    [
        (["--pair", "0=a.png"], "not FACE=PATH"),
        (["--pair", "one=a.png"], "not FACE=PATH"),
        (["--pair", "2"], "not FACE=PATH"),
        (["NEW", "--pair", "1=a.png"], "not both"),
        (["--pair", "1=a.png", "--pair", "1=a.png"], "paired twice"),
        ([], "give the new face"),
        (["--pair", "1=missing.png"], "no such file"),
        (["a.png", "--face", "0"], "not a face number"),
    ],
)
def test_bad_face_choices_are_refused_before_anything_is_sent(
    sb: Sandbox, tmp_path: Path, args: list[str], says: str
) -> None:
    (tmp_path / "a.png").write_bytes(Path(samples.astronaut()).read_bytes())
    (tmp_path / "NEW").write_bytes(b"x")
    before = len(sb.tasks())
    run = mio("swap", samples.group_photo(faces=3), *args, sb=sb, cwd=tmp_path)
    assert run.returncode == 2, run.stderr
    assert says in run.stderr and "Traceback" not in run.stderr
    assert len(sb.tasks()) == before  # nothing paid


def test_a_face_number_past_the_last_says_which_numbers_exist(sb: Sandbox, tmp_path: Path) -> None:
    run = mio(
        "swap", samples.group_photo(faces=3), "--pair", f"7={samples.astronaut()}",
        sb=sb, cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 2
    assert "has no face 7: its faces are numbered 1 to 3" in run.stderr
