"""The widget's state as typed values: each dataclass is what one trait (or one item of a list
trait) holds, ``.trait()`` turns it into the JSON the view reads and ``from_trait`` back.

The view's JSDoc typedef is generated from these classes (see :mod:`.shared`), so the Python and
JS sides cannot drift apart.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal, Self, TypeVar, get_args

__all__ = [
    "PLACES",
    "PLACE_OF_JOB",
    "PLACE_OF_ROLE",
    "STATES",
    "Busy",
    "Choice",
    "FaceCard",
    "MainInfo",
    "NewFaceCard",
    "Person",
    "Place",
    "Removed",
    "ResultEntry",
    "Stopped",
]

T = TypeVar("T")

Check = Literal["checking", "ok", "none", "several", "error"]

#: A section of the widget with a feedback place (a status line, an error box): the values of
#: traits ``status_at`` and ``error_at``. The view shows the status and the error there.
Place = Literal["original", "new_faces", "swap"]
#: Every place, in page order.
PLACES: tuple[Place, ...] = get_args(Place)
#: Where a role's file reports: its upload, its refusal.
PLACE_OF_ROLE: dict[str, Place] = {"main": "original", "new_face": "new_faces"}
#: Where a job reports: its status while it runs and when it ends, its error.
PLACE_OF_JOB: dict[str, Place] = {"detect": "original", "swap": "swap"}


class _Trait:
    """``trait()``: the dataclass as JSON for a trait (fields left at None are left out)."""

    def trait(self) -> dict[str, Any]:
        out = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is None:
                continue
            if isinstance(value, list):
                value = [v.trait() if isinstance(v, _Trait) else v for v in value]
            out[f.name] = value
        return out

    @classmethod
    def from_trait(cls, data: dict[str, Any]) -> Self:
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class MainInfo(_Trait):
    """The original (trait ``main``)."""

    name: str
    kind: Literal["image", "video"]
    size: int  # bytes
    media: str  # media key of its preview ("" when none)
    mime: str | None = None  # a video preview's type
    width: int | None = None  # image pixels, EXIF orientation applied
    height: int | None = None


@dataclass(frozen=True)
class Person(_Trait):
    """Where a video's person is seen: a frame with their box, and when (seconds)."""

    frame: str  # media key of the frame picture
    frame_width: int
    frame_height: int
    box: list[float]  # [x, y, w, h] on that frame
    seen: str  # "0:02-0:07"


@dataclass(frozen=True)
class FaceCard(_Trait):
    """One detected face (an item of trait ``faces``)."""

    index: int  # its number, 1, 2, ... as shown everywhere
    media: str  # its card's picture
    width: int | None = None
    height: int | None = None
    box: list[float] | None = None  # [x, y, w, h] on the original image (absent: not located)
    kps: list[list[float]] | None = None  # five [x, y] on the original image
    person: dict[str, Any] | None = None  # a video's person: see Person


@dataclass(frozen=True)
class Choice(_Trait):
    """A face to pick on a new face's card that shows several."""

    index: int
    media: str


@dataclass(frozen=True)
class NewFaceCard(_Trait):
    """One new face (an item of trait ``new_faces``)."""

    label: str  # "A", "B", ...
    name: str  # file name
    media: str
    check: Check = "checking"
    note: str = ""  # what the check found, shown on the card
    choices: list[Choice] = field(default_factory=list)


@dataclass(frozen=True)
class ResultEntry(_Trait):
    """One result (an item of trait ``history``)."""

    id: int
    kind: Literal["image", "video"]
    name: str
    path: str
    media: str
    mime: str
    size: int
    elapsed: float
    pairs: str  # "1 -> A, 2 -> B"
    hd: bool
    task_id: int
    original: str  # media key of the original it was made from


@dataclass(frozen=True)
class Busy(_Trait):
    """What runs now (trait ``busy``; {} when idle)."""

    what: Literal["detect", "swap"]
    state: str
    task_id: int | None = None
    elapsed: float = 0.0  # seconds since the job began (the view counts on)


@dataclass(frozen=True)
class Stopped(_Trait):
    """The task Stop (or a timeout) left waiting (trait ``stopped``; {} when none)."""

    what: Literal["detect", "swap"]
    task_id: int | None
    since_submitted: float  # seconds since it was submitted, when stopped


@dataclass(frozen=True)
class Removed(_Trait):
    """The new face removed last, for its one undo (trait ``removed``; {} when none)."""

    label: str
    name: str


#: Dict traits and the class of their value; list traits and the class of their items.
STATES: dict[str, type[_Trait]] = {
    "main": MainInfo,
    "faces": FaceCard,
    "new_faces": NewFaceCard,
    "history": ResultEntry,
    "busy": Busy,
    "stopped": Stopped,
    "removed": Removed,
}
