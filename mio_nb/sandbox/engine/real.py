"""The real engine: dlib face detection and the classic landmark-based swap, offline.

Images: faces are found with dlib's HOG detector, fitted with 68 landmarks, and swapped with a
piecewise-affine warp, colour correction and blending (Poisson blending when ``hd``). Videos:
faces are tracked through the frames (see :mod:`.video`), people told apart by dlib's 128-d
face embeddings, and the result is encoded as H.264 with the original sound.

The 68-point landmark model's training data (iBUG 300-W) is licensed for non-commercial use
only: fine for this local sandbox, not for a product.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import imageio_ffmpeg  # noqa: F401  (videos; imported here so that a missing one shows early)
import numpy as np
from PIL import Image

from mio_nb.sandbox.engine import EngineError, FacePart, Progress, media
from mio_nb.sandbox.engine.detect import (
    MATCH_DISTANCE,
    Detector,
    Face,
    get_detector,
    sort_faces,
)
from mio_nb.sandbox.engine.swap import Source, prepare_source, swap_face
from mio_nb.sandbox.engine.video import (
    FrameProgress,
    Tracker,
    VideoReader,
    VideoWriter,
    iou,
    sample_rate,
)

__all__ = ["RealEngine", "face_part"]

#: Margin around the detector's box in face crops, as a share of the box's side.
CROP_MARGIN = 0.4


def face_part(image: np.ndarray, face: Face, record: dict[str, Any]) -> FacePart:
    """The crop of ``face`` (box plus ``CROP_MARGIN``, clipped) with its keypoints in crop
    pixels."""
    height, width = image.shape[:2]
    x0, y0, x1, y1 = face.box
    mx, my = CROP_MARGIN * (x1 - x0), CROP_MARGIN * (y1 - y0)
    cx0, cy0 = max(0, int(x0 - mx)), max(0, int(y0 - my))
    cx1, cy1 = min(width, int(np.ceil(x1 + mx))), min(height, int(np.ceil(y1 + my)))
    crop = Image.fromarray(np.ascontiguousarray(image[cy0:cy1, cx0:cx1]))
    kps = {}
    for i, (x, y) in enumerate(face.keypoints(), start=1):
        kps[str(i)] = {
            "x": int(np.clip(round(float(x) - cx0), 0, crop.width - 1)),
            "y": int(np.clip(round(float(y) - cy0), 0, crop.height - 1)),
        }
    return FacePart(crop=crop, kps=kps, record=record)


def _box(face: Face) -> list[float]:
    return [round(float(v), 1) for v in face.box]


def _load_rgb(path: Path) -> np.ndarray:
    return np.asarray(media.open_image(path))


@dataclass
class _Person:
    embeddings: list[np.ndarray]
    best: tuple[float, np.ndarray, Face, float]  # (quality, frame, face, time)
    first_seen: float
    seen: int = 1

    @property
    def centroid(self) -> np.ndarray:
        return np.mean(self.embeddings, axis=0)


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
        faces = sort_faces(self.detector.detect(rgb))
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
        """One part per person: frames sampled (2 per second, 40 at most), faces detected,
        embeddings grouped greedily by distance. Faces overlapping a face of the sample before
        inherit its person without a new embedding."""
        probe = VideoReader(main)
        rate = sample_rate(probe.duration)
        probe.close()
        people: list[_Person] = []
        previous: list[tuple[Face, int]] = []
        with VideoReader(main, output_params=["-vf", f"fps={rate:.6f}"]) as reader:
            for n, frame in enumerate(reader):
                if n >= 40:
                    break
                t = n / rate
                current: list[tuple[Face, int]] = []
                for face in self.detector.detect(frame):
                    person = self._same_as_before(face, previous)
                    if person is None:
                        person = self._assign(frame, face, people, t)
                    else:
                        self._add(people[person], frame, face, t, None)
                    current.append((face, person))
                previous = current
        if not people:
            raise EngineError(602)
        order = sorted(
            range(len(people)),
            key=lambda i: (people[i].first_seen, people[i].best[2].center[0]),
        )
        parts = []
        for i in order:
            person = people[i]
            _, frame, face, t = person.best
            record = {
                "kind": "video",
                "embedding": [round(float(v), 6) for v in person.centroid],
                "time": round(t, 3),
                "box": _box(face),
                "width": int(frame.shape[1]),
                "height": int(frame.shape[0]),
                "seen": person.seen,
            }
            parts.append(face_part(frame, face, record))
        return parts

    @staticmethod
    def _same_as_before(face: Face, previous: list[tuple[Face, int]]) -> int | None:
        best = max(previous, key=lambda p: iou(p[0].box, face.box), default=None)
        if best is not None and iou(best[0].box, face.box) > 0.5:
            return best[1]
        return None

    def _assign(self, frame: np.ndarray, face: Face, people: list[_Person], t: float) -> int:
        embedding = self.detector.embed(frame, face)
        distances = [float(np.linalg.norm(embedding - p.centroid)) for p in people]
        if distances and min(distances) < MATCH_DISTANCE:
            index = int(np.argmin(distances))
            self._add(people[index], frame, face, t, embedding)
            return index
        quality = face.area * min(face.score, 2.0)
        people.append(_Person([embedding], (quality, frame, face, t), t))
        return len(people) - 1

    @staticmethod
    def _add(
        person: _Person, frame: np.ndarray, face: Face, t: float, embedding: np.ndarray | None
    ) -> None:
        person.seen += 1
        if embedding is not None:
            person.embeddings.append(embedding)
        quality = face.area * min(face.score, 2.0)
        if quality > person.best[0]:
            person.best = (quality, frame, face, t)

    # -- swaps -----------------------------------------------------------------------------

    def _new_face(self, path: Path) -> Source:
        """The prepared new face; 602 without a face, 603 with several."""
        rgb = _load_rgb(path)
        faces = self.detector.detect(rgb)
        if not faces:
            raise EngineError(602, "No face detected in the new face image.")
        if len(faces) > 1:
            raise EngineError(603, "Multiple faces detected in the new face image.")
        return prepare_source(rgb, faces[0].landmarks)

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
            faces = self.detector.detect(rgb)
            if not faces:
                raise EngineError(602)
            if len(faces) > 1:
                raise EngineError(603)
            source = self._new_face(new_face)
            swap_face(rgb, faces[0].landmarks, source, poisson=hd)
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
                swap_face(rgb, landmarks, source, poisson=hd)
            self._save_image(rgb, out, progress)
            return
        people = []
        for record, _ in pairs:
            if record.get("kind") != "video" or len(record.get("embedding") or []) != 128:
                raise EngineError(601, "The face does not belong to this video.")
            people.append(np.asarray(record["embedding"], dtype=np.float32))

        def pick(tracks: list[Any]) -> list[tuple[Any, Source]]:
            return [(t, sources[t.person]) for t in tracks if t.person is not None]

        self._swap_video(main, out, pick, people, hd=hd, progress=progress)

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
                        swap_face(frame, track.stable_landmarks(), source, poisson=hd)
                        swapped += 1
                    frame[y0:y1, x0:x1] = mark
                    writer.write(frame)
                    report.frame(index + 1)
        report.done()
        return swapped
