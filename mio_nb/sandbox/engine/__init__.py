"""The sandbox's offline face engines.

Two engines share one interface (:class:`Engine`):

- ``"real"`` (:mod:`.real`): dlib's HOG face detector, 68-point landmarks and 128-d face
  embeddings, and a classic landmark-based swap (piecewise-affine warp, natural mouths, colour
  and sharpness matching, feathered blending) for images and H.264 videos. Needs the
  packages of :data:`ENGINE_PACKAGES` (``pip install ".[sandbox]"`` in a clone of mio-nb).
- ``"instant"`` (:mod:`.instant`): answers at once with a marked copy of the original; imports
  with Pillow only.

>>> from mio_nb.sandbox.engine import load_engine
>>> engine = load_engine("real")  # doctest: +SKIP
>>> faces = engine.get_faces(path)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from mio_nb.extras import ENGINE_PACKAGES, SANDBOX_INSTALL, missing_engine_modules

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "ENGINE_PACKAGES",
    "INSTALL_HINT",
    "SANDBOX_INSTALL",
    "Engine",
    "EngineError",
    "FacePart",
    "Progress",
    "load_engine",
]

INSTALL_HINT = f"The sandbox engine needs extra packages: {SANDBOX_INSTALL}"

#: Progress callback: called with a share of the work done, 0.0 to 1.0.
Progress = Callable[[float], None]

#: The API's failure messages for the engine's codes.
MESSAGES = {
    601: "Task failed.",
    602: "No face detected.",
    603: "Multiple faces detected, only one face is allowed.",
    701: "File error: the file cannot be decoded.",
}


class EngineError(Exception):
    """A task failure with an API code: 602 no face, 603 several faces, 701 unreadable file."""

    def __init__(self, code: int, message: str | None = None) -> None:
        self.code = code
        self.message = message or MESSAGES.get(code, "Task failed.")
        super().__init__(f"{self.code}: {self.message}")

    def __reduce__(self) -> tuple[Any, ...]:  # crosses from the engine's process
        return (type(self), (self.code, self.message))


@dataclass
class FacePart:
    """One face found by ``get_faces``.

    ``kps``: the API's five keypoints in crop pixels, keys "1".."5": 1 left eye centre, 2 right
    eye centre, 3 nose tip, 4 left mouth corner, 5 right mouth corner (left/right as seen in the
    image). ``record``: JSON-serialisable, what ``swap_faces`` needs to find this face again.
    """

    crop: Image.Image
    kps: dict[str, dict[str, int]]
    record: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Engine(Protocol):
    """What the sandbox server needs from an engine."""

    name: str

    def get_faces(self, main: Path) -> list[FacePart]:
        """One part per face of an image (in reading order: rows top to bottom, left to right
        in a row), or one per person of a video. Raises EngineError 602 when there is no face,
        701 when unreadable."""
        ...

    def swap(
        self,
        main: Path,
        new_face: Path,
        out: Path,
        *,
        hd: bool,
        progress: Progress | None = None,
    ) -> None:
        """Put the single face of ``new_face`` on the face of ``main`` (image -> PNG at ``out``;
        video -> MP4 at ``out``, replacing the largest face of every frame)."""
        ...

    def swap_faces(
        self,
        main: Path,
        pairs: list[tuple[dict[str, Any], Path]],
        out: Path,
        *,
        hd: bool,
        progress: Progress | None = None,
    ) -> None:
        """Swap each paired face (a ``record`` from ``get_faces`` on this ``main``) with its new
        face image; faces left out stay as they are."""
        ...


def load_engine(name: str = "real", *, own_process: bool = False) -> Engine:
    """The engine called ``name``: "real" or "instant".

    "real" raises ImportError with the install hint when its packages are missing.
    ``own_process``: the real engine runs in a child process shared by this process's
    sandboxes (see :mod:`.process`): this returns at once, the models load meanwhile.
    """
    if name == "real":
        try:
            if not own_process:
                from mio_nb.sandbox.engine.real import RealEngine
            elif absent := missing_engine_modules():  # imported in its own process, not here
                raise ImportError(f"No module named {absent[0]!r}", name=absent[0])
        except ImportError as exc:
            package = ENGINE_PACKAGES.get((exc.name or "").partition(".")[0])
            missing = f" (missing: {package}, module {exc.name})" if package else ""
            raise ImportError(INSTALL_HINT + missing, name=exc.name) from exc
        if not own_process:
            return RealEngine()
        from mio_nb.sandbox.engine.models import model_path
        from mio_nb.sandbox.engine.process import shared_engine_process

        model_path("shape_predictor_68_face_landmarks.dat")  # missing: says which, and its pip
        return shared_engine_process("real")
    if name == "instant":
        from mio_nb.sandbox.engine.instant import InstantEngine

        return InstantEngine()
    raise ValueError(f"unknown engine {name!r}: use 'real' or 'instant'")
