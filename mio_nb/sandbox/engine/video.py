"""Video reading, writing and face tracking for the real engine (imageio-ffmpeg, dlib).

Frames are decoded by ffmpeg into RGB numpy arrays and re-encoded as H.264 (yuv420p,
``+faststart``) with the original sound track. Faces are tracked rather than detected on every
frame: the detector runs every few frames on a downscaled copy, and in between each face's
landmarks are re-fitted around where it was in the frame before. Embeddings (slow) are computed
only when a track starts and every second or so after, to tell people apart.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mio_nb.sandbox.engine import EngineError
from mio_nb.sandbox.engine.detect import MATCH_DISTANCE, Detector, Face

__all__ = [
    "Track",
    "Tracker",
    "VideoReader",
    "VideoWriter",
    "iou",
]

#: Run the detector every this many frames (landmark tracking in between).
DETECT_EVERY = 8
#: Re-compute a track's embedding every this many frames (to re-identify it; sooner while
#: the person is unsure, see ``REIDENTIFY_UNSURE``).
REIDENTIFY_EVERY = 96
#: The detector looks at video frames scaled to this long side (finds faces down to ~6% of it).
VIDEO_DETECT_SIDE = 640
#: Audio codecs an MP4 can carry as they are.
_MP4_AUDIO = {"aac", "mp3", "alac", "opus", "flac", "ac3", "eac3"}


class VideoReader:
    """RGB frames of a video as numpy arrays (H, W, 3), with its metadata.

    ``output_params`` go to ffmpeg (e.g. ``["-vf", "fps=2"]`` to sample frames)."""

    def __init__(self, path: Path, output_params: list[str] | None = None) -> None:
        import imageio_ffmpeg

        self.path = Path(path)
        try:
            self._gen = imageio_ffmpeg.read_frames(str(path), output_params=output_params)
            self.meta: dict[str, Any] = self._gen.__next__()
        except (OSError, RuntimeError, StopIteration) as exc:
            raise EngineError(701, "File error: the video cannot be decoded.") from exc
        width, height = self.meta.get("size") or (0, 0)
        if not width or not height:
            self.close()
            raise EngineError(701, "File error: the video has no picture.")
        self.width, self.height = int(width), int(height)
        self.fps = float(self.meta.get("fps") or 0.0) or 25.0
        duration = self.meta.get("duration")
        self.duration = float(duration) if duration else None

    @property
    def has_audio(self) -> bool:
        return bool(self.meta.get("audio_codec"))

    def estimated_frames(self) -> int | None:
        if self.duration is None:
            return None
        return max(1, round(self.duration * self.fps))

    def __iter__(self) -> Iterator[np.ndarray]:
        from mio_nb.sandbox.media_limits import MAX_VIDEO_FRAMES, MAX_VIDEO_SECONDS, VIDEO_LIMIT

        shape = (self.height, self.width, 3)
        count = 0
        # The limits hold while decoding, whatever the header claims (#16).
        most = min(MAX_VIDEO_FRAMES, int((MAX_VIDEO_SECONDS + 1) * self.fps))
        try:
            for raw in self._gen:
                count += 1
                if count > most:
                    raise EngineError(704, f"Only supported files: {VIDEO_LIMIT}.")
                yield np.frombuffer(raw, dtype=np.uint8).reshape(shape).copy()
        except RuntimeError as exc:
            if count == 0:
                raise EngineError(701, "File error: the video cannot be decoded.") from exc
            raise
        if count == 0:
            raise EngineError(701, "File error: the video has no frames.")

    def close(self) -> None:
        self._gen.close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class VideoWriter:
    """Writes RGB frames as an H.264 MP4 (yuv420p, +faststart), muxing in the sound track of
    ``audio_from`` when it has one (copied when MP4 can carry it, AAC otherwise)."""

    def __init__(
        self,
        out: Path,
        size: tuple[int, int],
        fps: float,
        *,
        audio_from: Path | None = None,
        audio_codec: str | None = None,
        hd: bool = False,
    ) -> None:
        import imageio_ffmpeg

        self.size = size
        params = ["-movflags", "+faststart", "-preset", "medium" if hd else "veryfast"]
        params += ["-crf", "18" if hd else "23"]
        kwargs: dict[str, Any] = {}
        if audio_from is not None:
            kwargs["audio_path"] = str(audio_from)
            kwargs["audio_codec"] = "copy" if audio_codec in _MP4_AUDIO else "aac"
        self._gen = imageio_ffmpeg.write_frames(
            str(out),
            size,
            fps=fps,
            codec="libx264",
            pix_fmt_out="yuv420p",
            quality=None,
            macro_block_size=2,  # yuv420p needs even sizes; keep every other size as it is
            output_params=params,
            ffmpeg_log_level="error",
            **kwargs,
        )
        self._gen.send(None)
        self.frames = 0

    def write(self, frame: np.ndarray) -> None:
        self._gen.send(np.ascontiguousarray(frame))
        self.frames += 1

    def close(self) -> None:
        self._gen.close()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is None:
            self.close()
            return
        # Already failing: do not let ffmpeg's complaint hide the first error.
        with contextlib.suppress(Exception):
            self.close()


#: A scene cut: the mean colour difference of two consecutive frames' tiny copies above this.
CUT_DIFFERENCE = 28.0


def thumb(frame: np.ndarray) -> np.ndarray:
    """A tiny copy of a frame (32 x 18) for telling scene cuts."""
    import cv2

    return cv2.resize(frame, (32, 18), interpolation=cv2.INTER_AREA).astype(np.int16)


def is_cut(before: np.ndarray, after: np.ndarray) -> bool:
    """Whether two consecutive frames' :func:`thumb` copies belong to different shots."""
    return float(np.abs(after - before).mean()) > CUT_DIFFERENCE


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _spread(landmarks: np.ndarray) -> float:
    return float(np.sqrt(((landmarks - landmarks.mean(axis=0)) ** 2).sum(axis=1).mean()))


@dataclass
class Track:
    """One face followed from frame to frame."""

    id: int
    face: Face
    person: int | None = None  # index of the matched person (swap_faces), None if unknown
    #: Distances of the last embedding to every known person.
    distances: np.ndarray | None = field(default=None, repr=False)
    last_identified: int = -(10**9)
    smoothed: np.ndarray | None = field(default=None, repr=False)
    #: Detection rounds in a row that did not find this face (it is followed meanwhile).
    missed: int = 0
    #: A small grey picture of the face when last detected, to check a followed face is there.
    template: np.ndarray | None = field(default=None, repr=False)

    def follow(self, detector: Detector, gray: np.ndarray) -> bool:
        """Re-fit the landmarks around the last position and move the box with them (moved,
        not resized: resizing from the landmarks feeds back into the next fit and drifts;
        the next detection sets the size again). False when the fit jumped or shrank: the
        face is no longer there."""
        old = self.face.landmarks
        new = detector.landmarks(gray, self.face.box)
        dx, dy = new.mean(axis=0) - old.mean(axis=0)
        spread_old, spread_new = _spread(old), _spread(new)
        if np.hypot(dx, dy) > 1.2 * spread_old or not (
            0.6 < spread_new / max(spread_old, 1e-3) < 1.6
        ):
            return False
        x0, y0, x1, y1 = self.face.box
        box = (x0 + float(dx), y0 + float(dy), x1 + float(dx), y1 + float(dy))
        self.face = Face(box, self.face.score, new, None)
        return True

    def looks_the_same(self, gray: np.ndarray) -> bool:
        """Whether the face in the track's box still looks like the one last detected (a
        normalised correlation of small grey pictures): bridged frames stop when it does not."""
        if self.template is None:
            return True
        now = face_template(gray, self.face.box)
        return now is not None and float((now * self.template).mean()) > TEMPLATE_MATCH

    def stable_landmarks(self) -> np.ndarray:
        """Landmarks with light temporal smoothing: small movements (landmark jitter) are
        averaged with the frames before; real motion passes through."""
        current = self.face.landmarks
        if self.smoothed is None or self.smoothed.shape != current.shape:
            self.smoothed = current.copy()
            return current
        motion = float(np.abs(current - self.smoothed).mean())
        spread = _spread(current)
        if motion < 0.02 * spread + 0.5:
            weight = 0.4
        elif motion < 0.05 * spread + 1.0:
            weight = 0.7
        else:
            weight = 1.0
        self.smoothed = weight * current + (1.0 - weight) * self.smoothed
        return self.smoothed


#: Detection rounds a face may go undetected while it is still followed (bridges the frames
#: where a turned or tilted face is not detected; a scene cut or a changed look ends it).
MAX_MISSED = 4
#: Normalised correlation a followed face keeps with its picture at the last detection.
TEMPLATE_MATCH = 0.35
#: Re-compute an embedding after this many frames when the person was unsure or unknown.
REIDENTIFY_UNSURE = 12


def face_template(gray: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray | None:
    """A 24 x 24 picture of the box's middle, zero mean and unit variance (None off-frame)."""
    import cv2

    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    ix0, iy0 = max(0, int(x0 + 0.15 * w)), max(0, int(y0 + 0.15 * h))
    ix1, iy1 = min(gray.shape[1], int(x1 - 0.15 * w)), min(gray.shape[0], int(y1 - 0.05 * h))
    if ix1 - ix0 < 6 or iy1 - iy0 < 6:
        return None
    patch = cv2.resize(gray[iy0:iy1, ix0:ix1], (24, 24), interpolation=cv2.INTER_AREA)
    patch = patch.astype(np.float32)
    patch -= patch.mean()
    return patch / max(float(patch.std()), 1.0)


class Tracker:
    """Follows faces through a video: detection every ``DETECT_EVERY`` frames (and at every
    scene cut), landmark tracking in between, faces kept through a few missed detections, and
    optional identification against known people's embeddings (each face in a frame goes to
    the nearest person, one face per person)."""

    def __init__(
        self,
        detector: Detector,
        people: list[np.ndarray] | None = None,
        *,
        detect_every: int = DETECT_EVERY,
        reidentify_every: int = REIDENTIFY_EVERY,
    ) -> None:
        self.detector = detector
        self.people = np.array(people) if people else None
        self.identify = bool(people)
        self.detect_every = detect_every
        self.reidentify_every = reidentify_every
        self.tracks: list[Track] = []
        self._next_id = 0
        self._thumb: np.ndarray | None = None
        self._last_detection = -(10**9)
        self.embeddings_computed = 0

    def update(self, index: int, frame: np.ndarray) -> list[Track]:
        """Tracks of faces in frame ``index`` (frames must come in order)."""
        import cv2

        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        small = thumb(frame)
        cut = self._thumb is not None and is_cut(self._thumb, small)
        self._thumb = small
        if cut:
            self.tracks = []
        due = index - self._last_detection >= (self.detect_every if self.tracks else 3)
        if cut or due:
            self._last_detection = index
            self._detect(gray)
        else:
            self.tracks = [t for t in self.tracks if t.follow(self.detector, gray)]
        if self.identify:
            for track in self.tracks:
                if track.person is None or (
                    track.distances is not None and _unsure(track.distances)
                ):
                    wait = REIDENTIFY_UNSURE
                else:
                    wait = self.reidentify_every
                if index - track.last_identified >= wait:
                    self._identify(track, frame, index)
            self._assign_people()
        return self.tracks

    def _detect(self, gray: np.ndarray) -> None:
        faces = self.detector.detect(gray, max_side=VIDEO_DETECT_SIDE, upsample=1)
        kept: list[Track] = []
        unmatched = list(self.tracks)
        for face in sorted(faces, key=lambda f: -f.area):
            best = max(unmatched, key=lambda t: _closeness(t.face, face), default=None)
            closeness = _closeness(best.face, face) if best is not None else 0.0
            if best is not None and closeness > 0.3:
                unmatched.remove(best)
                if iou(best.face.box, face.box) > 0.6 and best.missed == 0:
                    # The detector's boxes come in steps of its scan grid: average with the
                    # followed box so that landmarks do not jump on detection frames.
                    best.follow(self.detector, gray)
                    box = tuple((a + b) / 2 for a, b in zip(best.face.box, face.box, strict=True))
                    face = Face(box, face.score, self.detector.landmarks(gray, box))  # type: ignore[arg-type]
                best.face = face
                best.missed = 0
                best.template = face_template(gray, face.box)
                kept.append(best)
            else:
                track = Track(self._next_id, face, template=face_template(gray, face.box))
                self._next_id += 1
                kept.append(track)
        for track in unmatched:
            # Not found by the whole-frame scan: looked for around its place, turned upright;
            # else followed on for a few rounds while it still looks like the same face.
            if not track.follow(self.detector, gray):
                continue
            if self.detector.still_there(gray, track.face):
                track.missed = 0
                track.template = face_template(gray, track.face.box)
            else:
                track.missed += 1
            if (
                track.missed <= MAX_MISSED
                and track.looks_the_same(gray)
                and all(iou(track.face.box, other.face.box) < 0.3 for other in kept)
            ):
                kept.append(track)
        self.tracks = kept

    def _identify(self, track: Track, frame: np.ndarray, index: int) -> None:
        embedding = self.detector.embed(frame, track.face)
        self.embeddings_computed += 1
        track.last_identified = index
        if self.people is not None:
            track.distances = np.linalg.norm(self.people - embedding, axis=1)

    def _assign_people(self) -> None:
        """Each track to the nearest person within ``MATCH_DISTANCE``, one track per person
        (the closest wins; a look-alike in the same frame keeps to their own person)."""
        options = []
        for track in self.tracks:
            track.person = None
            if track.distances is None:
                continue
            for person, distance in enumerate(track.distances):
                if distance < MATCH_DISTANCE:
                    options.append((float(distance), track.id, person))
        taken_tracks: set[int] = set()
        taken_people: set[int] = set()
        by_id = {t.id: t for t in self.tracks}
        for _, track_id, person in sorted(options):
            if track_id in taken_tracks or person in taken_people:
                continue
            taken_tracks.add(track_id)
            taken_people.add(person)
            by_id[track_id].person = person


def _closeness(a: Face, b: Face) -> float:
    """How well two boxes agree: their overlap, or for boxes of about the same size whose
    centres are close (a tilted face's box moves), a value from the centre distance."""
    overlap = iou(a.box, b.box)
    (ax, ay), (bx, by) = a.center, b.center
    size = max(a.width, b.width)
    if max(a.width, b.width) > 1.5 * min(a.width, b.width):
        return overlap
    return max(overlap, 1.0 - float(np.hypot(ax - bx, ay - by)) / (0.5 * size))


def _unsure(distances: np.ndarray) -> bool:
    """The nearest person is not clearly the one: far, or a second person nearly as near."""
    ordered = np.sort(distances)
    if ordered[0] > 0.45:
        return True
    return len(ordered) > 1 and ordered[1] - ordered[0] < 0.08


def match_person(embedding: np.ndarray, people: list[np.ndarray]) -> int | None:
    """Index of the nearest person within ``MATCH_DISTANCE``, or None."""
    if not people:
        return None
    distances = [float(np.linalg.norm(embedding - p)) for p in people]
    best = int(np.argmin(distances))
    return best if distances[best] < MATCH_DISTANCE else None


class FrameProgress:
    """Calls ``callback`` with the share done (0..1), at most every ``step``."""

    def __init__(self, callback: Callable[[float], None] | None, total: int | None) -> None:
        self.callback = callback
        self.total = total
        self._last = -1.0

    def frame(self, done: int, *, share: float = 0.98, step: float = 0.02) -> None:
        if self.callback is None or not self.total:
            return
        value = min(share, share * done / self.total)
        if value - self._last >= step:
            self._last = value
            self.callback(value)

    def done(self) -> None:
        if self.callback is not None:
            self.callback(1.0)
