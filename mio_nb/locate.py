"""Where each face crop lies in the original photo, found by image matching.

The API's get-face answer gives each face's crop, its size and its keypoints in crop pixels, but
not where the crop was cut from. :func:`locate` finds it: normalised cross-correlation of the
crop against the photo (numpy FFTs on a small pyramid, then a local refinement at a finer
level), tolerant of a uniform resize of the crop between 1/4x and 4x and of JPEG re-encoding.
A match is kept only if it is certain: high correlation in grey *and* the same colours (so a
tinted or recoloured look-alike is not taken for the crop). Otherwise the answer is ``None``:
nothing is guessed.

>>> from mio_nb.locate import locate
>>> where = locate("group.jpg", ["face-0.png", "face-1.png"])  # doctest: +SKIP
>>> where[0].box, where[0].confidence  # doctest: +SKIP
((412.0, 96.5, 180.2, 180.2), 0.97)
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageOps

if TYPE_CHECKING:
    from .results import FaceSet

__all__ = ["MIN_CONFIDENCE", "Location", "Locator", "locate", "place_faces"]

#: Matches below this confidence are reported as not found.
MIN_CONFIDENCE = 0.8
#: The crop may have been resized by a factor in [1/MAX_SCALE, MAX_SCALE].
MAX_SCALE = 4.0
#: Short side (pixels) of the crop's template at the coarse search level: [COARSE, 2*COARSE).
COARSE = 16
#: ... but as small as MIN_COARSE rather than correlating over more than MAX_COARSE_PIXELS.
MIN_COARSE = 8
MAX_COARSE_PIXELS = 400_000
#: The smallest region (short side, original pixels) a face crop is looked for in: no detector
#: finds a face in less.
MIN_REGION = 32
#: A coarse peak this good is refined at once; a match this sure ends the search.
EARLY_PEAK = 0.8
SURE = 0.95
#: Coarse guesses refined at most when no sure match turned up.
CANDIDATES = 5
#: Peaks kept per scale of the coarse search.
PEAKS = 3
#: Scales tried per octave in the coarse search.
STEPS_PER_OCTAVE = 4
#: Short side of the template when refining (at most SHARPEST times the crop's own, where the
#: way it was resized no longer shows); the final placing is to a fraction of a pixel, on the
#: full-resolution original.
REFINE = 48
SHARPEST = 0.6
#: Colour residual (RMS, relative to the crop's contrast) that costs no confidence, and all.
COLOUR_FREE = 0.08
COLOUR_ZERO = 0.2
#: Short side (pixels) of the thumbnails whose colours are compared.
COLOUR_SIDE = 16
#: Short side (pixels) at which a match is judged.
JUDGE = 64

Source = Any  # a path, PIL image or RGB uint8 array


@dataclass(frozen=True)
class Location:
    """Where a crop lies in the original: ``box`` = (x, y, width, height) in original pixels
    (floats), ``confidence`` in 0..1 (``MIN_CONFIDENCE`` or more, else :func:`locate` returns
    None), ``scale`` = original pixels per crop pixel."""

    box: tuple[float, float, float, float]
    confidence: float
    scale: float


def _rgb(source: Source) -> Image.Image:
    """An RGB PIL image from a path, PIL image or array; EXIF orientation applied (as browsers
    and the service show it)."""
    if isinstance(source, Image.Image):
        img = source
    elif isinstance(source, np.ndarray):
        img = Image.fromarray(source)
    else:
        with Image.open(os.fspath(source)) as opened:
            opened.load()
            img = ImageOps.exif_transpose(opened)
    if img.mode in ("RGBA", "LA", "P"):
        img = img.convert("RGBA")
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, img)
    return img.convert("RGB") if img.mode != "RGB" else img


def _thumbnail(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A float RGB array shrunk to ``size`` (box filter)."""
    img = Image.fromarray(np.clip(rgb + 0.5, 0, 255).astype(np.uint8))
    return np.asarray(img.resize(size, Image.Resampling.BOX), dtype=np.float32)


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _fast_len(n: int) -> int:
    """The smallest length >= n whose factors are 2 and 3 only (fast FFTs)."""
    best = 1 << max(0, math.ceil(math.log2(max(n, 1))))
    p3 = 1
    while p3 < best:
        p2 = p3
        while p2 < n:
            p2 *= 2
        best = min(best, p2)
        p3 *= 3
    return best


class _Plane:
    """One grey level of the pyramid, with what every correlation against it needs."""

    def __init__(self, gray: np.ndarray) -> None:
        self.gray = gray.astype(np.float32)
        h, w = gray.shape
        self.shape = (_fast_len(h), _fast_len(w))
        self.fft = np.fft.rfft2(self.gray, s=self.shape)
        g = gray.astype(np.float64)
        self.s1 = _integral(g)
        self.s2 = _integral(g * g)


def _integral(a: np.ndarray) -> np.ndarray:
    out = np.zeros((a.shape[0] + 1, a.shape[1] + 1), dtype=np.float64)
    np.cumsum(np.cumsum(a, axis=0), axis=1, out=out[1:, 1:])
    return out


def _box_sums(integral: np.ndarray, th: int, tw: int) -> np.ndarray:
    """Sums over every th x tw window (valid positions)."""
    return integral[th:, tw:] - integral[:-th, tw:] - integral[th:, :-tw] + integral[:-th, :-tw]


def _ncc(
    gray: np.ndarray,
    template: np.ndarray,
    *,
    fft: np.ndarray | None = None,
    shape: tuple[int, int] | None = None,
    s1: np.ndarray | None = None,
    s2: np.ndarray | None = None,
) -> np.ndarray:
    """Normalised cross-correlation of ``template`` at every valid position of ``gray``
    (shape (H-th+1, W-tw+1)); 0 where the window is flat."""
    h, w = gray.shape
    th, tw = template.shape
    t0 = template.astype(np.float32) - np.float32(template.mean())
    tnorm = float(np.sqrt((t0.astype(np.float64) ** 2).sum()))
    out_shape = (h - th + 1, w - tw + 1)
    if tnorm < 1e-6 or out_shape[0] < 1 or out_shape[1] < 1:
        return np.zeros((max(out_shape[0], 0), max(out_shape[1], 0)), dtype=np.float32)
    if fft is None or shape is None:
        shape = (_fast_len(h), _fast_len(w))
        fft = np.fft.rfft2(gray.astype(np.float32), s=shape)
    if s1 is None or s2 is None:
        g = gray.astype(np.float64)
        s1, s2 = _integral(g), _integral(g * g)
    corr = np.fft.irfft2(fft * np.conj(np.fft.rfft2(t0, s=shape)), s=shape)
    corr = corr[: out_shape[0], : out_shape[1]]
    n = th * tw
    sum1 = _box_sums(s1, th, tw)
    var = _box_sums(s2, th, tw) - sum1 * sum1 / n
    # A window flatter than ~1.5 grey levels (std) matches nothing.
    flat = var < n * 2.25
    denom = np.sqrt(np.maximum(var, 1e-9)) * tnorm
    out = (corr / denom).astype(np.float32)
    out[flat] = 0.0
    return np.clip(out, -1.0, 1.0)


def _peaks(score: np.ndarray, count: int, radius: int) -> list[tuple[float, int, int]]:
    """The ``count`` best local maxima (score, y, x), each at least ``radius`` from the others."""
    work = score.copy()
    found = []
    for _ in range(count):
        idx = int(np.argmax(work))
        y, x = divmod(idx, work.shape[1])
        value = float(work[y, x])
        if value <= 0.0:
            break
        found.append((value, y, x))
        work[max(0, y - radius) : y + radius + 1, max(0, x - radius) : x + radius + 1] = -1.0
    return found


def _subpixel(score: np.ndarray, y: int, x: int) -> tuple[float, float]:
    """The peak at (y, x) refined by a parabola through its neighbours."""

    def offset(a: float, b: float, c: float) -> float:
        d = a - 2 * b + c
        return 0.0 if d >= 0 else max(-0.5, min(0.5, 0.5 * (a - c) / d))

    dy = dx = 0.0
    if 0 < y < score.shape[0] - 1:
        dy = offset(score[y - 1, x], score[y, x], score[y + 1, x])
    if 0 < x < score.shape[1] - 1:
        dx = offset(score[y, x - 1], score[y, x], score[y, x + 1])
    return y + dy, x + dx


@dataclass(frozen=True)
class _Candidate:
    score: float
    x: float  # top-left, original pixels
    y: float
    scale: float  # original pixels per crop pixel


@dataclass(frozen=True)
class _Judgement:
    location: Location
    correlation: float  # grey, -1..1
    residual: float  # colour, relative to the crop's contrast


class Locator:
    """Finds crops in one original; build it once and call :meth:`find` for each crop (the
    photo's pyramid and its FFTs are shared)."""

    def __init__(self, original: Source) -> None:
        self.rgb = _rgb(original)
        self.width, self.height = self.rgb.size
        gray = self.rgb.convert("L")
        self._levels: list[Image.Image] = [gray]
        self._planes: dict[int, _Plane] = {}
        self._arrays: dict[int, np.ndarray] = {}

    # -- the pyramid ---------------------------------------------------------------------------

    def _level_image(self, level: int) -> Image.Image:
        while len(self._levels) <= level:
            prev = self._levels[-1]
            self._levels.append(prev.reduce(2) if min(prev.size) >= 2 else prev)
        return self._levels[level]

    def _factor(self, level: int) -> tuple[float, float]:
        """Level pixels per original pixel, (x, y): each level halves the one before (an odd
        last column or row of a level covers less of the original, at the same scale)."""
        self._level_image(level)
        return 0.5**level, 0.5**level

    def _array(self, level: int) -> np.ndarray:
        if level not in self._arrays:
            self._arrays[level] = np.asarray(self._level_image(level), dtype=np.float32)
        return self._arrays[level]

    def _plane(self, level: int) -> _Plane:
        if level not in self._planes:
            self._planes[level] = _Plane(self._array(level))
        return self._planes[level]

    @staticmethod
    def _level_for(region_short: float, template_short: float) -> int:
        """The pyramid level where a region of ``region_short`` original pixels is about
        ``template_short`` pixels (never finer than needed, never below 0)."""
        return max(0, math.floor(math.log2(max(region_short / template_short, 1.0))))

    # -- matching ------------------------------------------------------------------------------

    def find(
        self,
        crop: Source,
        *,
        min_confidence: float = MIN_CONFIDENCE,
        taken: Sequence[tuple[float, float, float, float]] = (),
    ) -> Location | None:
        """Where ``crop`` lies in the original, or None if it cannot be located with at least
        ``min_confidence``. Places overlapping a box of ``taken`` (other faces' crops) are not
        considered: two crops never share a place, even when the photo repeats a picture."""
        crop_rgb = _rgb(crop)
        cw, ch = crop_rgb.size
        if min(cw, ch) < 8 or min(self.width, self.height) < 8:
            return None
        crop_gray = crop_rgb.convert("L")
        best: Location | None = None
        settled: list[_Candidate] = []
        peaks: list[_Candidate] = []

        def consider(location: Location | None) -> bool:
            """Keep ``location`` if it is the best free one so far; True when it is sure."""
            nonlocal best
            if location is None or any(_overlap(location.box, box) > 0.3 for box in taken):
                return False
            if best is None or location.confidence > best.confidence:
                best = location
            return best.confidence >= SURE

        # Scales nearest to "not resized" first: a sure match there ends the search early.
        for scale in self._scales(cw, ch):
            found = self._coarse(crop_gray, scale)
            peaks.extend(found)
            for cand in found:
                if cand.score < EARLY_PEAK:
                    break
                if consider(self._settle(crop_rgb, crop_gray, cand, settled)):
                    return best
        peaks.sort(key=lambda c: -c.score)
        tried = 0
        for cand in peaks:
            if tried == CANDIDATES:
                break
            location = self._settle(crop_rgb, crop_gray, cand, settled)
            if location is None:
                continue
            tried += 1
            if consider(location):
                break
        if best is None or best.confidence < min_confidence:
            return None
        return best

    def _settle(
        self,
        crop_rgb: Image.Image,
        crop_gray: Image.Image,
        cand: _Candidate,
        settled: list[_Candidate],
    ) -> Location | None:
        """Refine a coarse guess and judge it; None if a guess near it was settled already."""
        short = min(crop_gray.size)
        size = cand.scale * short
        for done in settled:
            if (
                abs(cand.x - done.x) < 0.35 * size
                and abs(cand.y - done.y) < 0.35 * size
                and 0.8 < cand.scale / done.scale < 1.25
            ):
                return None
        settled.append(cand)
        refined = self._refine(
            crop_gray,
            cand,
            min(REFINE, short * SHARPEST),
            COARSE,
            span=2.5,
            scales=(0.84, 0.92, 1.0, 1.09, 1.19),
        )
        if refined is None:
            return None
        rough = self._judge(crop_rgb, refined)
        if rough.correlation < 0.5 or rough.residual > 2 * COLOUR_ZERO:
            return rough.location  # another picture: not worth placing precisely
        return self._judge(crop_rgb, self._polish(crop_gray, refined)).location

    def _scales(self, cw: int, ch: int) -> list[float]:
        """Scales (original pixels per crop pixel) to search, nearest to 1 first."""
        short = min(cw, ch)
        # The region's short side: the crop resized by 1/4x..4x, at least MIN_REGION pixels,
        # and inside the photo.
        lo = max(short / MAX_SCALE, MIN_REGION)
        fit = (
            min(self.width * ch / cw, self.height)
            if cw >= ch
            else min(self.width, self.height * cw / ch)
        )
        hi = min(short * MAX_SCALE, fit)
        if hi < lo:
            return []
        step = 2.0 ** (1.0 / STEPS_PER_OCTAVE)
        scales = [1.0]
        k = 1
        while True:
            added = False
            for s in (step**k, step**-k):
                if lo <= s * short <= hi:
                    scales.append(s)
                    added = True
            if not added and (step**k * short > hi and step**-k * short < lo):
                break
            k += 1
        if not lo <= short <= hi:
            scales.remove(1.0)
            scales.append(max(lo, min(hi, short)) / short)
            scales.sort(key=lambda s: abs(math.log(s)))
        return scales

    def _coarse(self, crop_gray: Image.Image, scale: float) -> list[_Candidate]:
        """The best ``PEAKS`` positions of the crop resized by ``scale``, from a small template on a
        coarse level of the pyramid (best first)."""
        cw, ch = crop_gray.size
        region = scale * min(cw, ch)
        level = self._level_for(region, COARSE)
        # Never correlate over a level bigger than MAX_COARSE_PIXELS: use a smaller template.
        while level < 12 and self._level_pixels(level) > MAX_COARSE_PIXELS:
            if region / 2 ** (level + 1) < MIN_COARSE:
                break
            level += 1
        fx, fy = self._factor(level)
        tw, th = max(2, round(cw * scale * fx)), max(2, round(ch * scale * fy))
        arr = self._array(level)
        if th > arr.shape[0] or tw > arr.shape[1]:
            return []
        template = np.asarray(
            crop_gray.resize((tw, th), Image.Resampling.BILINEAR), dtype=np.float32
        )
        plane = self._plane(level)
        score = _ncc(arr, template, fft=plane.fft, shape=plane.shape, s1=plane.s1, s2=plane.s2)
        return [
            _Candidate(value, x / fx, y / fy, scale)
            for value, y, x in _peaks(score, PEAKS, max(2, min(tw, th) // 2))
        ]

    def _level_pixels(self, level: int) -> int:
        return (self.width >> level) * (self.height >> level)

    def _refine(
        self,
        crop_gray: Image.Image,
        cand: _Candidate,
        template_short: float,
        previous_short: float,
        *,
        span: float,
        scales: Sequence[float],
    ) -> _Candidate | None:
        """The best position and scale near ``cand``, at the level where the crop is about
        ``template_short`` pixels: within ``span`` pixels of the previous step (where it was
        ``previous_short`` pixels) around it, at scales ``cand.scale * s``."""
        cw, ch = crop_gray.size
        short = min(cw, ch)
        x0, y0, scale = cand.x, cand.y, cand.scale
        want = template_short
        level = self._level_for(scale * short, want)
        fx, fy = self._factor(level)
        arr = self._array(level)
        # Search radius in level pixels: ``span`` pixels of the previous step, and a few more.
        radius = math.ceil(span * scale * short * fx / previous_short) + 2
        biggest = scale * max(scales)
        lx, ly = round(x0 * fx), round(y0 * fy)
        wx0, wy0 = max(0, lx - radius), max(0, ly - radius)
        wx1 = min(arr.shape[1], lx + round(cw * biggest * fx) + radius + 1)
        wy1 = min(arr.shape[0], ly + round(ch * biggest * fy) + radius + 1)
        plane = _Plane(arr[wy0:wy1, wx0:wx1])
        # Per scale: (score, centre x, centre y, scale as drawn), in original pixels.
        tried: list[tuple[float, float, float, float]] = []
        for s in scales:
            sc = scale * s
            tw, th = max(2, round(cw * sc * fx)), max(2, round(ch * sc * fy))
            if plane.gray.shape[0] < th or plane.gray.shape[1] < tw:
                continue
            template = np.asarray(
                crop_gray.resize((tw, th), Image.Resampling.BILINEAR), dtype=np.float32
            )
            score = _ncc(
                plane.gray, template, fft=plane.fft, shape=plane.shape, s1=plane.s1, s2=plane.s2
            )
            idx = int(np.argmax(score))
            py, px = divmod(idx, score.shape[1])
            sy, sx = _subpixel(score, py, px)
            tried.append(
                (
                    float(score[py, px]),
                    (wx0 + sx + tw / 2) / fx,
                    (wy0 + sy + th / 2) / fy,
                    (tw / fx / cw + th / fy / ch) / 2,  # the scale as drawn (sizes are whole)
                )
            )
        if not tried:
            return None
        i = max(range(len(tried)), key=lambda k: tried[k][0])
        value, cx, cy, best_scale = tried[i]
        if 0 < i < len(tried) - 1:
            # A parabola through the scores of the neighbouring scales (in log scale).
            (a, _, _, sa), (c, _, _, sc_) = tried[i - 1], tried[i + 1]
            d = a - 2 * value + c
            if d < 0:
                t = max(-0.5, min(0.5, 0.5 * (a - c) / d))
                step = math.log(sc_ / sa) / 2
                best_scale *= math.exp(t * step)
        w, h = cw * best_scale, ch * best_scale
        return _Candidate(value, cx - w / 2, cy - h / 2, best_scale)

    def _judge_size(self, cw: int, ch: int) -> tuple[int, int]:
        """The size at which a match is judged: JUDGE pixels on the short side, or less for a
        small crop (at most SHARPEST times its own size)."""
        short = min(cw, ch)
        side = max(8.0, min(JUDGE, short * SHARPEST))
        return max(2, round(cw * side / short)), max(2, round(ch * side / short))

    def _region(
        self,
        image: Image.Image,
        factor: float,
        x: float,
        y: float,
        w: float,
        h: float,
        size: tuple[int, int],
    ) -> np.ndarray | None:
        """The part (x, y, w, h) of the original (in original pixels), resampled to ``size``
        from ``image``, the original scaled by ``factor`` (None if it is not inside)."""
        if x < -0.5 or y < -0.5 or x + w > self.width + 0.5 or y + h > self.height + 0.5:
            return None
        box = (
            max(0.0, x * factor),
            max(0.0, y * factor),
            min((x + w) * factor, image.width),
            min((y + h) * factor, image.height),
        )
        return np.asarray(image.resize(size, Image.Resampling.BILINEAR, box=box), dtype=np.float32)

    def _polish(self, crop_gray: Image.Image, cand: _Candidate) -> _Candidate:
        """``cand`` moved and resized to a small fraction of a pixel: the correlation of the crop
        with the region resampled from the full-resolution original, maximised by a pattern
        search over (x, y, scale)."""
        cw, ch = crop_gray.size
        size = self._judge_size(cw, ch)
        template = np.asarray(crop_gray.resize(size, Image.Resampling.BILINEAR), np.float32)
        t0 = template - template.mean()
        tnorm = float(np.sqrt((t0 * t0).sum()))
        # Resample from the level where the region is still twice the judged size: as exact,
        # and much cheaper than from the full original.
        level = self._level_for(min(cw, ch) * cand.scale, 2 * min(size))
        gray, factor = self._level_image(level), self._factor(level)[0]

        def score(cx: float, cy: float, scale: float) -> float:
            w, h = cw * scale, ch * scale
            region = self._region(gray, factor, cx - w / 2, cy - h / 2, w, h, size)
            if region is None or tnorm < 1e-6:
                return -1.0
            r0 = region - region.mean()
            norm = float(np.sqrt((r0 * r0).sum())) * tnorm
            return float((r0 * t0).sum()) / norm if norm > 1e-6 else -1.0

        # Searched by the centre and the scale around it (independent of each other, unlike
        # the corner and the scale).
        scale = float(cand.scale)
        cx, cy = float(cand.x) + cw * scale / 2, float(cand.y) + ch * scale / 2
        best = score(cx, cy, scale)
        pixel = cw * scale / size[0]  # original pixels per judged pixel
        step_xy, step_s = pixel / 4, 0.25 / size[0]
        for _ in range(80):
            moved = False
            for dx, dy, ds in (
                (step_xy, 0, 0), (-step_xy, 0, 0), (0, step_xy, 0), (0, -step_xy, 0),
                (0, 0, step_s), (0, 0, -step_s),
            ):  # fmt: skip
                trial = (cx + dx, cy + dy, scale * (1.0 + ds))
                value = score(*trial)
                if value > best:
                    best, (cx, cy, scale), moved = value, trial, True
                    break
            if not moved:
                step_xy, step_s = step_xy / 2, step_s / 2
                if step_xy < pixel / 8:
                    break
        return _Candidate(best, cx - cw * scale / 2, cy - ch * scale / 2, scale)

    def _judge(self, crop_rgb: Image.Image, cand: _Candidate) -> _Judgement:
        """Confidence of a placed match: the grey correlation of the crop with the region cut
        from the full-resolution original at exactly that place and size (both resampled to
        the same small size), lowered when the region's colours differ from the crop's (a
        tinted or recoloured look-alike is not the crop)."""
        cw, ch = crop_rgb.size
        w, h = cw * cand.scale, ch * cand.scale
        x, y = cand.x, cand.y
        size = self._judge_size(cw, ch)
        region = self._region(self.rgb, 1.0, x, y, w, h, size)
        if region is None:
            return _Judgement(Location(box=(x, y, w, h), confidence=0.0, scale=cand.scale), 0, 1)
        crop = np.asarray(crop_rgb.resize(size, Image.Resampling.BILINEAR), dtype=np.float32)
        luma = np.array([0.299, 0.587, 0.114], dtype=np.float32)
        a, b = region @ luma, crop @ luma
        a0, b0 = a - a.mean(), b - b.mean()
        norm = float(np.sqrt((a0 * a0).sum() * (b0 * b0).sum()))
        correlation = float((a0 * b0).sum()) / norm if norm > 1e-6 else 0.0
        # Colour residual on COLOUR_SIDE-pixel thumbnails (where JPEG's noise and chroma
        # subsampling average out), relative to the crop's contrast: ~0.01-0.05 for the crop
        # itself (resized, re-encoded), 0.15 and more for a tinted copy.
        thumb = (
            max(1, round(size[0] * COLOUR_SIDE / min(size))),
            max(1, round(size[1] * COLOUR_SIDE / min(size))),
        )
        small_region = _thumbnail(region, thumb)
        small_crop = _thumbnail(crop, thumb)
        residual = float(np.sqrt(((small_region - small_crop) ** 2).mean())) / (
            float(b.std()) + 1.0
        )
        colour = (COLOUR_ZERO - residual) / (COLOUR_ZERO - COLOUR_FREE)
        confidence = max(0.0, correlation) * min(1.0, max(0.0, colour))
        box = (round(float(x), 2), round(float(y), 2), round(float(w), 2), round(float(h), 2))
        location = Location(box=box, confidence=round(confidence, 4), scale=float(cand.scale))
        return _Judgement(location, correlation, residual)


def locate(
    original: Source, crops: Sequence[Source], *, min_confidence: float = MIN_CONFIDENCE
) -> list[Location | None]:
    """Where each crop lies in ``original`` (a path, PIL image or RGB array): a
    :class:`Location` per crop, or None for a crop that cannot be located with confidence."""
    locator = Locator(original)
    found: list[Location | None] = []
    for crop in crops:
        taken = [where.box for where in found if where is not None]
        found.append(locator.find(crop, min_confidence=min_confidence, taken=taken))
    return found


def place_faces(faces: FaceSet) -> FaceSet:
    """``faces`` with each face's ``box`` set where its crop lies in the original image (the
    file the faces were detected in, when it is a local image); faces that cannot be located
    keep ``box=None``. Videos and unknown originals are returned as they are."""
    path = faces.source_path
    if not path or faces.kind == "video" or not os.path.isfile(path):
        return faces
    if any(face.path is None for face in faces):
        return faces
    try:
        locator = Locator(path)
    except (OSError, ValueError, Image.DecompressionBombError):
        return faces  # not an image we can read: the faces stay in the gallery only
    placed = []
    taken: list[tuple[float, float, float, float]] = []
    for face in faces:
        where = locator.find(face.path, taken=taken)
        if where is not None:
            taken.append(where.box)
        placed.append(face if where is None else replace(face, box=where.box))
    from .results import in_reading_order

    if all(face.box is not None for face in placed):
        # Numbered in reading order, whatever order the API listed them in (see results).
        return replace(faces, faces=in_reading_order(placed))
    return replace(faces, faces=tuple(placed))
