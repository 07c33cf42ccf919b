"""Pairing for :class:`~.faceswap.FaceSwapWidget`: which detected face gets which new face,
removing a new face (with one undo), picking the face of a new face that shows several.
Operates on the widget's traits (``faces``, ``new_faces``, ``pair_list``, ``removed``)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .pictures import NEW_FACE_SIDE, webp

if TYPE_CHECKING:
    from .jobs import NewFace

__all__ = ["Pairs"]


class Pairs:
    """Mixed into the widget: pairing by face number (1, 2, ...) and new face label."""

    faces: list[dict[str, Any]]
    new_faces: list[dict[str, Any]]
    pair_list: list[list[Any]]
    removed: dict[str, Any]
    error: str
    _lock: threading.RLock
    _new: dict[str, NewFace]
    _removed_entry: dict[str, Any] | None = None

    @property
    def pairs(self) -> dict[int, str]:
        """Face number (1, 2, ... as shown) -> new face label ("A", ...)."""
        return {int(face): str(label) for face, label in self.pair_list}

    def pair(self, face: int | Any, new_face: str | Path | bytes) -> None:
        """Put new face ``new_face`` (a label, or a file to add) in place of face ``face`` (its
        number, or a Face of :attr:`faceset`). A new face with no face in it cannot be paired."""
        number = face.number if hasattr(face, "number") and hasattr(face, "key") else int(face)
        with self._lock:
            if not any(f["index"] == number for f in self.faces):
                shown = [f["index"] for f in self.faces]
                raise ValueError(f"No detected face {number}: the faces are {shown}.")
            label = new_face if isinstance(new_face, str) and new_face in self._new else None
        if label is None:
            if isinstance(new_face, str) and not Path(new_face).exists():
                raise ValueError(
                    f"No new face {new_face!r}: the new faces are {sorted(self._new)}."
                )
            label = self.add_faces(new_face)[0]  # type: ignore[attr-defined]
        with self._lock:
            card = next(n for n in self.new_faces if n["label"] == label)
            if card.get("check") == "none":
                raise ValueError(f"New face {label} cannot be paired: {card.get('note')}")
            self.pair_list = sorted(
                [p for p in self.pair_list if p[0] != number] + [[number, label]]
            )
            self._set_error("")  # type: ignore[attr-defined]

    def unpair(self, face: int) -> None:
        """Undo the pair of face number ``face`` (it stays as it is in the swap)."""
        with self._lock:
            self.pair_list = [p for p in self.pair_list if p[0] != int(face)]

    def unpair_new(self, label: str) -> None:
        """Undo every pair of new face ``label``."""
        with self._lock:
            self.pair_list = [p for p in self.pair_list if p[1] != label]

    def clear_pairs(self) -> None:
        with self._lock:
            self.pair_list = []

    def remove_face(self, label: str) -> None:
        """Remove new face ``label`` and its pairs (:meth:`undo_remove` brings them back)."""
        with self._lock:
            if label not in self._new:
                raise KeyError(f"No new face {label!r}: the new faces are {sorted(self._new)}.")
            card = next(n for n in self.new_faces if n["label"] == label)
            self._removed_entry = {
                "entry": self._new.pop(label),
                "card": card,
                "position": self.new_faces.index(card),
                "pairs": [list(p) for p in self.pair_list if p[1] == label],
            }
            with self.hold_sync():  # type: ignore[attr-defined]
                self.new_faces = [n for n in self.new_faces if n["label"] != label]
                self.pair_list = [p for p in self.pair_list if p[1] != label]
                self.removed = {"label": label, "name": card.get("name", "")}

    def undo_remove(self) -> None:
        """Bring back the new face removed last, with its pairs (faces paired since keep their
        new pair)."""
        with self._lock:
            undo, self._removed_entry = self._removed_entry, None
            if not undo:
                raise ValueError("Nothing to undo.")
            label = undo["card"]["label"]
            self._new[label] = undo["entry"]
            cards = list(self.new_faces)
            cards.insert(min(undo["position"], len(cards)), undo["card"])
            taken = {p[0] for p in self.pair_list}
            restored = [p for p in undo["pairs"] if p[0] not in taken]
            with self.hold_sync():  # type: ignore[attr-defined]
                self.new_faces = cards
                self.pair_list = sorted([*self.pair_list, *restored])
                self.removed = {}

    def choose_face(self, label: str, number: int) -> None:
        """Use face ``number`` (1, 2, ... as shown on the card) of new face ``label``: its crop
        is what is sent as the new face."""
        with self._lock:
            new = self._new.get(label)
            faces = new.faceset if new else None
            if new is None or faces is None or not 1 <= number <= len(faces):
                raise ValueError(f"New face {label} has no face {number} to choose.")
            face = faces.face(number)
            new.path, new.asset = Path(face.path or new.path), None
            key = f"new-{label}-face-{number}"
        self._media.publish(key, "image/webp", webp(face.image(), NEW_FACE_SIDE))  # type: ignore[attr-defined]
        note = f"Face {number} of {new.name}."
        self.update_card(label, check="ok", note=note, media=key, choices=[])  # type: ignore[attr-defined]

    def _auto_pair(self) -> None:
        """One detected face and one new face (not known faceless): pair them."""
        with self._lock:
            one = len(self.faces) == 1 and len(self.new_faces) == 1 and not self.pair_list
            if one and self.new_faces[0].get("check") != "none":
                self.pair_list = [[self.faces[0]["index"], self.new_faces[0]["label"]]]

    def _unusable_new_face(self) -> str:
        """Why a paired new face cannot be sent (no face in it, or several and none picked)."""
        cards = {n["label"]: n for n in self.new_faces}
        for face, label in self.pair_list:
            card = cards.get(label, {})
            what = f"New face {label} ({card.get('name')}): {card.get('note')}"
            if card.get("check") == "several":
                return f"{what} Pick a face on its card."
            if card.get("check") == "none":
                return f"{what} Pair face {face} with another new face."
        return ""
