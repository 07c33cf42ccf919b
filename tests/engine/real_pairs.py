"""Real identity pairs for the swap's "the new face is recognisable" checks.

The people of the development clips in ``../shared/fixtures/real`` (CC BY 4.0, read in place,
never copied into the repository) as still photos: a square region around one person's face
in one frame, enlarged so that the face is about 240 pixels wide (the clips are 480x270 and
their faces 50-70 pixels). Any two different people make a real pair (original | new face);
the public-domain portraits make two more people.

The identity share of a swap is measured with dlib's 128-d face embedding on the swapped face:
``d(result, original person) / (d(result, original person) + d(result, new person))``: 0 is
"still the original person", 1 is "the new person", 0.5 halfway.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from mio_nb import samples


def _real_folder() -> Path:
    """``MIO_NB_REAL_FIXTURES``, else the first ``shared/fixtures/real`` beside a folder above
    this file (the repository's parent in a checkout; worktrees may sit deeper)."""
    if os.environ.get("MIO_NB_REAL_FIXTURES"):
        return Path(os.environ["MIO_NB_REAL_FIXTURES"])
    for folder in Path(__file__).resolve().parents[2:]:
        candidate = folder / "shared" / "fixtures" / "real"
        if candidate.is_dir():
            return candidate
    return Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "real"


#: Where the real clips are (read in place).
REAL_FOLDER = _real_folder()
WALKING = "face-demographics-walking-and-pause.gif"
HEAD_POSE = "head-pose-face-detection-female-and-male.gif"
#: Faces of the clips are enlarged by this factor to make a photo.
ENLARGE = 4
#: The photo is a square of this many face widths around the face.
CONTEXT = 2.4


@dataclass(frozen=True)
class Person:
    """One person of a real clip: the clip, a frame where the face is seen well, and the x of
    the face's centre in that frame (pixels of the 480x270 clip); or a portrait sample."""

    name: str
    clip: str = ""
    frame: int = 0
    x: float = 0.0
    portrait: str = ""


#: The people of the walking clip (late frames: faces ~60 px) and of the head-pose clip
#: (the woman is seen from the front at the start; the man is in three-quarter view).
PEOPLE = {
    p.name: p
    for p in (
        Person("walking-left", WALKING, 30, 81),
        Person("walking-middle", WALKING, 30, 227),
        Person("walking-right", WALKING, 27, 373),
        Person("turning-left", HEAD_POSE, 3, 81),
        Person("turning-right", HEAD_POSE, 21, 337),
        Person("grace", portrait="grace"),
        Person("astronaut", portrait="astronaut"),
    )
}

#: (original, new face) pairs: every ordered pair of the walking clip's three people, both
#: ways in the head-pose clip, across the two clips, and with the portraits. The woman on the
#: left of both clips is never paired with herself: dlib puts her two faces 0.51 apart, under
#: its 0.6 same-person threshold (she may well be the same actress).
PAIRS: list[tuple[str, str]] = [
    ("walking-left", "walking-middle"),
    ("walking-middle", "walking-left"),
    ("walking-left", "walking-right"),
    ("walking-right", "walking-left"),
    ("walking-middle", "walking-right"),
    ("walking-right", "walking-middle"),
    ("turning-left", "turning-right"),
    ("turning-right", "turning-left"),
    ("turning-left", "walking-right"),
    ("walking-middle", "turning-right"),
    ("turning-right", "walking-middle"),
    ("walking-left", "grace"),
    ("astronaut", "walking-right"),
    ("grace", "astronaut"),
    ("astronaut", "grace"),
]


def real_clips_missing() -> str | None:
    """Why the real pairs cannot be built here, or None."""
    for name in (WALKING, HEAD_POSE):
        if not (REAL_FOLDER / name).is_file():
            return f"the real development clips are not here: {REAL_FOLDER / name} is missing"
    return None


@functools.lru_cache(maxsize=8)
def _frame(clip: str, index: int) -> np.ndarray:
    with Image.open(REAL_FOLDER / clip) as im:
        im.seek(index)
        return np.asarray(im.convert("RGB"))


@functools.lru_cache(maxsize=16)
def photo(name: str) -> np.ndarray:
    """The still photo of person ``name`` (RGB uint8)."""
    person = PEOPLE[name]
    if person.portrait:
        with Image.open(samples.new_face(person.portrait)) as im:
            return np.asarray(im.convert("RGB"))
    from mio_nb.sandbox.engine.detect import get_detector

    frame = _frame(person.clip, person.frame)
    height, width = frame.shape[:2]
    # The face nearest to the expected place, found in the enlarged frame.
    big = cv2.resize(frame, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
    faces = get_detector().detect(big, max_side=max(big.shape[:2]), upsample=0, min_score=-0.3)
    if not faces:
        raise LookupError(f"no face of {name} in frame {person.frame} of {person.clip}")
    face = min(faces, key=lambda f: abs(f.center[0] / 3 - person.x))
    if abs(face.center[0] / 3 - person.x) > 25:
        raise LookupError(f"{name} not found near x={person.x} in frame {person.frame}")
    cx, cy = face.center[0] / 3, face.center[1] / 3
    side = CONTEXT * face.width / 3
    x0, y0 = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
    x1, y1 = int(min(width, cx + side / 2)), int(min(height, cy + side / 2))
    crop = frame[y0:y1, x0:x1]
    return cv2.resize(crop, None, fx=ENLARGE, fy=ENLARGE, interpolation=cv2.INTER_CUBIC)


def save_photo(name: str, folder: Path) -> Path:
    path = folder / f"{name}.png"
    if not path.exists():
        Image.fromarray(photo(name)).save(path)
    return path


def _faces(rgb: np.ndarray) -> list:  # type: ignore[type-arg]
    from mio_nb.sandbox.engine.detect import get_detector

    return get_detector().find(np.ascontiguousarray(rgb, dtype=np.uint8))


def embedding(rgb: np.ndarray, near: tuple[float, ...] | None = None) -> np.ndarray:
    """The 128-d embedding of the largest face of ``rgb``; with ``near`` (a box), of the face
    found there (when the detector misses it, the landmarks are fitted in that box)."""
    from mio_nb.sandbox.engine.detect import Face, get_detector

    detector = get_detector()
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    faces = _faces(rgb)
    if near is not None:
        faces = [f for f in faces if _overlap(f.box, near) > 0.3]
        if not faces:
            box = (near[0], near[1], near[2], near[3])
            faces = [Face(box, 0.0, detector.landmarks(rgb, box))]
    if not faces:
        raise LookupError("no face to embed")
    face = max(faces, key=lambda f: f.area)
    return detector.embed(rgb, face)


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - ix * iy
    return ix * iy / union if union > 0 else 0.0


def identity_share(original: np.ndarray, new: np.ndarray, result: np.ndarray) -> float:
    """How far the swapped face in ``result`` went from the original person to the new one
    (the swapped face is the one at the original face's place)."""
    original = np.ascontiguousarray(original, dtype=np.uint8)
    place = max(_faces(original), key=lambda f: f.area).box
    return _share(embedding(result, near=place), embedding(original), embedding(new))


def _share(swapped: np.ndarray, original: np.ndarray, new: np.ndarray) -> float:
    to_original = float(np.linalg.norm(swapped - original))
    to_new = float(np.linalg.norm(swapped - new))
    return to_original / max(to_original + to_new, 1e-9)


@functools.lru_cache(maxsize=16)
def _person(name: str) -> tuple[tuple[float, ...], np.ndarray]:
    """The face box and the embedding of person ``name`` in their photo."""
    rgb = photo(name)
    face = max(_faces(rgb), key=lambda f: f.area)
    return face.box, embedding(rgb)


def face_box(name: str) -> tuple[float, ...]:
    """The face box (x0, y0, x1, y1) of person ``name`` in their photo."""
    return _person(name)[0]


@dataclass
class PairResult:
    """One real pair swapped by the engine: the three pictures and the identity share."""

    original: str
    new: str
    original_rgb: np.ndarray
    new_rgb: np.ndarray
    result_rgb: np.ndarray
    share: float


def swap_pair(engine, original: str, new: str, folder: Path, *, hd: bool = False) -> PairResult:  # type: ignore[no-untyped-def]
    """Swap the real pair (``original`` photo, ``new`` face) with ``engine`` as the sandbox
    does (files in, PNG out) and measure the identity share on the swapped face. Swapped once
    per process and engine (several test modules look at the same results)."""
    key = (id(engine), original, new, hd)
    if key not in _swapped:
        _swapped[key] = _swap_pair(engine, original, new, folder, hd=hd)
    return _swapped[key]


_swapped: dict[tuple[int, str, str, bool], PairResult] = {}


def _swap_pair(engine, original: str, new: str, folder: Path, *, hd: bool) -> PairResult:  # type: ignore[no-untyped-def]
    out = folder / f"{original}--{new}{'-hd' if hd else ''}.png"
    engine.swap(save_photo(original, folder), save_photo(new, folder), out, hd=hd)
    with Image.open(out) as im:
        result = np.asarray(im.convert("RGB"))
    place, original_embedding = _person(original)
    share = _share(embedding(result, near=place), original_embedding, _person(new)[1])
    return PairResult(original, new, photo(original), photo(new), result, share)
