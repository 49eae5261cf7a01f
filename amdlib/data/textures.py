"""Photographic textures for the synthetic videos, cut from scikit-image's sample images.

Only images that ship inside the scikit-image wheel are used (they load offline; the ones that
need a download, e.g. `skimage.data.eagle`, are left out). Backgrounds and object textures are
crops of these photographs resized with antialiasing.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from PIL import Image

COLOR_SOURCES = (
    "astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "hubble_deep_field",
    "retina", "stereo_motorcycle",
)
"""Colour photographs bundled with scikit-image (checked offline with scikit-image 0.26)."""
GRAY_SOURCES = ("brick", "grass", "gravel", "camera", "moon", "clock", "coins", "page", "cell")
"""Grayscale photographs and textures; tinted with a random colour when cut."""
TEXTURE_POOLS = ("any", "color", "gray")
"""Which sources a texture may be cut from: every source, the colour photographs only, or the
tinted grayscale ones only (`SceneConfig.object_textures`, `distractor_textures`)."""
MAX_SIDE = 512
"""Sources are downscaled once so that their longer side is at most this (speed; ample detail)."""


@dataclass(frozen=True)
class TextureSource:
    name: str
    image: Image.Image
    """RGB (colour sources) or L (grayscale sources), at most MAX_SIDE on the longer side."""

    @property
    def gray(self) -> bool:
        return self.image.mode == "L"


def _load(name: str) -> np.ndarray:
    from skimage import data  # imported here: scikit-image is only needed to generate data

    image = getattr(data, name)()
    if name == "stereo_motorcycle":
        image = image[0]  # (left, right, disparity): the left view
    return np.asarray(image)


@functools.lru_cache(maxsize=1)
def texture_bank() -> tuple[TextureSource, ...]:
    """All texture sources, loaded once per process (colour first, then grayscale)."""
    bank = []
    for name in COLOR_SOURCES + GRAY_SOURCES:
        array = _load(name)
        if array.dtype != np.uint8:
            raise RuntimeError(f"skimage.data.{name} is {array.dtype}, expected uint8")
        image = Image.fromarray(array[..., :3] if array.ndim == 3 else array)
        scale = MAX_SIDE / max(image.size)
        if scale < 1:
            size = (round(image.width * scale), round(image.height * scale))
            image = image.resize(size, Image.Resampling.BILINEAR, reducing_gap=None)
        bank.append(TextureSource(name, image))
    return tuple(bank)


def pool_indices(pool: str) -> list[int]:
    """Indices into `texture_bank()` of the sources in `pool` (one of TEXTURE_POOLS)."""
    if pool not in TEXTURE_POOLS:
        raise ValueError(f"texture pool must be one of {TEXTURE_POOLS}, got {pool!r}")
    colour = list(range(len(COLOR_SOURCES)))
    gray = list(range(len(COLOR_SOURCES), len(COLOR_SOURCES) + len(GRAY_SOURCES)))
    return {"any": colour + gray, "color": colour, "gray": gray}[pool]


def cut_texture(rng: np.random.Generator, height: int, width: int, *, contrast: float = 1.0,
                exclude: int | None = None, pool: str = "any") -> tuple[np.ndarray, int]:
    """A random crop of a random source resized to height x width -> (float32 H,W,3 in [0,1], source).

    The crop covers 0.5x to 2x the output size in source pixels (zoomed in or out), may be
    mirrored; grayscale sources get a random colour tint. `contrast` scales the texture's
    deviation from its mean colour (1 = as photographed, 0 = flat colour). `exclude` is a source
    index not to draw (objects avoid the background's photograph); `pool` limits the draw to the
    colour or to the grayscale sources.
    """
    bank = texture_bank()
    choices = [i for i in pool_indices(pool) if i != exclude]
    index = int(choices[rng.integers(len(choices))])
    source = bank[index].image
    zoom = float(np.exp(rng.uniform(np.log(0.5), np.log(2.0))))
    crop_w = min(source.width, max(4.0, width * zoom))
    crop_h = min(source.height, max(4.0, height * zoom))
    # Keep the aspect ratio of the output when the source is too small in one direction.
    ratio = min(crop_w / width, crop_h / height)
    crop_w, crop_h = width * ratio, height * ratio
    left = rng.uniform(0, max(0.0, source.width - crop_w))
    top = rng.uniform(0, max(0.0, source.height - crop_h))
    patch = source.resize((width, height), Image.Resampling.BILINEAR,
                          box=(left, top, left + crop_w, top + crop_h), reducing_gap=None)
    array = np.asarray(patch, dtype=np.float32) / 255.0
    if array.ndim == 2:
        tint = rng.uniform(0.55, 1.15, size=3).astype(np.float32)
        array = array[:, :, None] * tint
    if rng.random() < 0.5:
        array = array[:, ::-1]
    mean = array.reshape(-1, 3).mean(axis=0)
    array = mean + np.float32(contrast) * (array - mean)
    return np.ascontiguousarray(np.clip(array, 0.0, 1.0), dtype=np.float32), index
