"""Who is in a video: every person once, with their best face (the video side of get-face).

1. Frames: every frame is decoded; scene cuts are found on tiny copies (a jump in the mean
   colour difference); the detector looks at frames half a second apart and at the first
   frames of every shot, so that a short shot is not skipped.
2. Faces: MTCNN (see :mod:`.detect`; face boxes from ~12 pixels, turned and tilted heads),
   weak detections included.
3. Tracklets: within a shot, a face continues the tracklet whose last face is nearest (by
   position and size) in the sample before.
4. False faces: a tracklet whose detections are all weak, or that was seen in one sample only,
   must pass the false-face check (:meth:`Detector.confirm`) on its best face.
5. People: tracklets are merged by face embedding, closest first, with complete linkage (every
   embedding of one group within ``GROUP_DISTANCE`` of every one of the other: two people who
   merely look alike are kept apart), never two tracklets seen in the same frame (two faces of
   one frame are two people, however alike), with no cap on the number of people. Each
   tracklet gives up to two embeddings (its best face and one far from it in time).

The detector sees frontal, three-quarter and tilted faces; a face seen only in full profile
(or from behind) is not found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mio_nb.sandbox.engine.detect import (
    STRONG_SCORE,
    Detector,
    Face,
    frontality,
    points_frontality,
    roll_angle,
)
from mio_nb.sandbox.engine.video import VideoReader, is_cut, thumb

__all__ = ["Person", "SeenFace", "find_people"]

#: Seconds between frames the detector looks at (plus the first frames of every shot).
SAMPLE_EVERY = 0.5
#: The detector never looks at more frames than this (long videos are sampled more sparsely).
MAX_SAMPLES = 120
#: Extra samples right after a scene cut (frame offsets from the cut).
AFTER_CUT = (0, 4)
#: The detector looks at frames scaled to this long side at most.
DETECT_SIDE = 960
#: Samples a tracklet may miss and still continue (within a shot).
MAX_ABSENT = 2
#: Embeddings computed per tracklet at most (each costs ~0.1 s).
EMBEDDINGS_PER_TRACKLET = 2
#: Two groups of tracklets are one person when all their embeddings are closer than this:
#: dlib's face-clustering threshold (its ``face_clustering.py`` example), stricter than its
#: 0.6 for verifying one pair, as grouping compares many pairs. Different real people measured
#: 0.46-0.55 apart in single pairs; the same person in two shots 0.35-0.45.
GROUP_DISTANCE = 0.5
#: Tracklets whose first embeddings are closer than this are one person without a second look.
SURE_SAME = 0.35


@dataclass
class SeenFace:
    """One detection: the face, the frame index and time, and the frame itself (kept only for
    the faces that may become a crop or an embedding)."""

    face: Face
    index: int
    time: float
    frame: np.ndarray = field(repr=False)

    @property
    def quality(self) -> float:
        """Larger, more frontal, more upright and more confident faces make better crops and
        embeddings (the crop shown for a person is a clear, frontal one)."""
        face = self.face
        if face.points is not None:
            turn = points_frontality(face.points)
            upright = max(0.0, 1.0 - abs(roll_angle(face.points)) / 45.0)
        else:
            turn, upright = frontality(face.landmarks), 1.0
        return face.area * (0.1 + turn) * (0.1 + upright) * min(max(face.score, 0.1), 2.0)


@dataclass
class Tracklet:
    """One face followed through the samples of one shot."""

    seen: list[SeenFace]
    embeddings: list[np.ndarray] = field(default_factory=list)
    absent: int = 0  # samples in a row without this face

    @property
    def last(self) -> SeenFace:
        return self.seen[-1]

    @property
    def best(self) -> SeenFace:
        return max(self.seen, key=lambda s: s.quality)

    @property
    def samples(self) -> set[int]:
        return {s.index for s in self.seen}


@dataclass
class Person:
    """One person of the video: the mean embedding, the best face and how often seen."""

    embedding: np.ndarray
    best: SeenFace
    first_seen: float
    seen: int


def _continues(track: Tracklet, face: Face) -> float | None:
    """How far ``face`` is from the tracklet's last face (in face widths), or None if it cannot
    be the same face (too far or too different in size)."""
    last = track.last.face
    (ax, ay), (bx, by) = last.center, face.center
    size = max(last.width, face.width)
    ratio = max(last.width, face.width) / max(min(last.width, face.width), 1.0)
    distance = float(np.hypot(ax - bx, ay - by)) / size
    if ratio > 1.6 or distance > 0.8:
        return None
    return distance


def _link(tracklets: list[Tracklet], open_ones: list[Tracklet], seen: list[SeenFace]) -> None:
    """Add each face of one sample to the nearest open tracklet, or start a new one."""
    pairs = []
    for i, s in enumerate(seen):
        for j, track in enumerate(open_ones):
            d = _continues(track, s.face)
            if d is not None:
                pairs.append((d, i, j))
    used_faces: set[int] = set()
    used_tracks: set[int] = set()
    for _, i, j in sorted(pairs):
        if i in used_faces or j in used_tracks:
            continue
        used_faces.add(i)
        used_tracks.add(j)
        open_ones[j].seen.append(seen[i])
    kept = []
    for j, track in enumerate(open_ones):
        if j in used_tracks:
            track.absent = 0
            kept.append(track)
        else:
            # Not seen in this sample (a turned face, or too small for a coarse sample): stays
            # open for a sample or two.
            track.absent += 1
            if track.absent <= MAX_ABSENT:
                kept.append(track)
    for i, s in enumerate(seen):
        if i not in used_faces:
            track = Tracklet([s])
            tracklets.append(track)
            kept.append(track)
    open_ones[:] = kept


def _free_frames(track: Tracklet) -> None:
    """Keep the frames of the faces that may give the crop or an embedding, free the rest."""
    best = track.best
    keep = {id(best)}
    if len(track.seen) >= 4:
        keep.add(id(max(track.seen, key=lambda s: abs(s.index - best.index))))
    for s in track.seen:
        if id(s) not in keep:
            s.frame = None  # type: ignore[assignment]
            s.face.fitter = None  # nor the grey frame its landmarks would be fitted on


def _sample_indices(fps: float, frame_count: int | None) -> int:
    """Frames between two samples."""
    step = max(1, round(fps * SAMPLE_EVERY))
    if frame_count:
        step = max(step, int(np.ceil(frame_count / MAX_SAMPLES)))
    return step


def _embed(detector: Detector, track: Tracklet) -> None:
    """The embedding of the tracklet's best face."""
    best = track.best
    track.embeddings = [detector.embed(best.frame, best.face)]


def _embed_more(detector: Detector, track: Tracklet) -> None:
    """A second embedding, of the face furthest in time from the best one (when it is not much
    smaller): asked for only when the tracklet may be merged with another."""
    if len(track.embeddings) >= EMBEDDINGS_PER_TRACKLET or len(track.seen) < 4:
        return
    best = track.best
    far = max(track.seen, key=lambda s: abs(s.index - best.index))
    if far.frame is not None and far is not best and far.face.width >= 0.6 * best.face.width:
        track.embeddings.append(detector.embed(far.frame, far.face))


def _refine_candidates(detector: Detector, tracklets: list[Tracklet]) -> None:
    """Second embeddings for the tracklets that one embedding puts near, but not surely the
    same as, a tracklet they could be merged with (between ``SURE_SAME`` and
    ``GROUP_DISTANCE``: complete linkage can only raise a distance, so the others stay apart
    without them, and the surely same are merged anyway)."""
    for i, a in enumerate(tracklets):
        for b in tracklets[i + 1 :]:
            if a.samples & b.samples:
                continue
            distance = float(np.linalg.norm(a.embeddings[0] - b.embeddings[0]))
            if SURE_SAME <= distance < GROUP_DISTANCE:
                _embed_more(detector, a)
                _embed_more(detector, b)


def _group(tracklets: list[Tracklet]) -> list[list[Tracklet]]:
    """Complete-linkage grouping of tracklets by embedding distance, closest first, never
    merging two groups that share a sampled frame."""
    groups = [[t] for t in tracklets]
    frames = [set(t.samples) for t in tracklets]
    vectors = [np.array(t.embeddings) for t in tracklets]

    def distance(a: int, b: int) -> float:
        diff = vectors[a][:, None, :] - vectors[b][None, :, :]
        return float(np.linalg.norm(diff, axis=2).max())

    alive = list(range(len(groups)))
    while True:
        best: tuple[float, int, int] | None = None
        for x in range(len(alive)):
            for y in range(x + 1, len(alive)):
                a, b = alive[x], alive[y]
                if frames[a] & frames[b]:
                    continue
                d = distance(a, b)
                if d < GROUP_DISTANCE and (best is None or d < best[0]):
                    best = (d, a, b)
        if best is None:
            break
        _, a, b = best
        groups[a] += groups[b]
        frames[a] |= frames[b]
        vectors[a] = np.concatenate([vectors[a], vectors[b]])
        alive.remove(b)
    return [groups[i] for i in alive]


def find_people(detector: Detector, path: Path) -> list[Person]:
    """Every person of the video at ``path`` (see the module docstring), in order of first
    appearance (left to right among those appearing together)."""
    tracklets: list[Tracklet] = []
    open_ones: list[Tracklet] = []
    with VideoReader(path) as reader:
        fps = reader.fps
        step = _sample_indices(fps, reader.estimated_frames())
        scale = min(1.0, DETECT_SIDE / max(reader.width, reader.height))
        previous_thumb: np.ndarray | None = None
        next_sample = 0
        shot_start: set[int] = {0}
        for index, frame in enumerate(reader):
            small = thumb(frame)
            if previous_thumb is not None and is_cut(previous_thumb, small):
                open_ones.clear()  # a new shot: nothing continues across a cut
                next_sample = index
                shot_start = {index + k for k in AFTER_CUT}
            previous_thumb = small
            if index < next_sample and index not in shot_start:
                continue
            if index >= next_sample:
                next_sample = index + step
            faces = detector.detect(frame, max_side=round(max(frame.shape[:2]) * scale), lazy=True)
            before = list(open_ones)
            seen = [SeenFace(f, index, index / fps, frame) for f in faces]
            _link(tracklets, open_ones, seen)
            for track in before:
                if track not in open_ones:
                    _free_frames(track)
    for track in open_ones:
        _free_frames(track)
    real = []
    for track in tracklets:
        strongest = max(s.face.score for s in track.seen)
        best = track.best
        # Seen once, or never confidently: the false-face check decides (a pattern that
        # looks like a face in one frame rarely does in the next sample).
        once = len(track.seen) == 1
        if (strongest >= STRONG_SCORE and not once) or detector.confirm(best.frame, best.face):
            real.append(track)
    for track in real:
        _embed(detector, track)
    _refine_candidates(detector, real)
    people = []
    for group in _group(real):
        seen = [s for t in group for s in t.seen]
        best = max((s for s in seen if s.frame is not None), key=lambda s: s.quality)
        embedding = np.mean([e for t in group for e in t.embeddings], axis=0)
        people.append(Person(embedding, best, min(s.time for s in seen), len(seen)))
    people.sort(key=lambda p: (round(p.first_seen, 3), p.best.face.center[0]))
    return people
