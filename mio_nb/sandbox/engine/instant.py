"""The instant engine: answers at once, for protocol tests and demos without the heavy extras.

It imports with Pillow only.

- ``swap`` / ``swap_faces`` do **not** swap faces: an image result is a marked PNG copy of the
  original (same size); a video result is a byte-for-byte copy of the original video (its
  cover, made by :func:`media.cover`, carries the mark). New faces are not checked, so no 602
  or 603 comes from a swap here; unreadable files still give 701.
- ``get_faces`` is real when it can be: when the real engine's packages are installed it uses
  dlib's detector (for a video, on the first frame only, one part per face there). Without
  them it cannot find faces, and treats the **whole image as one face** with keypoints at
  fixed proportions of the picture (eyes at 35%/65% across and 40% down, nose tip at 55%,
  mouth corners at 38%/62% across and 72% down). Videos need imageio-ffmpeg to be read at all.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from PIL import Image

from mio_nb.sandbox.engine import EngineError, FacePart, Progress, media

__all__ = ["InstantEngine"]

#: Keypoints at fixed proportions of a picture, for the fallback "whole image is a face".
_FIXED_KPS = {
    "1": (0.35, 0.40),
    "2": (0.65, 0.40),
    "3": (0.50, 0.55),
    "4": (0.38, 0.72),
    "5": (0.62, 0.72),
}


def _real_detector() -> Any | None:
    try:
        from mio_nb.sandbox.engine.detect import get_detector
    except ImportError:
        return None
    return get_detector()


def _whole_image_face(image: Image.Image, record: dict[str, Any]) -> FacePart:
    width, height = image.size
    kps = {
        key: {"x": min(width - 1, round(fx * width)), "y": min(height - 1, round(fy * height))}
        for key, (fx, fy) in _FIXED_KPS.items()
    }
    return FacePart(crop=image.copy(), kps=kps, record={**record, "whole_image": True})


class InstantEngine:
    """See the module docstring: instant answers, marked copies, real detection if available."""

    name = "instant"

    def get_faces(self, main: Path) -> list[FacePart]:
        main = Path(main)
        video = media.kind_of(main) == "video"
        image = media.cover(main, marked=False)
        width, height = image.size
        detector = _real_detector()
        if detector is None:
            kind = "video" if video else "image"
            return [_whole_image_face(image, {"kind": kind, "width": width, "height": height})]
        import numpy as np

        from mio_nb.sandbox.engine.detect import sort_faces
        from mio_nb.sandbox.engine.real import face_part

        rgb = np.asarray(image)
        faces = sort_faces(detector.find(rgb))
        if not faces:
            raise EngineError(602)
        parts = []
        for face in faces:
            record: dict[str, Any] = {
                "kind": "video" if video else "image",
                "width": width,
                "height": height,
                "box": [round(float(v), 1) for v in face.box],
            }
            if not video:
                record["landmarks"] = [
                    [round(float(x), 1), round(float(y), 1)] for x, y in face.landmarks
                ]
            parts.append(face_part(rgb, face, record))
        return parts

    def swap(
        self,
        main: Path,
        new_face: Path,
        out: Path,
        *,
        hd: bool,
        progress: Progress | None = None,
    ) -> None:
        self._copy(Path(main), Path(out), progress)

    def swap_faces(
        self,
        main: Path,
        pairs: list[tuple[dict[str, Any], Path]],
        out: Path,
        *,
        hd: bool,
        progress: Progress | None = None,
    ) -> None:
        self._copy(Path(main), Path(out), progress)

    @staticmethod
    def _copy(main: Path, out: Path, progress: Progress | None) -> None:
        if media.kind_of(main) == "video":
            media.probe(main)  # 701 when it cannot be read
            shutil.copyfile(main, out)
        else:
            media.save_png(media.mark(media.open_image(main)), out, compress_level=0)
        if progress is not None:
            progress(1.0)
