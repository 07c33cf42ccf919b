"""Face detection, 68-point landmarks, the API's 5 keypoints and 128-d embeddings, with dlib.

Models come from the ``face-recognition-models`` package (nothing is downloaded): dlib's HOG
frontal face detector, the 68-point shape predictor and the ResNet face embedding model.

Licence note: the 68-point shape predictor was trained on the iBUG 300-W data set, whose
licence excludes commercial use. That is fine for this sandbox (a local test server); a
commercial product would need another landmark model.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import dlib
import numpy as np

from .models import model_path

__all__ = [
    "CANDIDATE_SCORE",
    "MATCH_DISTANCE",
    "MIN_SCORE",
    "Detector",
    "Face",
    "api_keypoints",
    "get_detector",
]

#: Detections scoring at least this are faces without further checks.
MIN_SCORE = 0.5
#: Detections scoring between this and ``MIN_SCORE`` are faces only when they pass
#: :meth:`Detector.verify` (real faces looking down or aside often score 0.0-0.5; so do
#: patterns that only look like faces to the HOG detector).
CANDIDATE_SCORE = 0.0
#: :meth:`Detector.verify` scales a candidate so that its face is about this many pixels wide
#: (dlib's CNN detector finds faces from about 80 pixels).
VERIFY_FACE_SIDE = 88
#: Still images are scanned at most this big (long side), upsampled once: faces from ~40
#: pixels of that size. Scanning a 1024-pixel photo upsampled costs 2.5x as much for faces
#: under 50 pixels, which a face swap cannot use anyway.
STILL_DETECT_SIDE = 800
#: At most this many weak detections of one image are checked (the strongest first).
MAX_WEAK_CHECKS = 8
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
    landmarks: np.ndarray
    embedding: np.ndarray | None = field(default=None, repr=False)
    #: Quarter turns (counter-clockwise, as ``np.rot90``) that made the face upright: 0 for
    #: a face found as the image is, 1-3 for one found in a rotated copy.
    turned: int = 0

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
    return Face((float(bx0), float(by0), float(bx1), float(by1)), face.score, landmarks, turned=k)


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
    """Luma as uint8: the HOG detector and the shape predictor only look at intensity, and a
    one-channel image is faster to scan."""
    if rgb.ndim == 2:
        return rgb
    import cv2

    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


class Detector:
    """dlib's models, loaded once. Thread-safe: dlib's objects are guarded by a lock."""

    def __init__(self) -> None:
        self._hog = dlib.get_frontal_face_detector()
        self._shape = dlib.shape_predictor(model_path("shape_predictor_68_face_landmarks.dat"))
        self._encoder: dlib.face_recognition_model_v1 | None = None
        self._cnn: dlib.cnn_face_detection_model_v1 | None = None
        self._lock = threading.RLock()

    def detect(
        self,
        rgb: np.ndarray,
        *,
        max_side: int = STILL_DETECT_SIDE,
        upsample: int | None = None,
        min_score: float = MIN_SCORE,
    ) -> list[Face]:
        """Faces in an RGB (or grey) uint8 image, in original pixels, with landmarks.

        The detector runs on a copy scaled down to ``max_side`` (faster on big images); the
        landmarks are fitted on the full image. ``upsample`` None: 1 for images up to 1024
        pixels on the long side after scaling (finds faces down to ~40 pixels of the scaled
        copy: ~50 pixels of a 1000-pixel photo), else 0."""
        import cv2

        gray = _to_gray(rgb)
        height, width = gray.shape[:2]
        scale = min(1.0, max_side / max(height, width))
        small = gray
        if scale < 1.0:
            small = cv2.resize(
                gray, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA
            )
        if upsample is None:
            upsample = 1 if max(small.shape[:2]) <= 1024 else 0
        with self._lock:
            rects, scores, _ = self._hog.run(small, upsample, 0.0)
        faces = []
        for rect, score in zip(rects, scores, strict=True):
            if score < min_score:
                continue
            if not (rect.width() > 0 and rect.height() > 0):
                continue
            box = (
                rect.left() / scale,
                rect.top() / scale,
                (rect.right() + 1) / scale,
                (rect.bottom() + 1) / scale,
            )
            faces.append(Face(box, float(score), self.landmarks(gray, box)))
        return faces

    def find(self, rgb: np.ndarray, *, turns: bool = True, large_first: bool = False) -> list[Face]:
        """Every face of a still image: strong detections, weak ones that pass
        :meth:`verify`, and, when none is found as the image is, faces found in copies turned
        by 90, 180 and 270 degrees (landmarks in the image's own pixels, ``turned`` set).

        ``large_first``: look for faces of 80 pixels and more first (a quarter of the work)
        and for smaller ones only when there is none (for a new-face portrait)."""
        if large_first:
            faces = self._checked(rgb, upsample=0)
            if faces:
                return faces
        faces = self._checked(rgb)
        if faces or not turns:
            return faces
        for k in (1, 3, 2):
            turned = np.ascontiguousarray(np.rot90(rgb, k))
            found = self._checked(turned)
            if found:
                return [unturn_face(face, k, rgb.shape[:2]) for face in found]
        return []

    def _checked(self, rgb: np.ndarray, upsample: int | None = None) -> list[Face]:
        faces = self.detect(rgb, upsample=upsample, min_score=CANDIDATE_SCORE)
        strong = [f for f in faces if f.score >= MIN_SCORE]
        weak = sorted((f for f in faces if f.score < MIN_SCORE), key=lambda f: -f.score)
        # Weak detections overlapping a strong one are the same face found twice.
        weak = [w for w in weak if all(_overlap(w.box, s.box) < 0.3 for s in strong)]
        return strong + [f for f in weak[:MAX_WEAK_CHECKS] if self.verify(rgb, f)]

    def still_there(self, gray: np.ndarray, face: Face) -> bool:
        """Whether the detector finds ``face`` again when it looks only around it, turned
        upright by the angle of its eye line and enlarged to at least 90 pixels: a tilted or
        small face the whole-frame scan missed."""
        import cv2

        pts = face.landmarks
        (lx, ly), (rx, ry) = pts[LEFT_EYE].mean(axis=0), pts[RIGHT_EYE].mean(axis=0)
        angle = float(np.degrees(np.arctan2(ry - ly, rx - lx)))
        cx, cy = face.center
        side = max(face.width, face.height)
        scale = max(1.0, 90.0 / max(side, 1.0))
        out = round(2.0 * side * scale)
        matrix = cv2.getRotationMatrix2D((float(cx), float(cy)), angle, scale)
        matrix[:, 2] += (out / 2 - cx, out / 2 - cy)
        patch = cv2.warpAffine(_to_gray(gray), matrix, (out, out), flags=cv2.INTER_LINEAR)
        with self._lock:
            rects, _, _ = self._hog.run(patch, 0, CANDIDATE_SCORE)
        for rect in rects:
            rx_, ry_ = (rect.left() + rect.right()) / 2, (rect.top() + rect.bottom()) / 2
            near = np.hypot(rx_ - out / 2, ry_ - out / 2) < 0.35 * side * scale
            if near and 0.6 < rect.width() / (side * scale) < 1.6:
                return True
        return False

    def verify(self, rgb: np.ndarray, face: Face) -> bool:
        """The false-face check for a weak detection: dlib's CNN face detector (slow on a whole
        frame, ~0.1 s on a face-sized crop) must find a face at the same place, and the 68
        landmarks must lie inside the face's box as a face's do."""
        import cv2

        x0, y0, x1, y1 = face.box
        side = max(x1 - x0, y1 - y0)
        pts = face.landmarks
        inside = (
            (pts[:, 0] > x0 - 0.25 * side).all()
            and (pts[:, 0] < x1 + 0.25 * side).all()
            and (pts[:, 1] > y0 - 0.35 * side).all()
            and (pts[:, 1] < y1 + 0.35 * side).all()
        )
        if not inside or eye_distance(pts) < 0.2 * side:
            return False
        height, width = rgb.shape[:2]
        pad = 0.4 * side
        cx0, cy0 = max(0, int(x0 - pad)), max(0, int(y0 - pad))
        cx1, cy1 = min(width, int(x1 + pad) + 1), min(height, int(y1 + pad) + 1)
        crop = np.ascontiguousarray(rgb[cy0:cy1, cx0:cx1])
        if crop.ndim == 2:
            crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2RGB)
        scale = VERIFY_FACE_SIDE / side
        crop = cv2.resize(
            crop,
            (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale))),
            interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC,
        )
        with self._lock:
            if self._cnn is None:
                self._cnn = dlib.cnn_face_detection_model_v1(
                    model_path("mmod_human_face_detector.dat")
                )
            found = self._cnn(crop, 0)
        own = (
            (x0 - cx0) * scale,
            (y0 - cy0) * scale,
            (x1 - cx0) * scale,
            (y1 - cy0) * scale,
        )
        for hit in found:
            r = hit.rect
            other = (r.left(), r.top(), r.right() + 1, r.bottom() + 1)
            if _overlap(own, other) > 0.3:
                return True
        return False

    def landmarks(self, image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
        """The 68 landmarks of the face in ``box`` (shape (68, 2), float32)."""
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
            vector = self._encoder.compute_face_descriptor(np.ascontiguousarray(rgb), shape)
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
