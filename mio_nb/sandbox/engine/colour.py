"""Colour and light transfer for the face swap: the photo's skin tone and lighting, the new
face's features.

The warped new face is multiplied by the ratio of the photo's skin, blurred, to its own skin,
blurred. Two choices keep the original person's features out of it (engine v2 carried them
over: its blur was about a tenth of the eye distance, so the photo's brows, eye sockets and
beard came through): the blur is wide (``LIGHT_SCALE`` eye distances: the light across a face,
its skin tone and cast, not its features), and each face is averaged over its own skin only
(brows, eyes and mouth left out, then a normalised convolution), so that dark features do not
darken the light around them.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["blur_light", "masked_blur", "skin_sample"]

#: The feature groups (68-point layout) left out of the skin sample: brows, eyes, mouth.
FEATURE_GROUPS = (range(17, 22), range(22, 27), range(36, 42), range(42, 48), range(48, 60))
#: A skin sample smaller than this (pixels) is not trusted.
MIN_SAMPLE = 40


def skin_sample(mask: np.ndarray, points: np.ndarray, eye_distance: float) -> np.ndarray:
    """The pixels of ``mask`` (uint8) that show skin: the brows, eyes and mouth around
    ``points`` (68 landmarks) cut out with a margin of a fifth of the eye distance; the whole
    ``mask`` when that leaves too little (a tiny face)."""
    features = np.zeros_like(mask)
    for group in FEATURE_GROUPS:
        polygon = cv2.convexHull(np.round(points[list(group)]).astype(np.int32))
        cv2.fillConvexPoly(features, polygon, 255)
    grow = max(3, int(eye_distance * 0.2)) | 1
    features = cv2.dilate(features, np.ones((grow, grow), np.uint8))
    sample = mask.copy()
    sample[features > 0] = 0
    if np.count_nonzero(sample) < MIN_SAMPLE:
        return mask
    return sample


def masked_blur(image: np.ndarray, mask: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur of ``image`` (``sigma`` in pixels) that only averages the pixels of
    ``mask`` (a normalised convolution), run on a copy small enough that the blur is ~4
    pixels (fast for big faces; the result is smooth anyway)."""
    height, width = image.shape[:2]
    factor = min(1.0, 4.0 / max(sigma, 1e-3))
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    weight = (mask > 0).astype(np.float32)
    small_w = cv2.resize(weight, size, interpolation=cv2.INTER_AREA)
    small_i = cv2.resize(image * weight[..., None], size, interpolation=cv2.INTER_AREA)
    small_w = cv2.GaussianBlur(small_w, (0, 0), sigma * factor)
    small_i = cv2.GaussianBlur(small_i, (0, 0), sigma * factor)
    small = small_i / np.maximum(small_w, 1e-4)[..., None]
    total = float(small_w.sum())
    if total > 1e-6:  # far from every masked pixel: their mean colour
        small[small_w < 1e-3] = small_i.reshape(-1, small_i.shape[-1]).sum(axis=0) / total
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def blur_light(
    warped: np.ndarray,
    target: np.ndarray,
    target_sample: np.ndarray,
    warped_sample: np.ndarray,
    sigma: float,
) -> np.ndarray:
    """``warped`` multiplied by the ratio of the two faces' skin, each blurred over its own
    skin only (:func:`masked_blur`) at ``sigma``."""
    if not target_sample.any() or not warped_sample.any():
        return warped
    light_t = masked_blur(target, target_sample, sigma)
    light_w = masked_blur(warped, warped_sample, sigma)
    return warped * (light_t / np.maximum(light_w, 1.0))
