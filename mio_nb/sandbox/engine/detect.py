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
    "MATCH_DISTANCE",
    "MIN_SCORE",
    "Detector",
    "Face",
    "api_keypoints",
    "get_detector",
]

#: Detections scoring below this are dropped (dlib's HOG reports weak false faces around 0.1).
MIN_SCORE = 0.5
#: Two embeddings closer than this are the same person (dlib's usual threshold).
MATCH_DISTANCE = 0.6

# 68-point layout (iBUG 300-W): jaw 0-16, brows 17-26, nose 27-35, eyes 36-41 / 42-47
# (as seen in the image: 36-41 is the left one), mouth 48-67.
LEFT_EYE = slice(36, 42)
RIGHT_EYE = slice(42, 48)
NOSE_TIP = 30
MOUTH_LEFT = 48
MOUTH_RIGHT = 54


@dataclass
class Face:
    """One detected face in original pixels: ``box`` (x0, y0, x1, y1) as the detector gives it,
    its ``score``, the 68 ``landmarks`` (float32, shape (68, 2)), and the 128-d ``embedding``
    once computed."""

    box: tuple[float, float, float, float]
    score: float
    landmarks: np.ndarray
    embedding: np.ndarray | None = field(default=None, repr=False)

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
        self._lock = threading.RLock()

    def detect(
        self,
        rgb: np.ndarray,
        *,
        max_side: int = 1024,
        upsample: int | None = None,
        min_score: float = MIN_SCORE,
    ) -> list[Face]:
        """Faces in an RGB (or grey) uint8 image, in original pixels, with landmarks.

        The detector runs on a copy scaled down to ``max_side`` (faster on big images); the
        landmarks are fitted on the full image. ``upsample`` None: 1 for images up to 1024
        pixels on the long side after scaling (finds faces down to ~40 pixels), else 0."""
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
            box = (
                rect.left() / scale,
                rect.top() / scale,
                (rect.right() + 1) / scale,
                (rect.bottom() + 1) / scale,
            )
            faces.append(Face(box, float(score), self.landmarks(gray, box)))
        return faces

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
