"""A synthetic video as a small 2-D scene: a textured world, a moving camera, textured layers.

Coordinates are (y, x) = (row, column) in pixels everywhere. The WORLD is a plane measured in
frame pixels at zoom 1; the camera at frame t looks at world point `camera[t]` with zoom
`zoom[t]` (> 1 = zoomed in), so frame pixel p shows world point

    w = (p - c) / zoom[t] + camera[t],   c = ((H - 1) / 2, (W - 1) / 2).

A layer (object or distractor) is a square sprite (texture + soft alpha) placed in the world at
`position[t]` with rotation `angle[t]` and scale `scale[t]`: sprite pixel q shows at world point
position + scale * R(angle) (q - centre). Layers are drawn back to front over the background.

- Objects (`foreground=True`) move on their own: translation along a curving path, rotation,
  scale change. Their union is the ground-truth foreground.
- Distractors (`foreground=False`) are textured shapes of the same families that stay fixed in
  the world, so they move only with the camera, exactly like the background. They are drawn
  below all objects and are NOT foreground in the ground truth.

`sample_scene` draws a scene from a `SceneConfig` and a numpy Generator; `render_scene` turns it
into uint8 frames and masks. Both are deterministic: the same scene renders to the same bytes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .shapes import SHAPE_VOC_CLASS, SHAPES, make_shape, sprite_size
from .textures import TEXTURE_POOLS, cut_texture

PLACEMENTS = ("center", "anywhere", "inside")


@dataclass(frozen=True)
class SceneConfig:
    """Difficulty knobs of one synthetic video (distances are fractions of min(H, W))."""

    image_size: tuple[int, int] = (128, 128)
    """(height, width) of the frames; rectangular (also portrait) sizes are allowed."""
    num_objects: tuple[int, int] = (1, 3)
    """Inclusive range of independently moving objects (the foreground)."""
    num_distractors: tuple[int, int] = (0, 2)
    """Inclusive range of static textured shapes that move only with the camera (background)."""
    object_size: tuple[float, float] = (0.15, 0.3)
    """Range of object radius / min(H, W): 15-30 %."""
    shapes: tuple[str, ...] = SHAPES
    """Shape families to draw from (see `amdlib.data.shapes`)."""
    placement: str = "anywhere"
    """'center': object centres in the middle 40 % of the frame at t = 0 (where a centred disk is
    a strong baseline); 'anywhere': centres anywhere in the frame
    extended by half a radius, so objects may start partly outside, and objects that stay in
    view turn back when their centre reaches the border; 'inside': anywhere with the whole
    object in view at t = 0, turning back one radius before the border, so it stays (nearly)
    whole in the picture (a primary object that the camera operator keeps in view)."""
    object_speed: float = 0.04
    """Largest object translation per frame; each object gets U[0.3, 1] of it (all objects move)."""
    object_turn: float = 0.15
    """Largest change of an object's heading per frame (radians): paths curve."""
    object_rotation: float = 3.0
    """Largest object rotation per frame, degrees (silhouettes rotate at a third of it)."""
    object_scale_change: float = 0.01
    """Largest relative change of an object's size per frame (exp(+-rate * t))."""
    leave_frame: float = 0.25
    """Probability that an object's path ignores the frame, so it may drift out of view. Every
    other object turns back (its motion mirrored on that axis) when its centre reaches the frame
    border, so it is at most about half outside: videos are filmed to keep their subjects in
    view, and DAVIS-2016 annotates one object that stays in the picture."""
    camera_pan: float = 0.02
    """Largest camera translation per frame (pan), plus a small hand-held shake."""
    camera_zoom: float = 0.01
    """Largest relative zoom change per frame (exp(+-rate * t))."""
    brightness_change: float = 0.1
    """Amplitude of a smooth global gain over time: gain(t) = 1 + b sin(phase + 2 pi t / period)."""
    object_textures: str = "color"
    """Texture pool of the moving objects: "any", "color" (the colour photographs) or "gray"
    (tinted grayscale textures: brick, grass, gravel, ...); see `amdlib.data.textures`.

    Why objects and distractors draw from different pools: the appearance pathway sees ONE
    frame, so it can learn which things move only if they look different from things that stay
    put, as in real video, where the movers are a few kinds of thing (people, animals,
    vehicles) and the static clutter is others. When both draw from every source, a perfect
    segmenter of every shape, objects and distractors alike, is as good as any one-frame model
    can be, and it scores J 0.60 through 16x16 masks where a perfect object segmenter scores
    0.89 (docs/method.md section 5). With colour objects and gray distractors the distractors still
    look like objects, but learnably not the moving kind; the model is never told which pool
    moves and has to find it out from motion."""
    distractor_textures: str = "gray"
    """Texture pool of the static distractors (same choices as `object_textures`)."""
    background_textures: str = "any"
    """Texture pool of the background canvas (same choices as `object_textures`). With "gray"
    the background and the moving objects come from different families, as in real footage
    where the subject is a different kind of thing from the ground, walls and foliage behind
    it: one frame then shows where an object is (docs/method.md section 5)."""
    texture_contrast: float = 1.0
    """Scales every texture's deviation from its mean colour (1 = photographs as they are)."""
    object_shading: float = 0.0
    """Strength of the scene's light (`LIGHT`, from above left) baked into every sprite (objects
    and distractors): the texture is multiplied by 1 + s * (u . light) - s/2 * |u|^2 at
    normalised sprite point u, so a sprite reads as one solid, lit thing rather than a cut-out."""
    object_outline: float = 0.0
    """Darkening of a rim about 6 % of the radius wide inside every sprite's silhouette (0 = none,
    1 = black): a coherent occluding contour around each thing."""
    noise_std: float = 0.01
    """Std of additive Gaussian pixel noise (image values in [0, 1])."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "image_size", tuple(int(s) for s in self.image_size))
        object.__setattr__(self, "num_objects", tuple(int(s) for s in self.num_objects))
        object.__setattr__(self, "num_distractors", tuple(int(s) for s in self.num_distractors))
        object.__setattr__(self, "object_size", tuple(float(s) for s in self.object_size))
        object.__setattr__(self, "shapes", tuple(self.shapes))
        if len(self.image_size) != 2 or min(self.image_size) < 8:
            raise ValueError(f"image_size must be (height, width) >= 8, got {self.image_size}")
        for name in ("num_objects", "num_distractors", "object_size"):
            low, high = getattr(self, name)
            if low < 0 or high < low:
                raise ValueError(f"{name} must be an increasing (low, high) range, got {(low, high)}")
        if self.num_objects[1] < 1:
            raise ValueError("num_objects must allow at least one object")
        if self.object_size[0] <= 0:
            raise ValueError("object_size must be positive")
        unknown = sorted(set(self.shapes) - set(SHAPES))
        if unknown or not self.shapes:
            raise ValueError(f"shapes must be a non-empty subset of {SHAPES}, got {self.shapes}")
        if self.placement not in PLACEMENTS:
            raise ValueError(f"placement must be one of {PLACEMENTS}, got {self.placement!r}")
        for name in ("object_textures", "distractor_textures", "background_textures"):
            if getattr(self, name) not in TEXTURE_POOLS:
                raise ValueError(f"{name} must be one of {TEXTURE_POOLS}, got {getattr(self, name)!r}")
        if not 0 <= self.leave_frame <= 1:
            raise ValueError(f"leave_frame must be a probability in [0, 1], got {self.leave_frame}")
        for name in ("object_speed", "object_turn", "object_rotation", "object_scale_change",
                     "camera_pan", "camera_zoom", "brightness_change", "texture_contrast",
                     "object_shading", "noise_std"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not 0 <= self.object_outline <= 1:
            raise ValueError(f"object_outline must be in [0, 1], got {self.object_outline}")


@dataclass
class Layer:
    """One textured sprite in the world, with its pose at every frame."""

    texture: np.ndarray
    """float32 S,S,3 in [0,1]."""
    alpha: np.ndarray
    """float32 S,S in [0,1] (anti-aliased shape)."""
    position: np.ndarray
    """float64 T,2 world (y, x) of the sprite centre."""
    angle: np.ndarray
    """float64 T rotation in radians."""
    scale: np.ndarray
    """float64 T size factor."""
    foreground: bool
    """True for a moving object (ground truth), False for a static distractor."""
    kind: str
    """Shape family; `voc_class` follows from it."""

    @property
    def voc_class(self) -> int:
        return SHAPE_VOC_CLASS[self.kind]


@dataclass
class Scene:
    """Everything needed to render a video; `render_scene` is a pure function of it."""

    image_size: tuple[int, int]
    background: np.ndarray
    """float32 Hw,Ww,3 world canvas."""
    origin: np.ndarray
    """World (y, x) of background pixel (0, 0)."""
    camera: np.ndarray
    """float64 T,2 world point at the frame centre."""
    zoom: np.ndarray
    """float64 T."""
    layers: list[Layer]
    """Back to front: distractors first, then objects in depth order (last = nearest)."""
    gain: np.ndarray
    """float64 T global brightness factor."""
    noise_std: float
    noise_seed: int

    @property
    def num_frames(self) -> int:
        return len(self.camera)

    def replace(self, **changes) -> "Scene":
        return dataclasses.replace(self, **changes)


@dataclass
class RenderedVideo:
    frames: np.ndarray
    """uint8 T,H,W,3."""
    masks: np.ndarray
    """bool T,H,W: union of the objects' visible pixels (the ground truth)."""
    owner: np.ndarray
    """int16 T,H,W: index into scene.layers of the top-most layer covering the pixel (alpha > 0.5),
    -1 = background. Objects' visible masks and VOC labels derive from it."""

    @property
    def distractors(self) -> np.ndarray:
        """bool T,H,W: the visible pixels of static distractors (a layer covers them, and it is
        not a moving object); background in the ground truth."""
        return (self.owner >= 0) & ~self.masks


def _rotation(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s], [s, c]])


def object_path(start: np.ndarray, steps: np.ndarray, camera: np.ndarray, zoom: np.ndarray,
                image_size: tuple[int, int], stays_in_view: bool, margin: float = 0.0) -> np.ndarray:
    """World positions T,2 of an object that starts at world point `start` and moves by the T-1,2
    `steps`. With `stays_in_view`, a step that would carry the object's centre further outside
    [margin, H-1-margin] x [margin, W-1-margin] in frame coordinates (camera and zoom applied) is
    mirrored on that axis, and so are all later steps (the object turns back into the picture)."""
    position = np.empty((len(steps) + 1, 2))
    position[0] = start
    if not stays_in_view:
        position[1:] = start + np.cumsum(steps, 0)
        return position
    centre = (np.asarray(image_size, np.float64) - 1) / 2
    lower = np.minimum(margin, centre)
    upper = np.asarray(image_size, np.float64) - 1 - lower
    mirror = np.ones(2)
    for t, step in enumerate(steps, start=1):
        step = mirror * step
        here = (position[t - 1] - camera[t - 1]) * zoom[t - 1] + centre  # where it is seen now
        moving = (step - (camera[t] - camera[t - 1])) * zoom[t]  # its motion relative to the view
        outward = ((here < lower) & (moving < 0)) | ((here > upper) & (moving > 0))
        mirror[outward] *= -1
        step[outward] *= -1
        position[t] = position[t - 1] + step
    return position


LIGHT = (-0.8, -0.6)
"""(y, x) unit direction towards the light that shades every sprite: from above left, one light
for the whole scene (so shading draws no random numbers and leaves the geometry's draws alone)."""


def shade(texture: np.ndarray, strength: float, light: tuple[float, float] = LIGHT) -> np.ndarray:
    """float32 S,S,3 texture lit from the (y, x) direction `light`: multiplied by
    1 + strength * (u . light) - strength / 2 * |u|^2, u the sprite point over the half side."""
    size = texture.shape[0]
    u = (np.arange(size) - (size - 1) / 2) / max(size / 2, 1.0)
    uy, ux = np.meshgrid(u, u, indexing="ij")
    factor = 1 + strength * (uy * light[0] + ux * light[1]) - strength / 2 * (uy**2 + ux**2)
    return np.clip(texture * factor[..., None], 0, 1).astype(np.float32)


def outline(texture: np.ndarray, alpha: np.ndarray, darkness: float, radius: float) -> np.ndarray:
    """float32 S,S,3 texture darkened by `darkness` on the rim of the S,S `alpha` silhouette
    (the pixels within max(1, 0.06 radius) of its edge)."""
    width = max(1.0, 0.06 * radius)
    inside = alpha > 0.5
    depth = ndimage.distance_transform_edt(inside)
    rim = np.clip(1 - (depth - 0.5) / width, 0, 1) * inside
    return (texture * (1 - darkness * rim)[..., None]).astype(np.float32)


def sample_scene(config: SceneConfig, rng: np.random.Generator, num_frames: int) -> Scene:
    """Draw one video's scene (camera path, background, distractors, objects, brightness)."""
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    height, width = config.image_size
    unit = float(min(height, width))
    t = np.arange(num_frames, dtype=np.float64)
    centre = np.array([(height - 1) / 2, (width - 1) / 2])

    # Camera: constant pan velocity plus a small smooth shake; exponential zoom.
    direction = rng.uniform(0, 2 * np.pi)
    pan = config.camera_pan * unit * rng.uniform(0, 1)
    velocity = pan * np.array([np.sin(direction), np.cos(direction)])
    shake_amp = 0.25 * config.camera_pan * unit * rng.uniform(0, 1, size=2)
    shake_freq = rng.uniform(0.2, 0.6, size=2)
    shake_phase = rng.uniform(0, 2 * np.pi, size=2)
    shake = shake_amp * (np.sin(shake_freq * t[:, None] + shake_phase) - np.sin(shake_phase))
    camera = t[:, None] * velocity + shake
    zoom = np.exp(rng.uniform(-1, 1) * config.camera_zoom * t)

    # Background canvas covering every frame's view of the world (plus a margin).
    half = np.array([height, width]) / 2
    low = (camera - half / zoom[:, None]).min(0) - 4
    high = (camera + half / zoom[:, None]).max(0) + 4
    canvas = np.ceil(high - low).astype(int)
    background, bg_source = cut_texture(rng, int(canvas[0]), int(canvas[1]),
                                        contrast=config.texture_contrast,
                                        pool=config.background_textures)

    def make_layer(foreground: bool, start: np.ndarray, radius: float) -> Layer:
        kind = config.shapes[int(rng.integers(len(config.shapes)))]
        alpha = make_shape(kind, rng, radius)
        size = sprite_size(radius)
        pool = config.object_textures if foreground else config.distractor_textures
        texture, _ = cut_texture(rng, size, size, contrast=config.texture_contrast, exclude=bg_source, pool=pool)
        if config.object_shading > 0:
            texture = shade(texture, config.object_shading)
        if config.object_outline > 0:
            texture = outline(texture, alpha, config.object_outline, radius)
        upright = kind == "horse"
        angle0 = rng.uniform(-0.25, 0.25) if upright else rng.uniform(0, 2 * np.pi)
        if not foreground:
            position = np.repeat((start - centre)[None], num_frames, 0)  # fixed in the world
            return Layer(texture, alpha, position, np.full(num_frames, angle0), np.ones(num_frames),
                         False, kind)
        speed = config.object_speed * unit * rng.uniform(0.3, 1.0)
        heading = rng.uniform(0, 2 * np.pi) + rng.uniform(-1, 1) * config.object_turn * t
        steps = speed * np.stack([np.sin(heading), np.cos(heading)], 1)
        stays_in_view = rng.uniform() >= config.leave_frame
        margin = radius if config.placement == "inside" else 0.0
        position = object_path(start - centre, steps[:-1], camera, zoom, (height, width), stays_in_view, margin)
        spin = np.deg2rad(config.object_rotation) * rng.uniform(-1, 1) * (1 / 3 if upright else 1)
        growth = config.object_scale_change * rng.uniform(-1, 1)
        return Layer(texture, alpha, position, angle0 + spin * t, np.exp(growth * t), True, kind)

    def draw_radius() -> float:
        return float(rng.uniform(*config.object_size) * unit)

    layers: list[Layer] = []
    for _ in range(int(rng.integers(config.num_distractors[0], config.num_distractors[1] + 1))):
        radius = draw_radius()
        start = rng.uniform([0, 0], [height - 1, width - 1])  # somewhere in the first frame
        layers.append(make_layer(False, start, radius))
    num_objects = int(rng.integers(max(1, config.num_objects[0]), config.num_objects[1] + 1))
    for _ in range(num_objects):
        radius = draw_radius()
        if config.placement == "center":
            start = centre + rng.uniform(-0.2, 0.2, size=2) * np.array([height, width])
        elif config.placement == "inside":
            inset = np.minimum(radius, centre)
            start = rng.uniform(inset, np.array([height - 1, width - 1]) - inset)
        else:
            start = rng.uniform([-radius / 2, -radius / 2], [height - 1 + radius / 2, width - 1 + radius / 2])
        layers.append(make_layer(True, start, radius))  # later objects lie in front

    period = rng.uniform(1.0, 3.0) * max(num_frames, 8)
    gain = 1 + config.brightness_change * np.sin(rng.uniform(0, 2 * np.pi) + 2 * np.pi * t / period)
    return Scene((height, width), background, low, camera, zoom, layers, gain,
                 config.noise_std, int(rng.integers(2**31)))


def _sample(image: np.ndarray, coords: np.ndarray, cval: float, mode: str) -> np.ndarray:
    """Bilinear sampling of an H,W(,C) array at float (y, x) coords 2,h,w."""
    if image.ndim == 2:
        return ndimage.map_coordinates(image, coords, order=1, mode=mode, cval=cval)
    return np.stack([ndimage.map_coordinates(image[..., c], coords, order=1, mode=mode, cval=cval)
                     for c in range(image.shape[2])], axis=-1)


def render_frame(scene: Scene, t: int) -> tuple[np.ndarray, np.ndarray]:
    """Frame t -> (float32 H,W,3 image before gain/noise, int16 H,W owner map)."""
    height, width = scene.image_size
    centre = np.array([(height - 1) / 2, (width - 1) / 2])
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    world = np.stack([(ys - centre[0]) / scene.zoom[t] + scene.camera[t, 0],
                      (xs - centre[1]) / scene.zoom[t] + scene.camera[t, 1]])
    image = _sample(scene.background, world - scene.origin[:, None, None], 0.0, "reflect")
    owner = np.full((height, width), -1, np.int16)

    for index, layer in enumerate(scene.layers):
        size = layer.alpha.shape[0]
        half = (size - 1) / 2
        scale, angle = layer.scale[t], layer.angle[t]
        # Bounding box of the sprite in the frame: only those pixels are sampled.
        reach = (size / 2 + 1) * np.sqrt(2) * scale * scene.zoom[t]
        at = (layer.position[t] - scene.camera[t]) * scene.zoom[t] + centre
        y0, y1 = int(max(0, np.floor(at[0] - reach))), int(min(height, np.ceil(at[0] + reach) + 1))
        x0, x1 = int(max(0, np.floor(at[1] - reach))), int(min(width, np.ceil(at[1] + reach) + 1))
        if y0 >= y1 or x0 >= x1:
            continue  # entirely outside the frame
        offset = world[:, y0:y1, x0:x1] - layer.position[t][:, None, None]
        inverse = _rotation(-angle) / scale
        local = np.einsum("ij,jhw->ihw", inverse, offset) + half
        alpha = _sample(layer.alpha, local, 0.0, "constant")
        if not alpha.any():
            continue
        texture = _sample(layer.texture, local, 0.0, "nearest")
        region = image[y0:y1, x0:x1]
        image[y0:y1, x0:x1] = region * (1 - alpha[..., None]) + texture * alpha[..., None]
        owner[y0:y1, x0:x1][alpha > 0.5] = index
    return image, owner


def render_scene(scene: Scene) -> RenderedVideo:
    """All frames: layers composited, brightness gain and noise applied, quantised to uint8."""
    noise_rng = np.random.default_rng(scene.noise_seed)
    height, width = scene.image_size
    frames = np.empty((scene.num_frames, height, width, 3), np.uint8)
    owners = np.empty((scene.num_frames, height, width), np.int16)
    foreground = np.array([layer.foreground for layer in scene.layers] + [False])  # [-1] = bg
    for t in range(scene.num_frames):
        image, owner = render_frame(scene, t)
        image = image * scene.gain[t]
        if scene.noise_std > 0:
            image = image + noise_rng.normal(0, scene.noise_std, size=image.shape)
        frames[t] = np.clip(np.rint(image * 255), 0, 255).astype(np.uint8)
        owners[t] = owner
    return RenderedVideo(frames, foreground[owners], owners)
