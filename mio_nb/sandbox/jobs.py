"""What each task type does: run the engine on stored objects and store the results.

Results are stored with keys only; URLs are signed when a client asks for the task detail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from mio_nb.protocol import HD_ON, TaskType
from mio_nb.sandbox.storage import Storage, asset_key, upload_key
from mio_nb.sandbox.taskstore import FacePartRow, TaskRow, TaskStore

# The task table stores a type as its name (TaskType's value).
FACE_SWAP = TaskType.FACE_SWAP.value
VIDEO_FACE_SWAP = TaskType.VIDEO_FACE_SWAP.value
GET_FACE = TaskType.GET_FACE.value
MULTIPLE_FACE_SWAP = TaskType.MULTIPLE_FACE_SWAP.value
MULTIPLE_VIDEO_FACE_SWAP = TaskType.MULTIPLE_VIDEO_FACE_SWAP.value
TASK_TYPES = tuple(t.value for t in TaskType)

Progress = Callable[[float], None]


@dataclass
class JobOutput:
    result: Any
    parts: list[FacePartRow]


class Jobs:
    """Runs one task with an engine (see ``mio_nb.sandbox.engine``) against a storage."""

    def __init__(self, engine: Any, storage: Storage, store: TaskStore) -> None:
        from mio_nb.sandbox.engine import media

        self.engine = engine
        self.media = media
        self.storage = storage
        self.store = store

    def run(self, task: TaskRow, progress: Progress | None = None) -> JobOutput:
        p = task.params
        hd = p.get("is_hd") == HD_ON
        if task.type in (FACE_SWAP, VIDEO_FACE_SWAP):
            main = self.storage.path(p["main_key"])
            new_face = self.storage.path(p["target_key"])
            video = task.type == VIDEO_FACE_SWAP
            with self.storage.temp_file(".mp4" if video else ".png") as out:
                self.engine.swap(main, new_face, out, hd=hd, progress=progress)
                return JobOutput(self._store_result(out, video=video), [])
        if task.type == GET_FACE:
            return self._get_faces(task)
        if task.type in (MULTIPLE_FACE_SWAP, MULTIPLE_VIDEO_FACE_SWAP):
            video = task.type == MULTIPLE_VIDEO_FACE_SWAP
            main = self.storage.path(p["main_key"])
            pairs: list[tuple[dict, Path]] = []
            for pair in p["pairs"]:
                if pair["target_part_key"] == pair["avatar_part_key"]:
                    continue  # a face paired with itself stays as it is
                part = self.store.face_part(pair["target_part_key"])
                if part is None:
                    raise LookupError(f"face part {pair['target_part_key']} vanished")
                pairs.append((part.record, self.storage.path(pair["avatar_part_key"])))
            with self.storage.temp_file(".mp4" if video else ".png") as out:
                self.engine.swap_faces(main, pairs, out, hd=hd, progress=progress)
                return JobOutput(self._store_result(out, video=video), [])
        raise ValueError(f"unknown task type {task.type!r}")

    def _get_faces(self, task: TaskRow) -> JobOutput:
        faces = self.engine.get_faces(self.storage.path(task.params["main_key"]))
        result: list[dict[str, Any]] = []
        parts: list[FacePartRow] = []
        for index, face in enumerate(faces):
            key = upload_key("png")
            size = self._save_image(face.crop, key)
            width, height = face.crop.size
            result.append(
                {
                    "kps": face.kps,
                    "size": size,
                    "width": width,
                    "height": height,
                    "avatar_part_key": key,
                }
            )
            parts.append(FacePartRow(key, task.id, index, face.record))
        return JobOutput(result, parts)

    def _save_image(self, image: Image.Image, key: str) -> int:
        with self.storage.temp_file(".png") as tmp:
            self.media.save_png(image, tmp)
            size = tmp.stat().st_size
            self.storage.commit(tmp, key)
        return size

    def _save_thumbnail(self, image: Image.Image) -> tuple[str, Image.Image]:
        """A JPEG preview of ``image`` (its longer side at most 540 px) and its key. Previews are
        JPEG, as services serve them: a tenth of a PNG's encoding time, which matters when 50
        clients swap at once."""
        thumb = self.media.thumbnail(image)
        key = asset_key("jpg")
        with self.storage.temp_file(".jpg") as tmp:
            thumb.save(tmp, format="JPEG", quality=85)
            self.storage.commit(tmp, key)
        return key, thumb

    def _store_result(self, out: Path, *, video: bool) -> dict[str, Any]:
        size = out.stat().st_size
        if not video:
            with Image.open(out) as im:
                width, height = im.size  # from the header: the full decode is the preview's
                im.draft("RGB", (540, 540))
                thumbnail_key, thumb = self._save_thumbnail(im)
            merge_key = asset_key("png")
            self.storage.commit(out, merge_key)
            return {
                "size": size,
                "width": width,
                "height": height,
                "merge_key": merge_key,
                "thumbnail_key": thumbnail_key,
                "thumbnail_width": thumb.width,
                "thumbnail_height": thumb.height,
            }
        info = self.media.probe(out)
        cover = self.media.cover(out)
        merge_key = asset_key("mp4")
        self.storage.commit(out, merge_key)
        cover_key = asset_key("png")
        self._save_image(cover, cover_key)
        cover_thumbnail_key, thumb = self._save_thumbnail(cover)
        return {
            "size": size,
            "duration": round(float(info.duration or 0.0), 6),
            "merge_key": merge_key,
            "merge_width": info.width,
            "merge_height": info.height,
            "cover_key": cover_key,
            "cover_width": cover.width,
            "cover_height": cover.height,
            "cover_thumbnail_key": cover_thumbnail_key,
            "thumbnail_width": thumb.width,
            "thumbnail_height": thumb.height,
        }


def with_urls(value: Any, sign: Callable[[str], str]) -> Any:
    """``value`` with a fresh ``*_url`` next to every ``*_key`` (dicts, lists of dicts)."""
    if isinstance(value, list):
        return [with_urls(v, sign) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for k, v in value.items():
        out[k] = v
        if k.endswith("_key") and isinstance(v, str):
            out[k[:-4] + "_url"] = sign(v)
    return out
