"""The real engine: dlib face detection and the classic landmark-based swap, offline.

Images: faces are found with MTCNN (weak detections checked again, rotated copies tried when
none is found; see :mod:`.detect`), fitted with 68 landmarks, and swapped with a
piecewise-affine warp that keeps mouths natural, colour and sharpness matched to the photo,
occluders left alone, and a feathered blend (see :mod:`.swap`). Videos: every person is found
by :mod:`.people`; faces are tracked through the frames (see :mod:`.video`), people told apart
by dlib's 128-d face embeddings, and the result is encoded as H.264 with the original sound.

The 68-point landmark model's training data (iBUG 300-W) is licensed for non-commercial use
only: fine for this local sandbox, not for a product.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import imageio_ffmpeg  # noqa: F401  (videos; imported here so that a missing one shows early)
import numpy as np
from PIL import Image

from mio_nb.sandbox.engine import EngineError, FacePart, Progress, media
from mio_nb.sandbox.engine.detect import (
    Detector,
    Face,
    api_keypoints,
    get_detector,
    sort_faces,
    turn_points,
)
from mio_nb.sandbox.engine.people import find_people
from mio_nb.sandbox.engine.swap import MIN_NEW_FACE, Source, prepare_source, swap_face
from mio_nb.sandbox.engine.video import (
    FrameProgress,
    Tracker,
    VideoReader,
    VideoWriter,
)

__all__ = ["RealEngine", "face_part"]

#: Margin around the face's box in face crops, as a share of the box's side.
CROP_MARGIN = 0.4
#: Face crops are scaled down so that their long side is at most this many pixels (as a face
#: service's thumbnails are: enough to recognise and choose a face, small to send).
CROP_MAX_SIDE = 288


def face_part(image: np.ndarray, face: Face, record: dict[str, Any]) -> FacePart:
    """The crop of ``face``: its box plus ``CROP_MARGIN`` on every side (clipped to the image),
    upright (a face found in a turned copy of the image is cropped from that copy), scaled
    down to ``CROP_MAX_SIDE`` at most; its five keypoints in that crop's pixels."""
    box = np.array(face.box, dtype=np.float32)
    landmarks = face.landmarks
    if face.turned:
        shape = image.shape[:2]
        image = np.rot90(image, face.turned)
        corners = turn_points(np.array([box[:2], box[2:] - 1]), face.turned, shape)
        box = np.concatenate([corners.min(axis=0), corners.max(axis=0) + 1])
        landmarks = turn_points(landmarks, face.turned, shape)
    height, width = image.shape[:2]
    x0, y0, x1, y1 = (float(v) for v in box)
    mx, my = CROP_MARGIN * (x1 - x0), CROP_MARGIN * (y1 - y0)
    cx0, cy0 = max(0, int(x0 - mx)), max(0, int(y0 - my))
    cx1, cy1 = min(width, int(np.ceil(x1 + mx))), min(height, int(np.ceil(y1 + my)))
    crop = Image.fromarray(np.ascontiguousarray(image[cy0:cy1, cx0:cx1]))
    scale = min(1.0, CROP_MAX_SIDE / max(crop.size))
    if scale < 1.0:
        size = (max(1, round(crop.width * scale)), max(1, round(crop.height * scale)))
        crop = crop.resize(size, Image.Resampling.LANCZOS)
        scale_x, scale_y = crop.width / (cx1 - cx0), crop.height / (cy1 - cy0)
    else:
        scale_x = scale_y = 1.0
    kps = {}
    for i, (x, y) in enumerate(api_keypoints(landmarks), start=1):
        kps[str(i)] = {
            "x": int(np.clip(round((float(x) - cx0 + 0.5) * scale_x - 0.5), 0, crop.width - 1)),
            "y": int(np.clip(round((float(y) - cy0 + 0.5) * scale_y - 0.5), 0, crop.height - 1)),
        }
    return FacePart(crop=crop, kps=kps, record=record)


def _box(face: Face) -> list[float]:
    return [round(float(v), 1) for v in face.box]


def _load_rgb(path: Path) -> np.ndarray:
    return np.asarray(media.open_image(path))


class RealEngine:
    """dlib + OpenCV face engine (see the module docstring)."""

    name = "real"

    def __init__(self, detector: Detector | None = None) -> None:
        self.detector = detector or get_detector()

    # -- get faces -------------------------------------------------------------------------

    def get_faces(self, main: Path) -> list[FacePart]:
        main = Path(main)
        if media.kind_of(main) == "video":
            return self._video_faces(main)
        rgb = _load_rgb(main)
        faces = sort_faces(self.detector.find(rgb))
        if not faces:
            raise EngineError(602)
        height, width = rgb.shape[:2]
        return [
            face_part(
                rgb,
                face,
                {
                    "kind": "image",
                    "width": width,
                    "height": height,
                    "box": _box(face),
                    "landmarks": [
                        [round(float(x), 1), round(float(y), 1)] for x, y in face.landmarks
                    ],
                },
            )
            for face in faces
        ]

    def _video_faces(self, main: Path) -> list[FacePart]:
        """One part per person (see :mod:`.people`). Each record carries the person's mean
        embedding and those of everyone else in the video, so that a swap can tell look-alikes
        apart (each face goes to the nearest person, not to any one close enough)."""
        people = find_people(self.detector, main)
        if not people:
            raise EngineError(602)
        everyone = [[round(float(v), 5) for v in p.embedding] for p in people]
        parts = []
        for i, person in enumerate(people):
            best = person.best
            record = {
                "kind": "video",
                "embedding": everyone[i],
                "person": i,
                "people": everyone,
                "time": round(best.time, 3),
                "box": _box(best.face),
                "width": int(best.frame.shape[1]),
                "height": int(best.frame.shape[0]),
                "seen": person.seen,
            }
            parts.append(face_part(best.frame, best.face, record))
        return parts

    # -- swaps -----------------------------------------------------------------------------

    def _new_face(self, path: Path) -> Source:
        """The prepared new face; 602 without a face, 603 with several."""
        rgb = _load_rgb(path)
        faces = self.detector.find(rgb, large_first=True)
        if not faces:
            raise EngineError(602, "No face detected in the new face image.")
        if len(faces) > 1:
            raise EngineError(603, "Multiple faces detected in the new face image.")
        (face,) = faces
        side = round(max(face.width, face.height))
        if side < MIN_NEW_FACE:
            raise EngineError(
                601,
                f"The new face is too small: its face is {side} px wide, at least "
                f"{MIN_NEW_FACE} px are needed to carry its features. Use a larger or "
                "closer photo of the face.",
            )
        return prepare_source(rgb, face.landmarks)

    def swap(
        self,
        main: Path,
        new_face: Path,
        out: Path,
        *,
        hd: bool,
        progress: Progress | None = None,
    ) -> None:
        main, out = Path(main), Path(out)
        video = media.kind_of(main) == "video"
        if not video:
            rgb = _load_rgb(main).copy()
            faces = self.detector.find(rgb)
            if not faces:
                raise EngineError(602)
            if len(faces) > 1:
                raise EngineError(603)
            source = self._new_face(new_face)
            swap_face(rgb, faces[0].landmarks, source, hd=hd)
            self._save_image(rgb, out, progress)
            return
        source = self._new_face(new_face)

        chosen: list[int] = []  # the track swapped in the frame before

        def pick(tracks: list[Any]) -> list[tuple[Any, Source]]:
            """The largest face; the one swapped before keeps its place unless another is
            clearly larger (no flicker between two faces of about the same size)."""
            if not tracks:
                return []
            largest = max(tracks, key=lambda t: t.face.extent)
            previous = next((t for t in tracks if chosen and t.id == chosen[0]), None)
            if previous is not None and previous.face.extent * 1.15 >= largest.face.extent:
                largest = previous
            chosen[:] = [largest.id]
            return [(largest, source)]

        swapped = self._swap_video(main, out, pick, None, hd=hd, progress=progress)
        if swapped == 0:
            out.unlink(missing_ok=True)
            raise EngineError(602)

    def swap_faces(
        self,
        main: Path,
        pairs: list[tuple[dict[str, Any], Path]],
        out: Path,
        *,
        hd: bool,
        progress: Progress | None = None,
    ) -> None:
        main, out = Path(main), Path(out)
        video = media.kind_of(main) == "video"
        sources = [self._new_face(path) for _, path in pairs]
        if not video:
            rgb = _load_rgb(main).copy()
            height, width = rgb.shape[:2]
            for (record, _), source in zip(pairs, sources, strict=True):
                if record.get("kind") != "image" or (record.get("width"), record.get("height")) != (
                    width,
                    height,
                ):
                    raise EngineError(601, "The face does not belong to this image.")
                landmarks = np.asarray(record["landmarks"], dtype=np.float32)
                swap_face(rgb, landmarks, source, hd=hd)
            self._save_image(rgb, out, progress)
            return
        everyone: list[np.ndarray] = []
        wanted: dict[int, Source] = {}
        for (record, _), source in zip(pairs, sources, strict=True):
            if record.get("kind") != "video" or len(record.get("embedding") or []) != 128:
                raise EngineError(601, "The face does not belong to this video.")
            if not everyone and record.get("people"):
                everyone = [np.asarray(p, dtype=np.float32) for p in record["people"]]
            embedding = np.asarray(record["embedding"], dtype=np.float32)
            index = next(
                (i for i, p in enumerate(everyone) if np.abs(p - embedding).max() < 1e-4), None
            )
            if index is None:
                everyone.append(embedding)
                index = len(everyone) - 1
            wanted[index] = source

        def pick(tracks: list[Any]) -> list[tuple[Any, Source]]:
            return [(t, wanted[t.person]) for t in tracks if t.person in wanted]

        self._swap_video(main, out, pick, everyone, hd=hd, progress=progress)

    @staticmethod
    def _save_image(rgb: np.ndarray, out: Path, progress: Progress | None) -> None:
        media.save_png(media.mark(Image.fromarray(rgb)), out)
        if progress is not None:
            progress(1.0)

    def _swap_video(
        self,
        main: Path,
        out: Path,
        pick: Any,
        people: list[np.ndarray] | None,
        *,
        hd: bool,
        progress: Progress | None,
    ) -> int:
        """Swap the faces ``pick(tracks)`` chooses in every frame; the number of faces swapped."""
        swapped = 0
        with VideoReader(main) as reader:
            box, patch = media.mark_patch(reader.width, reader.height)
            mark = np.asarray(patch)
            x0, y0, x1, y1 = box
            tracker = Tracker(self.detector, people)
            report = FrameProgress(progress, reader.estimated_frames())
            with VideoWriter(
                out,
                (reader.width, reader.height),
                reader.fps,
                audio_from=main if reader.has_audio else None,
                audio_codec=reader.meta.get("audio_codec"),
                hd=hd,
            ) as writer:
                for index, frame in enumerate(reader):
                    tracks = tracker.update(index, frame)
                    for track, source in pick(tracks):
                        swap_face(frame, track.stable_landmarks(), source, hd=hd)
                        swapped += 1
                    frame[y0:y1, x0:x1] = mark
                    writer.write(frame)
                    report.frame(index + 1)
        report.done()
        return swapped
