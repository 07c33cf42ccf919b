"""The landmark-based face swap (engine v3), on numpy RGB frames: the whole face inside the jaw
line and up to the forehead becomes the new person's, in the photo's pose, light and
expression.

1. Warp: the new face is mapped onto the target face piecewise-affinely over a Delaunay
   triangulation of the 68 landmarks and ten forehead points (the brows lifted by
   ``FOREHEAD`` eye distances), in one ``cv2.remap`` over the face's bounding box; pixels
   outside the triangles follow a similarity transform.
   Shape: the jaw line stays the photo's, but the brows, eyes, nose and mouth go most of the
   way (``SHAPE_SHARE``) to where the new face has them relative to its own outline (the
   photo's pose carried by an affine fit): a face is recognised by that layout as much as by
   its texture. Less of it when the warp would fold over itself.
   Turns: a new face turned to the other side than the photo's is mirrored first (its seen
   side over the photo's seen side).
   Mouths: when the two faces' mouths differ in opening (inner-lip gap relative to the eye
   distance), neither is stretched over the other. An open mouth in the photo keeps its teeth
   (the inner-lip points stay out of the warp and the inner mouth out of the mask); an open
   mouth of the new face over a closed one in the photo keeps its smile (no mouth points in
   the warp: the mouth moves with the face around it). The mouth keeps the photo's place then.
2. Colour and light (:mod:`.colour`): the warped face is multiplied by the ratio of the photo's
   skin to the new face's skin, each blurred over its own skin only at ``LIGHT_SCALE`` eye
   distances (the photo's light and skin tone, none of its features); its fine contrast is
   brought down towards the photo's (to 60% at most).
3. Sharpness: the warped face is blurred or sharpened until its Laplacian variance matches the
   photo's own face (a sharp new face pasted on a soft photo looks pasted on, and the reverse).
4. What stays the photo's: pixels of the lower face whose colour is far from the face's skin
   (a microphone, a hand, a cup in front of the chin); hair over the photo's forehead; and
   where the new face shows hair or background near its outline (:func:`skin_weight`).
5. Blend: a feathered alpha mask over the hull of the outline and forehead. ``hd`` warps from
   a finer level of the new face with bicubic interpolation and matches sharpness at that
   finer scale.

Per new face, everything that does not depend on the photo is prepared once (:class:`Source`:
pyramid, triangulations, skin weights, the mirror image on first use), so a video pays only
the per-frame warp, colour, masks and blend.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from mio_nb.sandbox.engine.colour import blur_light, skin_sample
from mio_nb.sandbox.engine.detect import LEFT_EYE, RIGHT_EYE, mouth_opening

__all__ = [
    "MIN_NEW_FACE",
    "Source",
    "laplacian_variance",
    "prepare_source",
    "skin_weight",
    "swap_face",
    "with_forehead",
    "yaw",
]

#: Landmarks that outline the face (jaw and brows): the mask is the convex hull of these and
#: the forehead points.
_OUTLINE = list(range(0, 27))
#: The lifted brow points of :func:`with_forehead`.
_LIFTED = list(range(68, 78))
#: The inner lips (the open mouth's outline) and the whole mouth.
_INNER_LIPS = list(range(60, 68))
_MOUTH = list(range(48, 68))
#: The inner features (brows, nose, eyes; and the mouth) take the new face's proportions.
_MOVED = list(range(17, 48))
_MOVED_WITH_MOUTH = list(range(17, 68))
#: How far the inner features move from the photo's places to the new face's (0-1).
SHAPE_SHARE = 0.8
#: A mouth is open when its inner-lip gap is at least this share of the eye distance.
OPEN_MOUTH = 0.08
#: The new face's local contrast is scaled down to the photo's, but never below this share.
CONTRAST_FLOOR = 0.6
#: The photo's light and skin tone are taken at this scale (Gaussian sigma, in eye distances):
#: larger than the eyes, nose and mouth, so that they stay the new face's.
LIGHT_SCALE = 0.8
#: Unsharp masking of a softer new face goes at most this far (its amount); grain makes up
#: the rest (sharpening an enlarged small face further brings out its compression or dither
#: pattern, not detail).
MAX_SHARPEN = 1.5
#: A new face narrower than this (jaw width, pixels) cannot carry its features: refused.
MIN_NEW_FACE = 64


def _eye_distance(landmarks: np.ndarray) -> float:
    return float(
        np.linalg.norm(landmarks[LEFT_EYE].mean(axis=0) - landmarks[RIGHT_EYE].mean(axis=0))
    )


#: The index of each landmark's mirror image (iBUG 68-point layout, flipped left-right).
MIRROR = np.array(
    list(range(16, -1, -1))  # jaw
    + list(range(26, 16, -1))  # brows
    + [27, 28, 29, 30, 35, 34, 33, 32, 31]  # nose
    + [45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40]  # eyes
    + [54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55]  # outer lips
    + [64, 63, 62, 61, 60, 67, 66, 65]  # inner lips
)
#: Faces turned aside by at least this much (see :func:`yaw`), to opposite sides: the new face
#: is mirrored first, so that its seen side covers the photo's seen side.
MIRROR_YAW = 0.12


def yaw(landmarks: np.ndarray) -> float:
    """How far a face is turned aside: -1..1, 0 for a frontal face, the sign telling the side
    (the nose tip's place between the two ends of the jaw line, along the eye line)."""
    pts = np.asarray(landmarks, dtype=np.float32)
    axis = pts[RIGHT_EYE].mean(axis=0) - pts[LEFT_EYE].mean(axis=0)
    axis /= max(float(np.linalg.norm(axis)), 1e-3)
    left = float((pts[30] - pts[0]) @ axis)
    right = float((pts[16] - pts[30]) @ axis)
    return (left - right) / max(abs(left) + abs(right), 1e-3)


#: The forehead: points above the brows by this many eye distances join the warp and the mask
#: (the brow line alone leaves the original's forehead and brow ridge in place).
FOREHEAD = 0.4
_BROWS = list(range(17, 27))


def with_forehead(points: np.ndarray) -> np.ndarray:
    """The 68 landmarks and 10 more: the brows lifted by ``FOREHEAD`` eye distances along the
    face's "up" (from the mouth towards the eyes, whatever the face's tilt)."""
    pts = np.asarray(points, dtype=np.float32)
    eyes = (pts[LEFT_EYE].mean(axis=0) + pts[RIGHT_EYE].mean(axis=0)) / 2
    up = eyes - pts[[48, 54]].mean(axis=0)
    up /= max(float(np.linalg.norm(up)), 1e-3)
    lifted = pts[_BROWS] + up * (FOREHEAD * _eye_distance(pts))
    return np.vstack([pts, lifted]).astype(np.float32)


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


def _triangulate_without(points: np.ndarray, left_out: list[int]) -> np.ndarray:
    """Delaunay triangles of the points not in ``left_out``, as indices of all ``points``."""
    kept = np.array([i for i in range(len(points)) if i not in set(left_out)])
    return kept[_triangulate(points[kept])]


@dataclass
class Source:
    """A new face, prepared once: its image at a few scales (a pyramid, so that a big new face
    is not aliased onto a small target) with the landmarks at each scale, and the
    triangulation used for the warp."""

    levels: list[tuple[np.ndarray, np.ndarray]]  # (RGB float32 image, landmarks), halving
    triangles: np.ndarray
    #: Per level: 1 where the new face shows its skin or its features, towards 0 where its
    #: hair or background reaches inside the jaw line (see :func:`skin_weight`).
    skins: list[np.ndarray] = field(default_factory=list, repr=False)
    eye_distance: float = field(init=False)
    mouth_opening: float = field(init=False)
    #: Triangulations without the inner lips and without the mouth (see the module docstring).
    without_inner_lips: np.ndarray = field(init=False, repr=False)
    without_mouth: np.ndarray = field(init=False, repr=False)
    _mirror: Source | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        points = self.levels[0][1]
        if len(self.skins) != len(self.levels):  # no skin weights given: all skin
            self.skins = [np.ones(image.shape[:2], np.float32) for image, _ in self.levels]
        self.eye_distance = _eye_distance(points)
        self.mouth_opening = mouth_opening(points)
        self.without_inner_lips = _triangulate_without(with_forehead(points), _INNER_LIPS)
        self.without_mouth = _triangulate_without(with_forehead(points), _MOUTH)

    @property
    def yaw(self) -> float:
        return yaw(self.levels[0][1])

    def mirrored(self) -> Source:
        """The new face flipped left-right (landmarks renumbered), prepared once."""
        if self._mirror is None:
            levels = []
            for image, points in self.levels:
                flipped = points.copy()
                flipped[:, 0] = image.shape[1] - 1 - flipped[:, 0]
                levels.append((np.ascontiguousarray(image[:, ::-1]), flipped[MIRROR]))
            skins = [np.ascontiguousarray(skin[:, ::-1]) for skin in self.skins]
            self._mirror = Source(levels, _triangulate(with_forehead(levels[0][1])), skins)
            self._mirror._mirror = self
        return self._mirror

    def facing(self, target: np.ndarray) -> Source:
        """This new face, or its mirror image when the two faces are turned to opposite sides."""
        own, other = self.yaw, yaw(target)
        if abs(own) >= MIRROR_YAW and abs(other) >= MIRROR_YAW and own * other < 0:
            return self.mirrored()
        return self

    def level_for(
        self, target_eye_distance: float, *, finer: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(image, landmarks, skin weight) of the smallest level still at least as big as the
        target (by eye distance); with ``finer``, the level at least twice as big when there
        is one."""
        wanted = target_eye_distance * (2.0 if finer else 1.0)
        chosen = 0
        for index, (_, landmarks) in enumerate(self.levels[1:], start=1):
            if _eye_distance(landmarks) >= wanted:
                chosen = index
        image, landmarks = self.levels[chosen]
        return image, landmarks, self.skins[chosen]


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
    skin = skin_weight(image, points)
    skins = [skin]
    while min(image.shape[:2]) >= 64 and _eye_distance(points) >= 24:
        image = cv2.pyrDown(image)
        skin = cv2.pyrDown(skin)
        points = points * 0.5
        levels.append((image, points))
        skins.append(skin)
    return Source(levels, _triangulate(with_forehead(levels[0][1])), skins)


#: The band along the jaw line where the new face's hair or background is left out, in eye
#: distances from the outline.
EDGE_BAND = 0.45


#: The photo's forehead is told from hair over it more strictly than the new face's outline
#: (hair there is often close to the skin's colour: brown, blond; a forehead is lit evenly).
FRINGE_TOLERANCE = 2.0


def skin_weight(
    image: np.ndarray,
    points: np.ndarray,
    region: tuple[int, int, int, int] | None = None,
    tolerance: float = 2.5,
) -> np.ndarray:
    """1 inside the face and on its skin, towards 0 for pixels near the face's outline whose
    colour is far from the skin of its cheeks (hair falling over the cheek or the forehead,
    the background inside the jaw line of a turned face, a collar). Float32, the image's size;
    with ``region`` (x0, y0, x1, y1) only that part is looked at (1 elsewhere). ``tolerance``:
    how far from the cheeks' colour (in robust deviations) a pixel is still skin."""
    height, width = image.shape[:2]
    eyes = _eye_distance(points)
    weight = np.ones((height, width), np.float32)
    # The skin's colour: the cheeks (converted to Lab on their bounding box only).
    cheek_points = np.round(points[[1, 2, 3, 31, 40, 41, 36, 15, 14, 13, 35, 47, 46, 45]])
    cx, cy, cw, ch = cv2.boundingRect(cheek_points.astype(np.int32))
    cx, cy = max(0, cx), max(0, cy)
    cw, ch = min(width - cx, cw), min(height - cy, ch)
    if cw < 2 or ch < 2:
        return weight
    cheeks = np.zeros((ch, cw), np.uint8)
    for polygon in ([1, 2, 3, 31, 40, 41, 36], [15, 14, 13, 35, 47, 46, 45]):
        cv2.fillConvexPoly(cheeks, np.round(points[polygon] - (cx, cy)).astype(np.int32), 255)
    crop = np.clip(image[cy : cy + ch, cx : cx + cw], 0, 255).astype(np.uint8)
    skin = cv2.cvtColor(crop, cv2.COLOR_RGB2LAB)[cheeks > 0].astype(np.float32)
    if len(skin) < 30:
        return weight
    skin = skin[:: max(1, len(skin) // 4000)]  # enough for a median, fast on a big face
    # A robust spread: the cheeks may hold a shadow or a beard.
    mean = np.median(skin, axis=0)
    spread = 1.4826 * np.median(np.abs(skin - mean), axis=0) + np.array([8.0, 3.0, 3.0])
    x0, y0, x1, y1 = region or (0, 0, width, height)
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return weight
    lab = cv2.cvtColor(np.clip(image[y0:y1, x0:x1], 0, 255).astype(np.uint8), cv2.COLOR_RGB2LAB)
    distance = np.sqrt((((lab.astype(np.float32) - mean) / spread) ** 2).sum(axis=2))
    far = np.clip((distance - tolerance) / 1.5, 0.0, 1.0)
    # Only near the outline: the eyes, brows, mouth (and glasses) are the face itself.
    local = points - np.array([x0, y0], np.float32)
    inner = np.zeros(far.shape, np.uint8)
    outline = with_forehead(local)[_OUTLINE + _LIFTED]
    cv2.fillConvexPoly(inner, cv2.convexHull(np.round(outline).astype(np.int32)), 255)
    band = max(3, int(EDGE_BAND * eyes * 2)) | 1
    inner = cv2.erode(inner, np.ones((band, band), np.uint8))
    features = np.zeros(far.shape, np.uint8)
    for group in (range(17, 22), range(22, 27), range(36, 42), range(42, 48), range(48, 60)):
        hull = cv2.convexHull(np.round(local[list(group)]).astype(np.int32))
        cv2.fillConvexPoly(features, hull, 255)
    grow = max(3, int(eyes * 0.25)) | 1
    features = cv2.dilate(features, np.ones((grow, grow), np.uint8))
    far[(inner > 0) | (features > 0)] = 0.0
    size = max(3, int(eyes * 0.1)) | 1
    far = cv2.morphologyEx(far, cv2.MORPH_OPEN, np.ones((size, size), np.uint8))
    far = cv2.GaussianBlur(far, (0, 0), max(1.0, eyes * 0.04))
    weight[y0:y1, x0:x1] = 1.0 - far
    return weight


def _folds(src: np.ndarray, dst: np.ndarray, triangles: np.ndarray) -> int:
    """How many ``triangles`` are turned inside out from ``src`` to ``dst`` points."""

    def signed_areas(points: np.ndarray) -> np.ndarray:
        a, b, c = points[triangles[:, 0]], points[triangles[:, 1]], points[triangles[:, 2]]
        return (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])

    return int((np.sign(signed_areas(src)) != np.sign(signed_areas(dst))).sum())


def _with_new_proportions(
    src_pts: np.ndarray, dst_pts: np.ndarray, *, mouth: bool, share: float = 1.0
) -> np.ndarray:
    """Where the new face's brows, eyes, nose (and mouth, with ``mouth``) go in the photo: the
    photo's own places moved ``share`` of the way towards the new face's, mapped onto
    the photo's face by the affine fit of all points (which carries the photo's pose). The
    jaw line stays the photo's: the head keeps its outline, the face inside is the new one's."""
    matrix, _ = cv2.estimateAffine2D(src_pts, dst_pts, method=cv2.LMEDS)
    if matrix is None or share <= 0:
        return dst_pts
    aligned = src_pts @ matrix[:, :2].T + matrix[:, 2]
    moved = _MOVED_WITH_MOUTH if mouth else _MOVED
    shaped = dst_pts.copy()
    shaped[moved] += share * (aligned[moved] - dst_pts[moved])
    return shaped


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


#: Warp maps of regions larger than this (pixels on a side) are computed at half resolution
#: and interpolated: a piecewise-affine map is continuous, so this costs next to no accuracy.
_FULL_MAP_SIDE = 240


def _warp_maps(
    src_pts: np.ndarray,
    dst_pts: np.ndarray,
    triangles: np.ndarray,
    size: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray]:
    """remap maps (destination pixel -> source pixel); big regions at half resolution."""
    width, height = size
    if max(width, height) <= _FULL_MAP_SIDE:
        return _exact_warp_maps(src_pts, dst_pts, triangles, size)
    half = (max(1, (width + 1) // 2), max(1, (height + 1) // 2))
    # Half-resolution pixel i covers full pixels 2i and 2i+1: its centre is at 2i + 0.5.
    map_x, map_y = _exact_warp_maps(src_pts, (dst_pts - 0.5) / 2, triangles, half)
    full_x = cv2.resize(map_x, (width, height), interpolation=cv2.INTER_LINEAR)
    full_y = cv2.resize(map_y, (width, height), interpolation=cv2.INTER_LINEAR)
    return full_x, full_y


def _exact_warp_maps(
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


def laplacian_variance(rgb: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Sharpness: the variance of the Laplacian of the grey image (inside ``mask``)."""
    grey = rgb if rgb.ndim == 2 else cv2.cvtColor(rgb.astype(np.float32), cv2.COLOR_RGB2GRAY)
    lap = cv2.Laplacian(grey.astype(np.float32), cv2.CV_32F)
    values = lap[mask > 0] if mask is not None else lap.ravel()
    return float(values.var()) if values.size else 0.0


def _match_sharpness(
    warped: np.ndarray, target_sharpness: float, mask: np.ndarray, *, fine: bool = False
) -> np.ndarray:
    """``warped`` blurred, or sharpened and given grain, so that its Laplacian variance inside
    ``mask`` is about ``target_sharpness`` (within a factor of ~1.3, or ~1.1 when ``fine``:
    more search steps, same kind of work). The strength is searched
    on the grey picture of the mask's bounding box, then applied once to the colour picture."""
    x, y, w, h = cv2.boundingRect(mask)
    pad = 6
    x0, y0 = max(0, x - pad), max(0, y - pad)
    x1, y1 = min(mask.shape[1], x + w + pad), min(mask.shape[0], y + h + pad)
    grey = cv2.cvtColor(warped[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY)
    inside = mask[y0:y1, x0:x1]
    own = laplacian_variance(grey, inside)
    if target_sharpness <= 0 or own <= 0:
        return warped
    band = 1.1 if fine else 1.15
    if 1 / (band + 0.18) <= own / target_sharpness <= band + 0.18:
        return warped
    steps = 9 if fine else 6
    if own > target_sharpness:
        low, high, sigma = 0.0, 4.0, 2.0
        for _ in range(steps):  # bisection on the blur's sigma
            sigma = (low + high) / 2
            value = laplacian_variance(cv2.GaussianBlur(grey, (0, 0), sigmaX=sigma), inside)
            if value > target_sharpness * band:
                low = sigma
            elif value < target_sharpness / band:
                high = sigma
            else:
                break
        return cv2.GaussianBlur(warped, (0, 0), sigmaX=sigma)
    # Softer than the photo: unsharp masking, as strong as needed (at most MAX_SHARPEN), then grain
    # for what sharpening cannot bring back (an enlarged new face has no fine detail left).
    soft_grey = cv2.GaussianBlur(grey, (0, 0), sigmaX=1.0)
    low, high, amount, value = 0.0, MAX_SHARPEN, 0.0, own
    for _ in range(steps):
        amount = (low + high) / 2
        value = laplacian_variance(cv2.addWeighted(grey, 1 + amount, soft_grey, -amount, 0), inside)
        if value < target_sharpness / band:
            low = amount
        elif value > target_sharpness * band:
            high = amount
        else:
            break
    # The brightness only: sharpening the colours too turns a small new face's compression
    # or dithering noise into coloured speckles.
    luma = cv2.cvtColor(warped, cv2.COLOR_RGB2GRAY)
    best = warped + (amount * (luma - cv2.GaussianBlur(luma, (0, 0), sigmaX=1.0)))[..., None]
    if value < target_sharpness / (band + 0.15):
        # White noise of deviation s adds 20 s^2 to the variance of the 4-neighbour Laplacian.
        deviation = np.sqrt((target_sharpness - value) / 20.0)
        grain = np.random.default_rng(7).normal(0.0, deviation, best.shape[:2]).astype(np.float32)
        best += grain[..., None]
    return np.clip(best, 0, 255, out=best)


def _occluders(
    roi: np.ndarray, points: np.ndarray, mask: np.ndarray, eye_distance: float
) -> np.ndarray:
    """Pixels of the lower face (beyond the nose tip towards the chin, whatever the face's
    tilt; outside the lips) whose colour is far from the skin of the cheeks: something in
    front of the face. A uint8 mask (255 = occluder)."""
    cheek_polygons = ([1, 2, 3, 31, 40, 41, 36], [15, 14, 13, 35, 47, 46, 45])
    cheeks = np.zeros(mask.shape, np.uint8)
    for polygon in cheek_polygons:
        cv2.fillConvexPoly(cheeks, np.round(points[polygon]).astype(np.int32), 255)
    cheeks &= mask
    # The face's "down": from the middle of the eyes towards the middle of the mouth.
    eyes = (points[LEFT_EYE].mean(axis=0) + points[RIGHT_EYE].mean(axis=0)) / 2
    down = points[[48, 54]].mean(axis=0) - eyes
    down /= max(float(np.linalg.norm(down)), 1e-3)
    ys, xs = np.mgrid[0 : mask.shape[0], 0 : mask.shape[1]].astype(np.float32)
    nose = points[33]
    lower = ((xs - nose[0]) * down[0] + (ys - nose[1]) * down[1] > 0) & (mask > 0)
    lips = np.zeros(mask.shape, np.uint8)
    cv2.fillConvexPoly(lips, cv2.convexHull(np.round(points[48:60]).astype(np.int32)), 255)
    grow = max(3, int(eye_distance * 0.15)) | 1
    lips = cv2.dilate(lips, np.ones((grow, grow), np.uint8))
    lower &= lips == 0
    if not lower.any():
        return np.zeros_like(mask)
    # Colours only where needed: the bounding box of the cheeks and the lower face.
    x, y, w, h = cv2.boundingRect(((cheeks > 0) | lower).astype(np.uint8))
    lab = np.zeros(roi.shape, np.float32)
    lab[y : y + h, x : x + w] = cv2.cvtColor(roi[y : y + h, x : x + w], cv2.COLOR_RGB2LAB)
    skin = lab[cheeks > 0]
    if len(skin) < 30:
        return np.zeros_like(mask)
    mean = skin.mean(axis=0)
    spread = skin.std(axis=0) + np.array([12.0, 4.0, 4.0], np.float32)
    distance = np.sqrt((((lab[y : y + h, x : x + w] - mean) / spread) ** 2).sum(axis=2))
    far = np.zeros(mask.shape, np.uint8)
    far[y : y + h, x : x + w] = (distance > 4.5) & lower[y : y + h, x : x + w]
    far *= 255
    size = max(3, int(eye_distance * 0.08)) | 1
    far = cv2.morphologyEx(far, cv2.MORPH_OPEN, np.ones((size, size), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(far)
    keep = np.zeros_like(far)
    minimum = 0.015 * float((mask > 0).sum())
    for label in range(1, count):
        if stats[label, cv2.CC_STAT_AREA] >= minimum:
            keep[labels == label] = 255
    if keep.any():
        keep = cv2.dilate(keep, np.ones((size, size), np.uint8))
    return keep


def swap_face(
    frame: np.ndarray,
    target: np.ndarray,
    source: Source,
    *,
    hd: bool = False,
) -> None:
    """Replace the face with landmarks ``target`` (68, 2) in the RGB uint8 ``frame`` (in place)
    by the prepared ``source`` face. ``hd``: warp from a finer level of the new face, bicubic,
    with a narrower feather at the seam (at the same cost)."""
    target = np.asarray(target, dtype=np.float32)
    x0, y0, x1, y1 = _roi(with_forehead(target), frame.shape)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return
    roi = frame[y0:y1, x0:x1]
    dst_pts = target - np.array([x0, y0], dtype=np.float32)
    eye_distance = _eye_distance(target)
    source = source.facing(target)
    image, src_pts, skin = source.level_for(eye_distance, finer=hd)

    # Mouths: never stretch an open mouth over a closed one, or the reverse.
    target_open = mouth_opening(target) >= OPEN_MOUTH
    source_open = source.mouth_opening >= OPEN_MOUTH
    triangles = source.triangles
    if target_open:
        triangles = source.without_inner_lips
    elif source_open:
        triangles = source.without_mouth

    forehead = with_forehead(dst_pts)
    src_all = with_forehead(src_pts)
    mouth_moves = not (target_open or source_open)
    # The new face's proportions, as far as the warp does not fold over itself (a triangle
    # turned inside out smears a streak across the face): less of them when it would.
    folds_as_is = _folds(src_all, forehead, triangles)
    for share in (SHAPE_SHARE, SHAPE_SHARE / 2, 0.0):
        shaped = _with_new_proportions(src_pts, dst_pts, mouth=mouth_moves, share=share)
        dst_all = np.vstack([shaped, forehead[68:]])
        if _folds(src_all, dst_all, triangles) <= folds_as_is:
            break
    map_x, map_y = _warp_maps(src_all, dst_all, triangles, (x1 - x0, y1 - y0))
    interpolation = cv2.INTER_CUBIC if hd else cv2.INTER_LINEAR
    warped = cv2.remap(image, map_x, map_y, interpolation, borderMode=cv2.BORDER_REFLECT)
    skin_here = cv2.remap(skin, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    # The mask: the hull of the outline, pulled in a little; minus the photo's open mouth and
    # anything in front of the face.
    mask = np.zeros(roi.shape[:2], dtype=np.uint8)
    hull = cv2.convexHull(np.round(forehead[_OUTLINE + _LIFTED]).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 255)
    erode = max(1, int(eye_distance * 0.08))
    mask = cv2.erode(mask, np.ones((erode, erode), np.uint8))
    if target_open:
        mouth = np.zeros_like(mask)
        cv2.fillPoly(mouth, [np.round(dst_pts[_INNER_LIPS]).astype(np.int32)], 255)
        mask[mouth > 0] = 0
    occluders = _occluders(roi, dst_pts, mask, eye_distance)
    mask[occluders > 0] = 0

    # Colour and light: the photo's skin tone and shading (each face blurred over its own skin
    # at a scale above the features, see :mod:`.colour`), the new face's features.
    target_f = roi.astype(np.float32)
    inner = cv2.erode(mask, np.ones((erode * 2 + 1, erode * 2 + 1), np.uint8))
    corrected = blur_light(
        warped,
        target_f,
        skin_sample(inner, dst_pts, eye_distance),
        skin_sample(inner, shaped, eye_distance),
        eye_distance * LIGHT_SCALE,
    )
    # Local contrast: the new face's details (wrinkles, shadows) no stronger than the photo's
    # own at that scale, down to 60% (a deeply lined face on a smooth one looks pasted on).
    if inner.any():
        fine_t = target_f - _smooth(target_f, eye_distance * 0.6)
        fine_w = corrected - _smooth(corrected, eye_distance * 0.6)
        photo = float(np.std(cv2.cvtColor(fine_t, cv2.COLOR_RGB2GRAY)[inner > 0]))
        own = float(np.std(cv2.cvtColor(fine_w, cv2.COLOR_RGB2GRAY)[inner > 0]))
        gain = float(np.clip(photo / max(own, 1e-3), CONTRAST_FLOOR, 1.0))
        if gain < 1.0:
            corrected -= (1.0 - gain) * fine_w
    np.clip(corrected, 0, 255, out=corrected)

    if inner.any():
        corrected = _match_sharpness(corrected, laplacian_variance(target_f, inner), inner, fine=hd)

    alpha = _smooth(mask, eye_distance * (0.12 if hd else 0.25)).astype(np.float32) / 255.0
    alpha *= skin_here
    # The photo's own hair over the forehead (a fringe) stays in front.
    brow_band = np.zeros(mask.shape, np.uint8)
    cv2.fillConvexPoly(
        brow_band, cv2.convexHull(np.round(forehead[_BROWS + _LIFTED]).astype(np.int32)), 255
    )
    if brow_band.any():
        bx, by, bw, bh = cv2.boundingRect(brow_band)
        margin = max(2, int(eye_distance * 0.2))
        region = (bx - margin, by - margin, bx + bw + margin, by + bh + margin)
        fringe = skin_weight(target_f, dst_pts, region, tolerance=FRINGE_TOLERANCE)
        alpha = np.where(brow_band > 0, alpha * fringe, alpha)
    alpha = alpha[..., None]
    if target_open or occluders.any():
        # The feathering must not bleed over the cut-outs.
        keep_out = np.zeros_like(mask)
        if target_open:
            keep_out[mouth > 0] = 255
        keep_out[occluders > 0] = 255
        soft_out = _smooth(keep_out, max(3.0, eye_distance * 0.05)).astype(np.float32) / 255.0
        alpha *= 1.0 - soft_out[..., None]
    roi[...] = (corrected * alpha + target_f * (1.0 - alpha) + 0.5).astype(np.uint8)
