"""Video reading, writing and face tracking for the real engine (imageio-ffmpeg, dlib).

Frames are decoded by ffmpeg into RGB numpy arrays and re-encoded as H.264 (yuv420p,
``+faststart``) with the original sound track. Faces are followed in every frame (the
detector's last stage on each face's last place, which also sees turned and tilted heads), the
whole frame is scanned every few frames for new faces, and a face missed for a frame or two is
bridged at its last place, so that a swap never flashes back. Embeddings (slow) are computed
only when a track starts and every few seconds after, to tell people apart.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mio_nb.sandbox.engine import EngineError
from mio_nb.sandbox.engine.detect import MATCH_DISTANCE, STRONG_SCORE, Detector, Face

__all__ = [
    "Track",
    "Tracker",
    "VideoReader",
    "VideoWriter",
    "iou",
]

#: Scan the whole frame every this many frames (faces are followed in between).
DETECT_EVERY = 12
#: Re-compute a track's embedding every this many frames (to re-identify it; sooner while
#: the person is unsure, see ``REIDENTIFY_UNSURE``).
REIDENTIFY_EVERY = 96
#: The detector scans video frames scaled to this long side at most.
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
    #: Distances of the last confident embedding to every known person.
    distances: np.ndarray | None = field(default=None, repr=False)
    last_identified: int = -(10**9)
    smoothed: np.ndarray | None = field(default=None, repr=False)
    #: Frames in a row where the face was not found (it is bridged at its last place).
    missed: int = 0

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


#: Frames in a row a face may go unfound and still be swapped at its last place (a blink of
#: motion blur, a hand passing, a head turned too far for a frame or two).
MAX_BRIDGED = 6
#: Re-compute an embedding after this many frames when the person was unsure or unknown.
REIDENTIFY_UNSURE = 12
#: Frames between scans while a face is lost, none is followed or a weak one was seen.
SCAN_SOON = 2
#: Frames between scans while fewer faces are followed than the video has people.
SCAN_FOR_MISSING = 3


class Tracker:
    """Follows faces through a video: every frame, each face is looked for again near its last
    place (the detector's last stage on its box, a few milliseconds, see
    :meth:`Detector.follow`); the whole frame is scanned every ``DETECT_EVERY`` frames, at
    every scene cut and soon after a face is lost; a face not found is bridged at its last
    place for up to ``MAX_BRIDGED`` frames. With known people's embeddings, each face is
    identified (each face in a frame goes to the nearest person, one face per person), and a
    track keeps its person through turned-away frames whose embedding is unsure."""

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
        self.scans = 0
        #: The last scan saw a weak face it could not confirm: scan again soon (a face coming
        #: into view is often weak for a frame or two before the detector is sure of it).
        self._pending = False

    def update(self, index: int, frame: np.ndarray) -> list[Track]:
        """Tracks of faces in frame ``index`` (frames must come in order)."""
        import cv2

        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        small = thumb(frame)
        cut = self._thumb is not None and is_cut(self._thumb, small)
        self._thumb = small
        if cut:
            self.tracks = []
        for track in self.tracks:
            found = self.detector.follow(frame, track.face, gray, lazy=True)
            if found is not None:
                track.face = found
                track.missed = 0
            else:
                track.missed += 1
        since = index - self._last_detection
        lost = any(t.missed for t in self.tracks)
        soon = lost or self._pending or not self.tracks
        # Someone of the video is not followed (not in view yet, or missed): look again soon.
        missing = self.people is not None and len(self.tracks) < len(self.people)
        wait = SCAN_SOON if soon else SCAN_FOR_MISSING if missing else self.detect_every
        due = since >= min(wait, self.detect_every)
        if cut or due:
            self._last_detection = index
            self._detect(frame, gray)
        self.tracks = self._distinct([t for t in self.tracks if t.missed <= MAX_BRIDGED])
        if self.identify:
            for track in self.tracks:
                if track.missed:
                    continue  # a bridged face is where it was: nothing new to identify
                unsure = track.distances is None or _unsure(track.distances)
                wait = REIDENTIFY_UNSURE if unsure else self.reidentify_every
                if index - track.last_identified >= wait:
                    self._identify(track, frame, index)
            self._assign_people()
        return self.tracks

    def _detect(self, frame: np.ndarray, gray: np.ndarray) -> None:
        self.scans += 1
        faces = self.detector.detect(frame, max_side=VIDEO_DETECT_SIDE, lazy=True)
        unmatched = list(self.tracks)
        self._pending = False
        for face in sorted(faces, key=lambda f: -f.score):
            best = max(unmatched, key=lambda t: _closeness(t.face, face), default=None)
            if best is not None and _closeness(best.face, face) > 0.3:
                unmatched.remove(best)
                if best.missed:  # found again by the scan: no longer bridged
                    best.face = face
                    best.missed = 0
                continue
            if face.score >= STRONG_SCORE or self.detector.confirm(frame, face):
                self.tracks.append(Track(self._next_id, face))
                self._next_id += 1
            else:
                self._pending = True

    @staticmethod
    def _distinct(tracks: list[Track]) -> list[Track]:
        """Two tracks that drifted onto one face: the one found more recently (then the older
        one) is kept."""
        kept: list[Track] = []
        for track in sorted(tracks, key=lambda t: (t.missed, t.id)):
            if all(iou(track.face.box, other.face.box) < 0.4 for other in kept):
                kept.append(track)
        return sorted(kept, key=lambda t: t.id)

    def _identify(self, track: Track, frame: np.ndarray, index: int) -> None:
        embedding = self.detector.embed(frame, track.face)
        self.embeddings_computed += 1
        track.last_identified = index
        if self.people is None:
            return
        distances = np.linalg.norm(self.people - embedding, axis=1)
        # A turned or blurred face gives an unsure embedding: it does not overturn a person
        # the track was confidently matched to before.
        if track.distances is None or _unsure(track.distances) or not _unsure(distances):
            track.distances = distances

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
