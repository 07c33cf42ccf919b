"""Test material with known answers, built at test time from the two public-domain portraits.

``crowd_video``: a 640x360 clip (a "concert" shot): six people at different sizes (faces of 100
down to 40 pixels) over a textured background, some turning their heads, a cut to a close-up of
one of them, and a cut back. The six people are variants of the two portraits (mirrored, tinted,
narrowed or widened); look-alikes on purpose, which only their being in the same frame tells
apart. Every frame's true face boxes come with the clip.

Stills: a rotated photo, an occluder over a chin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import dlib
import numpy as np
from PIL import Image

from mio_nb import samples

SIZE = (640, 360)
FPS = 24


@dataclass(frozen=True)
class Identity:
    portrait: str  # "grace" or "astronaut"
    mirror: bool = False
    stretch: float = 1.0  # horizontal scale of the head
    tint: tuple[int, int, int] | None = None


#: The six people: (identity, face side in pixels in the wide shot, face centre in the wide shot).
PEOPLE = [
    (Identity("grace"), 100, (115, 112)),
    (Identity("astronaut", mirror=True), 80, (330, 100)),
    (Identity("grace", stretch=0.88, tint=(200, 150, 110)), 56, (530, 92)),
    (Identity("astronaut"), 64, (215, 272)),
    (Identity("grace", mirror=True, tint=(120, 150, 200)), 48, (420, 262)),
    (Identity("astronaut", stretch=1.12), 40, (580, 282)),
]
#: The person shown in the close-up (the astronaut, a 64-pixel face in the wide shot).
CLOSE_UP = 3


def rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def portrait(which: str) -> np.ndarray:
    return rgb(samples.grace_hopper() if which == "grace" else samples.astronaut())


def face_box(image: np.ndarray) -> tuple[float, float, float, float]:
    """The portrait's face box, found with dlib's detector (the portraits have one face)."""
    rect = max(dlib.get_frontal_face_detector()(image, 0), key=lambda r: r.area())
    return rect.left(), rect.top(), rect.right() + 1, rect.bottom() + 1


@dataclass
class Head:
    """A head cut from a portrait: image, feathered alpha, and its face box."""

    image: np.ndarray  # float32 RGB
    alpha: np.ndarray  # float32 0..1
    face: tuple[float, float, float, float]


def make_head(identity: Identity) -> Head:
    image = portrait(identity.portrait).astype(np.float32)
    x0, y0, x1, y1 = face_box(image.astype(np.uint8))
    side = x1 - x0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 - 0.1 * side
    half = int(1.1 * side)
    pad = half + 2
    image = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REFLECT)
    cx, cy = cx + pad, cy + pad
    crop = image[int(cy - half) : int(cy + half), int(cx - half) : int(cx + half)].copy()
    fx0, fy0 = x0 + pad - (int(cx - half)), y0 + pad - int(cy - half)
    face = (fx0, fy0, fx0 + side, fy0 + (y1 - y0))
    if identity.mirror:
        crop = crop[:, ::-1].copy()
        w = crop.shape[1]
        face = (w - face[2], face[1], w - face[0], face[3])
    if identity.stretch != 1.0:
        w = crop.shape[1]
        new_w = round(w * identity.stretch)
        crop = cv2.resize(crop, (new_w, crop.shape[0]), interpolation=cv2.INTER_AREA)
        k = new_w / w
        face = (face[0] * k, face[1], face[2] * k, face[3])
    if identity.tint is not None:
        crop = crop * 0.8 + np.array(identity.tint, np.float32) * 0.2
    h, w = crop.shape[:2]
    alpha = np.zeros((h, w), np.float32)
    cv2.ellipse(alpha, (w // 2, h // 2), (int(w * 0.42), int(h * 0.48)), 0, 0, 360, 1.0, -1)
    alpha = cv2.GaussianBlur(alpha, (0, 0), sigmaX=w * 0.04)
    return Head(crop, alpha, face)


def placement(head: Head, side: float, center: tuple[float, float], yaw: float, roll: float):
    """The homography putting ``head``'s face at ``center`` with a face ``side`` wide, turned
    by ``yaw`` (a pseudo-perspective: the far half narrower) and ``roll`` degrees."""
    fx0, fy0, fx1, fy1 = head.face
    fcx, fcy = (fx0 + fx1) / 2, (fy0 + fy1) / 2
    scale = side / (fx1 - fx0)
    to_origin = np.array([[1, 0, -fcx], [0, 1, -fcy], [0, 0, 1]], np.float64)
    scaling = np.diag([scale, scale, 1.0])
    turn = np.array(
        [
            [math.cos(math.radians(yaw)), 0, 0],
            [0, 1, 0],
            [math.sin(math.radians(yaw)) / (3 * side), 0, 1],
        ]
    )
    r = math.radians(roll)
    rolling = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    to_place = np.array([[1, 0, center[0]], [0, 1, center[1]], [0, 0, 1]], np.float64)
    return to_place @ rolling @ turn @ scaling @ to_origin


def paste(frame: np.ndarray, head: Head, matrix: np.ndarray) -> tuple[float, float, float, float]:
    """Composite ``head`` into ``frame`` (float32, in place); the face's box in the frame."""
    h, w = head.image.shape[:2]
    outline = np.array([[[0, 0], [w, 0], [w, h], [0, h]]], np.float64)
    spread = cv2.perspectiveTransform(outline, matrix)[0]
    rx0, ry0 = np.maximum(np.floor(spread.min(axis=0)).astype(int), 0)
    rx1 = min(frame.shape[1], int(np.ceil(spread[:, 0].max())))
    ry1 = min(frame.shape[0], int(np.ceil(spread[:, 1].max())))
    if rx1 > rx0 and ry1 > ry0:
        shift = np.array([[1, 0, -rx0], [0, 1, -ry0], [0, 0, 1]], np.float64) @ matrix
        size = (rx1 - rx0, ry1 - ry0)
        warped = cv2.warpPerspective(head.image, shift, size, flags=cv2.INTER_LINEAR)
        alpha = cv2.warpPerspective(head.alpha, shift, size, flags=cv2.INTER_LINEAR)[..., None]
        roi = frame[ry0:ry1, rx0:rx1]
        roi *= 1 - alpha
        roi += warped * alpha
    x0, y0, x1, y1 = head.face
    corners = np.array([[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]], np.float64)
    moved = cv2.perspectiveTransform(corners, matrix)[0]
    return (*moved.min(axis=0), *moved.max(axis=0))  # type: ignore[return-value]


@dataclass
class CrowdVideo:
    path: Path
    fps: int
    #: For every frame: {person index: true face box (x0, y0, x1, y1)} of the people visible.
    truth: list[dict[int, tuple[float, float, float, float]]]
    #: Frame ranges (start, stop) of the shots: wide, close-up, wide.
    shots: list[tuple[int, int]]


def background() -> np.ndarray:
    """A textured, darkened background (the coffee photo, blurred a little)."""
    image = rgb(samples.no_face())
    image = cv2.resize(image, (SIZE[0] + 80, SIZE[1] + 80), interpolation=cv2.INTER_AREA)
    return cv2.GaussianBlur(image, (0, 0), 1.5).astype(np.float32) * 0.55


def crowd_video(folder: Path, seconds: float = 6.0) -> CrowdVideo:
    """Wide shot (half the time), a close-up (a quarter), the wide shot again (a quarter)."""
    import imageio_ffmpeg

    heads = [make_head(identity) for identity, _, _ in PEOPLE]
    back = background()
    total = round(seconds * FPS)
    wide_end = total // 2
    close_end = wide_end + total // 4
    shots = [(0, wide_end), (wide_end, close_end), (close_end, total)]
    path = folder / f"crowd-{seconds:g}s.mp4"
    truth: list[dict[int, tuple[float, float, float, float]]] = []
    writer = imageio_ffmpeg.write_frames(
        str(path),
        SIZE,
        fps=FPS,
        codec="libx264",
        pix_fmt_out="yuv420p",
        macro_block_size=2,
        output_params=["-crf", "18", "-preset", "veryfast"],
        ffmpeg_log_level="error",
    )
    writer.send(None)
    for n in range(total):
        t = n / FPS
        pan = 30 * t / seconds
        frame = back[40 : 40 + SIZE[1], int(40 - pan) : int(40 - pan) + SIZE[0]].copy()
        boxes: dict[int, tuple[float, float, float, float]] = {}
        if wide_end <= n < close_end:
            k = (n - wide_end) / max(1, close_end - wide_end)
            side = 170 + 30 * k
            yaw = 20 * math.sin(2 * math.pi * k)
            matrix = placement(heads[CLOSE_UP], side, (330 + 20 * k, 185), yaw, 4 * k)
            boxes[CLOSE_UP] = paste(frame, heads[CLOSE_UP], matrix)
        else:
            for i, (_, side, (cx, cy)) in enumerate(PEOPLE):
                yaw = 28 * math.sin(2 * math.pi * t / 2.5) if i in (0, 4) else 0.0
                roll = 14 * math.sin(2 * math.pi * t / 3.0) if i in (1, 5) else 0.0
                matrix = placement(heads[i], side, (cx + pan * 0.5, cy), yaw, roll)
                boxes[i] = paste(frame, heads[i], matrix)
        truth.append(boxes)
        writer.send(np.clip(frame, 0, 255).astype(np.uint8))
    writer.close()
    return CrowdVideo(path, FPS, truth, shots)


def rotated_photo(folder: Path, quarter_turns: int) -> Path:
    """Grace Hopper's portrait turned by ``quarter_turns`` x 90 degrees counter-clockwise."""
    path = folder / f"grace-rot{90 * quarter_turns}.png"
    Image.fromarray(np.ascontiguousarray(np.rot90(portrait("grace"), quarter_turns))).save(path)
    return path


def occluded_photo(folder: Path) -> tuple[Path, np.ndarray]:
    """Grace Hopper's portrait with a dark grey microphone (a rounded bar and a head) in front
    of her chin; the path and the occluder's mask (bool, True on the microphone)."""
    image = portrait("grace").copy()
    x0, y0, x1, _ = face_box(image)
    side = x1 - x0
    mask = np.zeros(image.shape[:2], np.uint8)
    cx = int(x0 + 0.62 * side)
    top = int(y0 + 0.86 * side)
    cv2.ellipse(mask, (cx, top), (int(0.11 * side), int(0.13 * side)), 0, 0, 360, 255, -1)
    cv2.rectangle(
        mask, (cx - int(0.05 * side), top), (cx + int(0.05 * side), image.shape[0]), 255, -1
    )
    shade = np.zeros_like(image)
    shade[:] = (58, 58, 62)
    grid = (np.indices(image.shape[:2]).sum(axis=0) % 6 < 2)[..., None]
    shade = np.where(grid, shade + 25, shade)
    inside = mask.astype(bool)
    image[inside] = shade[inside]
    path = folder / "grace-microphone.png"
    Image.fromarray(image).save(path)
    return path, inside


def looking_down_photo(folder: Path) -> Path:
    """Grace Hopper's head squashed vertically, as a face looking down appears: dlib's HOG
    detector gives it a weak score (about 0.3, below its usual 0.5 cut-off)."""
    head = make_head(Identity("grace"))
    frame = np.full((300, 300, 3), 90, np.float32)
    squash = np.array([[1, 0, 0], [0, 0.75, 150 * 0.25], [0, 0, 1]], np.float64)
    paste(frame, head, squash @ placement(head, 110, (150, 150), 0.0, 0.0))
    path = folder / "grace-looking-down.png"
    Image.fromarray(frame.astype(np.uint8)).save(path)
    return path


def small_face_photo(folder: Path, side: int) -> Path:
    """The astronaut's portrait scaled so that her face is about ``side`` pixels wide."""
    image = portrait("astronaut")
    x0, _, x1, _ = face_box(image)
    scale = side / (x1 - x0)
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    path = folder / f"astronaut-face-{side}px.png"
    Image.fromarray(small).save(path)
    return path
