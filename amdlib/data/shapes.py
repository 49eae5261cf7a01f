"""Object shapes for the synthetic scenes: soft (anti-aliased) alpha masks on a square sprite.

Four families, chosen so that objects are not all ellipses or one smooth blob:
ellipse, smooth random blob, random star-shaped polygon, and a silhouette (the horse that
scikit-image ships). Each family maps to one PASCAL VOC class for the semantic-segmentation set
(`SHAPE_VOC_CLASS`). Alphas are rendered on a 4x supersampled grid and averaged down, so edges
are anti-aliased like a real photograph's.
"""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image

SHAPES = ("ellipse", "blob", "polygon", "horse")
SHAPE_VOC_CLASS = {"ellipse": 5, "blob": 17, "polygon": 1, "horse": 13}
"""Shape family -> VOC class index (bottle, sheep, aeroplane, horse). Arbitrary but fixed: the
synthetic VOC set only needs a few classes whose identity is visible in the image (the shape)."""
SUPERSAMPLE = 4


def sprite_size(radius: float) -> int:
    """Side of the square sprite that holds a shape of this radius (plus a 2-pixel margin)."""
    return int(np.ceil(2 * radius)) + 4


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Supersampled (y, x) coordinates relative to the sprite centre, in sprite pixels."""
    n = size * SUPERSAMPLE
    coords = (np.arange(n) + 0.5) / SUPERSAMPLE - size / 2
    return np.meshgrid(coords, coords, indexing="ij")


def _downsample(inside: np.ndarray, size: int) -> np.ndarray:
    """Average SUPERSAMPLE x SUPERSAMPLE blocks of a boolean mask -> float32 alpha size,size."""
    blocks = inside.reshape(size, SUPERSAMPLE, size, SUPERSAMPLE)
    return blocks.mean(axis=(1, 3), dtype=np.float32)


def ellipse(rng: np.random.Generator, radius: float) -> np.ndarray:
    """Ellipse with semi-axes radius and radius * U[0.45, 1] (orientation comes from the pose)."""
    size = sprite_size(radius)
    y, x = _grid(size)
    minor = radius * rng.uniform(0.45, 1.0)
    return _downsample((y / minor) ** 2 + (x / radius) ** 2 <= 1.0, size)


def blob(rng: np.random.Generator, radius: float) -> np.ndarray:
    """Smooth random blob: polar radius r(phi) = R (1 + sum_k a_k cos(k phi + p_k)), k = 2..5,
    scaled so that its largest radius is `radius`."""
    size = sprite_size(radius)
    y, x = _grid(size)
    rho, phi = np.hypot(y, x), np.arctan2(y, x)
    ks = np.arange(2, 6)
    amps = rng.uniform(0.0, 0.35, size=len(ks)) / ks
    phases = rng.uniform(0, 2 * np.pi, size=len(ks))
    angles = np.linspace(0, 2 * np.pi, 720, endpoint=False)
    profile = 1 + (amps[:, None] * np.cos(ks[:, None] * angles + phases[:, None])).sum(0)
    bound = np.ones_like(phi)
    for k, amp, phase in zip(ks, amps, phases):
        bound += amp * np.cos(k * phi + phase)
    bound = bound * (radius / profile.max())
    return _downsample(rho <= bound, size)


def polygon(rng: np.random.Generator, radius: float) -> np.ndarray:
    """Random star-shaped polygon with 3-9 vertices at radii radius * U[0.45, 1]."""
    from skimage.draw import polygon2mask

    size = sprite_size(radius)
    count = int(rng.integers(3, 10))
    # Angles spread around the circle with jitter, so the polygon is not degenerate.
    base = np.sort(rng.uniform(0, 2 * np.pi / count, size=1)[0] + np.arange(count) * 2 * np.pi / count)
    angles = base + rng.uniform(-0.3, 0.3, size=count) * (2 * np.pi / count)
    radii = radius * rng.uniform(0.45, 1.0, size=count)
    radii[rng.integers(count)] = radius  # the shape reaches its nominal radius
    centre = size * SUPERSAMPLE / 2
    vertices = np.stack([centre + radii * np.sin(angles) * SUPERSAMPLE,
                         centre + radii * np.cos(angles) * SUPERSAMPLE], axis=1)
    n = size * SUPERSAMPLE
    return _downsample(polygon2mask((n, n), vertices), size)


@functools.lru_cache(maxsize=1)
def _horse() -> Image.Image:
    """scikit-image's horse silhouette (object = True), cropped to its bounding box, as an L image."""
    from skimage import data

    inside = ~np.asarray(data.horse(), dtype=bool)  # the file is white background, black horse
    rows, cols = np.nonzero(inside)
    crop = inside[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    return Image.fromarray(crop.astype(np.uint8) * 255)


def horse(rng: np.random.Generator, radius: float) -> np.ndarray:
    """The horse silhouette, longer side 2 * radius, aspect ratio jittered by +-15 %, maybe mirrored."""
    size = sprite_size(radius)
    source = _horse()
    stretch = rng.uniform(0.85, 1.15)
    aspect = source.height / source.width * stretch
    width = 2 * radius if aspect <= 1 else 2 * radius / aspect
    height = width * aspect
    w, h = max(1, round(width)), max(1, round(height))
    alpha = np.asarray(source.resize((w, h), Image.Resampling.BOX), dtype=np.float32) / 255.0
    if rng.random() < 0.5:
        alpha = alpha[:, ::-1]
    sprite = np.zeros((size, size), np.float32)
    top, left = (size - h) // 2, (size - w) // 2
    sprite[top:top + h, left:left + w] = alpha
    return sprite


SHAPE_FUNCTIONS = {"ellipse": ellipse, "blob": blob, "polygon": polygon, "horse": horse}


def make_shape(kind: str, rng: np.random.Generator, radius: float) -> np.ndarray:
    """float32 alpha in [0,1] on a sprite_size(radius) square sprite, shape centred."""
    try:
        function = SHAPE_FUNCTIONS[kind]
    except KeyError:
        raise ValueError(f"unknown shape {kind!r}; choose from {SHAPES}") from None
    return function(rng, radius)
