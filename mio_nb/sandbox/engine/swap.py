"""The classic landmark-based face swap, on numpy RGB frames.

1. Warp: the new face is mapped onto the target face piecewise-affinely over a Delaunay
   triangulation of the 68 landmarks (one ``cv2.remap`` over the face's bounding box; pixels
   outside the landmark hull follow a similarity transform, so the colour correction below has
   real surroundings to look at).
2. Colour: the warped face is multiplied by the ratio of the blurred target to the blurred warp
   (the lighting and skin tone of the target, the details of the new face).
3. Blend: a feathered alpha mask over the landmark hull (the fast path), or
   ``cv2.seamlessClone`` (Poisson blending; the ``hd`` path, which also sharpens a new face
   that had to be enlarged).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from mio_nb.sandbox.engine.detect import LEFT_EYE, RIGHT_EYE

__all__ = ["Source", "prepare_source", "swap_face"]

#: Landmarks that outline the face (jaw and brows): the mask is their convex hull.
_OUTLINE = list(range(0, 27))


def _eye_distance(landmarks: np.ndarray) -> float:
    return float(
        np.linalg.norm(landmarks[LEFT_EYE].mean(axis=0) - landmarks[RIGHT_EYE].mean(axis=0))
    )


def _triangulate(points: np.ndarray) -> np.ndarray:
    """Delaunay triangles of ``points`` as index triples (shape (n, 3))."""
    x0, y0 = points.min(axis=0) - 2
    x1, y1 = points.max(axis=0) + 2
    subdiv = cv2.Subdiv2D((int(x0), int(y0), int(x1 - x0) + 1, int(y1 - y0) + 1))
    for x, y in points:
        subdiv.insert((float(x), float(y)))
    triangles = []
    for tri in subdiv.getTriangleList().reshape(-1, 3, 2):
        idx = [int(np.argmin(((points - p) ** 2).sum(axis=1))) for p in tri]
        if len(set(idx)) == 3 and np.allclose(points[idx], tri, atol=0.5):
            triangles.append(idx)
    return np.array(triangles, dtype=np.int32)


@dataclass
class Source:
    """A new face, prepared once: its image at a few scales (a pyramid, so that a big new face
    is not aliased onto a small target) with the landmarks at each scale, and the
    triangulation used for the warp."""

    levels: list[tuple[np.ndarray, np.ndarray]]  # (RGB float32 image, landmarks), halving
    triangles: np.ndarray
    eye_distance: float = field(init=False)

    def __post_init__(self) -> None:
        self.eye_distance = _eye_distance(self.levels[0][1])

    def level_for(self, target_eye_distance: float) -> tuple[np.ndarray, np.ndarray]:
        """The smallest level still at least as big as the target (by eye distance)."""
        chosen = self.levels[0]
        for image, landmarks in self.levels[1:]:
            if _eye_distance(landmarks) >= target_eye_distance:
                chosen = (image, landmarks)
        return chosen


def prepare_source(rgb: np.ndarray, landmarks: np.ndarray) -> Source:
    """A :class:`Source` from the new face image and its 68 landmarks (original pixels)."""
    landmarks = np.asarray(landmarks, dtype=np.float32)
    height, width = rgb.shape[:2]
    x0, y0 = landmarks.min(axis=0)
    x1, y1 = landmarks.max(axis=0)
    pad = 0.35 * max(x1 - x0, y1 - y0)
    cx0, cy0 = max(0, int(x0 - pad)), max(0, int(y0 - pad))
    cx1, cy1 = min(width, int(x1 + pad) + 1), min(height, int(y1 + pad) + 1)
    image = np.ascontiguousarray(rgb[cy0:cy1, cx0:cx1]).astype(np.float32)
    points = landmarks - np.array([cx0, cy0], dtype=np.float32)
    levels = [(image, points)]
    while min(image.shape[:2]) >= 64 and _eye_distance(points) >= 24:
        image = cv2.pyrDown(image)
        points = points * 0.5
        levels.append((image, points))
    return Source(levels, _triangulate(levels[0][1]))


def _roi(landmarks: np.ndarray, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    x0, y0 = landmarks.min(axis=0)
    x1, y1 = landmarks.max(axis=0)
    pad = 0.2 * max(x1 - x0, y1 - y0) + 4
    return (
        max(0, int(x0 - pad)),
        max(0, int(y0 - pad)),
        min(shape[1], int(np.ceil(x1 + pad)) + 1),
        min(shape[0], int(np.ceil(y1 + pad)) + 1),
    )


def _warp_maps(
    src_pts: np.ndarray,
    dst_pts: np.ndarray,
    triangles: np.ndarray,
    size: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray]:
    """remap maps (destination pixel -> source pixel) for a piecewise-affine warp over the
    triangles; pixels outside every triangle use the similarity fit of all points."""
    width, height = size
    labels = np.full((height, width), -1, dtype=np.int32)
    # One affine (dst -> src) per triangle, plus the similarity fallback as the last entry.
    affines = np.empty((len(triangles) + 1, 2, 3), dtype=np.float32)
    for i, tri in enumerate(triangles):
        affines[i] = cv2.getAffineTransform(dst_pts[tri], src_pts[tri])
        cv2.fillConvexPoly(labels, np.round(dst_pts[tri]).astype(np.int32), i)
    similarity, _ = cv2.estimateAffinePartial2D(dst_pts, src_pts, method=cv2.LMEDS)
    if similarity is None:
        similarity = cv2.getAffineTransform(dst_pts[:3], src_pts[:3])
    affines[-1] = similarity
    a = affines[labels]  # label -1 picks the last entry: the fallback
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    map_x = a[..., 0, 0] * xs + a[..., 0, 1] * ys + a[..., 0, 2]
    map_y = a[..., 1, 0] * xs + a[..., 1, 1] * ys + a[..., 1, 2]
    return map_x, map_y


def _odd(value: float) -> int:
    v = max(3, int(value))
    return v if v % 2 else v + 1


def _smooth(image: np.ndarray, size: float) -> np.ndarray:
    """A Gaussian blur of about ``size`` pixels; big blurs run on a smaller copy (the result is
    smooth anyway), which keeps faces in big photos fast."""
    if size <= 31:
        return cv2.GaussianBlur(image, (_odd(size), _odd(size)), 0)
    height, width = image.shape[:2]
    scale = 31.0 / size
    small = cv2.resize(
        image,
        (max(1, round(width * scale)), max(1, round(height * scale))),
        interpolation=cv2.INTER_AREA,
    )
    small = cv2.GaussianBlur(small, (31, 31), 0)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def swap_face(
    frame: np.ndarray,
    target: np.ndarray,
    source: Source,
    *,
    poisson: bool = False,
) -> None:
    """Replace the face with landmarks ``target`` (68, 2) in the RGB uint8 ``frame`` (in place)
    by the prepared ``source`` face."""
    target = np.asarray(target, dtype=np.float32)
    x0, y0, x1, y1 = _roi(target, frame.shape)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return
    roi = frame[y0:y1, x0:x1]
    dst_pts = target - np.array([x0, y0], dtype=np.float32)
    eye_distance = _eye_distance(target)
    image, src_pts = source.level_for(eye_distance)
    map_x, map_y = _warp_maps(src_pts, dst_pts, source.triangles, (x1 - x0, y1 - y0))
    warped = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    upscale = eye_distance / max(_eye_distance(src_pts), 1.0)
    if poisson and upscale > 1.3:
        # hd: a new face smaller than the target is soft once enlarged; sharpen it a little.
        soft = cv2.GaussianBlur(warped, (0, 0), sigmaX=min(upscale, 4.0))
        warped = cv2.addWeighted(warped, 1.6, soft, -0.6, 0)

    # The mask: the hull of the outline, pulled in a little, feathered.
    mask = np.zeros(roi.shape[:2], dtype=np.uint8)
    hull = cv2.convexHull(np.round(dst_pts[_OUTLINE]).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 255)
    erode = max(1, int(eye_distance * 0.08))
    mask = cv2.erode(mask, np.ones((erode, erode), np.uint8))

    # Colour: target lighting, new-face detail.
    target_f = roi.astype(np.float32)
    blur_t = _smooth(target_f, eye_distance * 0.6)
    blur_w = _smooth(warped, eye_distance * 0.6)
    corrected = warped * (blur_t / np.maximum(blur_w, 1.0))
    np.clip(corrected, 0, 255, out=corrected)

    if poisson and mask.any():
        x, y, w, h = cv2.boundingRect(mask)
        if x > 0 and y > 0 and x + w < mask.shape[1] and y + h < mask.shape[0]:
            center = (x + w // 2, y + h // 2)
            cloned = cv2.seamlessClone(
                corrected.astype(np.uint8),
                np.ascontiguousarray(roi),
                mask.copy(),  # OpenCV 5 writes into the mask
                center,
                cv2.NORMAL_CLONE,
            )
            # Soften the seam a little more than Poisson alone does.
            alpha = _smooth(mask, eye_distance * 0.12).astype(np.float32)[..., None] / 255.0
            roi[...] = (cloned * alpha + target_f * (1.0 - alpha)).astype(np.uint8)
            return
    alpha = _smooth(mask, eye_distance * 0.25).astype(np.float32)[..., None] / 255.0
    roi[...] = (corrected * alpha + target_f * (1.0 - alpha) + 0.5).astype(np.uint8)
