"""Synthetic datasets written in the REAL layouts (docs/method.md section 8), so one set of loaders reads both.

`generate_all(root, "smoke" | "cpu" | SyntheticConfig)` writes five datasets:

    <root>/youtube_vos/   unlabeled training videos, YouTube-VOS 2019 train_all_frames layout
        train.txt                                   one line per video (format below)
        train_all_frames/JPEGImages/<video>/00000.jpg ...
        train_all_frames/Annotations/<video>/00000.png ...   0/255 foreground (NOT part of the
            real layout; for validation only: read it with DAVISLike(<root>/youtube_vos/train_all_frames))
    <root>/davis2016/     DAVIS-2016 layout, every frame annotated, one primary object
        JPEGImages/480p/<seq>/00000.jpg, Annotations/480p/<seq>/00000.png (8-bit 0/255)
        ImageSets/480p/val.txt   DAVIS-2016 format, one frame per line:
                                 "/JPEGImages/480p/<seq>/00000.jpg /Annotations/480p/<seq>/00000.png"
    <root>/fbms_sparse/   FBMS-59 / SegTrackv2 DAVIS-like layout, sparse annotation
        JPEGImages/<seq>/00000.jpg, Annotations/<seq>/<frame>.png only for `fbms_annotated_frames`
    <root>/duts_te/       DUTS-TE layout: DUTS-TE-Image/<name>.jpg, DUTS-TE-Mask/<name>.png (0/255)
    <root>/voc2012/       VOCdevkit/VOC2012/
        JPEGImages/<id>.jpg, SegmentationClass/<id>.png (VOC palette, 255 = void band at borders),
        ImageSets/Segmentation/{train,val,trainval}.txt

The YouTube-VOS split file: `train_all_frames/JPEGImages/<video> 00000 00001 ...` - the folder
relative to the dataset root, then the frame names WITHOUT extension, in temporal order
(`YouTubeVOSPairs` also accepts names with an extension). "480p" is the DAVIS folder name only;
frames have `image_size`.

Ground truth: foreground = union of the moving objects' visible pixels; static distractors
(which move only with the camera) are background. Objects wear colour photographs, distractors
tinted grayscale textures (`SceneConfig.object_textures` says why). The single-image sets (DUTS,
VOC) have no distractors, since one image cannot tell a static shape from an object.

Determinism: item i of each dataset is drawn from `numpy.random.default_rng([seed, stream, i])`
(stream = a fixed number per dataset), so video 7 does not depend on videos 0-6, and the same
config writes byte-identical files (with the same library versions).

Idempotence: each dataset folder ends with `manifest.json` (the generator version, the config
fields that shape that dataset, file count, bytes and a SHA-256 over all files). A dataset is
written into a hidden `.<name>.partial` sibling, the manifest is written last, and the folder is
then renamed into place, so a folder with a manifest is complete. `generate` skips a folder whose
manifest matches the config and whose files are all there (`verify=True` re-hashes them), and
rewrites it when the config differs. It refuses to overwrite a folder that has no manifest.
One writer per root at a time (two concurrent writers would share the `.partial` folder).

Command line (`amdlib.cli.data`): `amd data --profile cpu [--root DIR] [--seed N]
[--force] [--verify] [--workers N]` (default root: <repo>/data/generated/<profile>, git-ignored).
Measured on 2 shared CPU cores: smoke about 0.5 s (0.2 MB), cpu about 30 s (29 MB in 10,989 files).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TypeVar

import numpy as np
from PIL import Image
from scipy import ndimage

from ..io.atomic import temporary_prefix, write_json
from ..config import named_profile
from .io import DatasetError
from .scene import RenderedVideo, SceneConfig, render_scene, sample_scene
from .voc import voc_palette

GENERATOR = "amdlib.data.synthetic"
GENERATOR_VERSION = 4
"""Bump when the generator changes (version 4: the appearance knobs of `SceneConfig`, on in the
`cpu` preset; off, they render version 3's bytes, as `cpu_v3` does); existing folders regenerate."""
DATASETS = ("youtube_vos", "davis2016", "fbms_sparse", "duts_te", "voc2012")
_PREFIX = {"youtube_vos": "youtube_", "davis2016": "davis_", "fbms_sparse": "fbms_",
           "duts_te": "duts_", "voc2012": "voc_"}
_STREAM = {"youtube_vos": 1, "davis2016": 2, "fbms_sparse": 3, "duts_te": 4, "voc_train": 5, "voc_val": 6}
MANIFEST = "manifest.json"
T = TypeVar("T")
DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "data" / "generated"
"""Where the command line writes by default: <repo>/data/generated/<profile> (git-ignored)."""


@dataclass(frozen=True)
class SyntheticConfig:
    """What to generate: the scene's difficulty knobs, how many items per dataset, and a seed."""

    seed: int = 0
    scene: SceneConfig = field(default_factory=SceneConfig)
    jpeg_quality: int = 90
    """JPEG quality of every frame (masks and labels are lossless PNG)."""
    youtube_videos: int = 300
    youtube_frames: int = 16
    davis_videos: int = 10
    davis_frames: int = 20
    davis_primary_object: bool = True
    """DAVIS-layout videos hold ONE moving object, anywhere in the frame but kept (nearly) whole
    in view, of radius `davis_object_size` (beside the static distractors and the camera
    motion), as DAVIS-2016 annotates a single primary object that the camera keeps in the
    picture. On five real DAVIS-2016 val sequences the object covers 3-21 % of the frame (mean
    10 %) and touches the border in 16 % of frames (docs/method.md section 5); this set with the
    defaults: see results/<profile>/tables/00_datasets. The training videos and the FBMS-layout set keep
    `scene.num_objects` objects placed by `scene.placement` (FBMS-59 has several moving objects
    per video, some leaving the frame)."""
    davis_object_size: tuple[float, float] = (0.2, 0.35)
    """Radius range (fraction of the short side) of the DAVIS-layout primary object."""
    fbms_videos: int = 4
    fbms_frames: int = 41
    fbms_every: int = 10
    """Annotate frame 0 and every `fbms_every`-th frame after it, numbered as FBMS does (1-based
    1, N, 2N, ... -> files 00000, N-1, 2N-1, ...)."""
    duts_images: int = 100
    voc_train: int = 200
    voc_val: int = 100
    voc_void_width: int = 1
    """Pixels within this distance of a boundary between two regions are void (255), as VOC
    marks object outlines."""

    def __post_init__(self) -> None:
        if isinstance(self.scene, dict):
            object.__setattr__(self, "scene", SceneConfig(**self.scene))
        counts = ("youtube_videos", "davis_videos", "fbms_videos", "duts_images", "voc_train", "voc_val")
        for name in counts:
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        object.__setattr__(self, "davis_object_size", tuple(float(v) for v in self.davis_object_size))
        for name in ("youtube_frames", "davis_frames", "fbms_frames", "fbms_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 1 <= self.jpeg_quality <= 100:
            raise ValueError(f"jpeg_quality must be in 1..100, got {self.jpeg_quality}")
        if self.voc_void_width < 0:
            raise ValueError("voc_void_width must be >= 0")

    def replace(self, **changes) -> "SyntheticConfig":
        """A copy with fields changed; SceneConfig fields may be given directly (e.g. placement=)."""
        scene_fields = {f.name for f in dataclasses.fields(SceneConfig)}
        scene_changes = {k: changes.pop(k) for k in list(changes) if k in scene_fields}
        if scene_changes:
            changes["scene"] = dataclasses.replace(changes.get("scene", self.scene), **scene_changes)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, values: dict) -> "SyntheticConfig":
        values = dict(values)
        values["scene"] = SceneConfig(**values.get("scene", {}))
        return cls(**values)

    @classmethod
    def profile(cls, name: str, **changes) -> "SyntheticConfig":
        """The named preset (`smoke`, `cpu`), optionally with fields changed."""
        return named_profile(PRESETS, name, "synthetic preset", **changes)


def smoke() -> SyntheticConfig:
    """Tiny, for tests and CI: 64x64, 4 training videos x 8 frames and small eval sets (~1 s)."""
    return SyntheticConfig(
        scene=SceneConfig(image_size=(64, 64)), youtube_videos=4, youtube_frames=8,
        davis_videos=2, davis_frames=8, fbms_videos=2, fbms_frames=12, fbms_every=5,
        duts_images=6, voc_train=6, voc_val=4,
    )


def cpu() -> SyntheticConfig:
    """The 2-core default: 128x128, 300 training videos x 16 frames (4,800 frames), DAVIS-layout
    val 10 x 20, FBMS-layout 4 x 41 (every 10th annotated), 100 DUTS images, VOC 200 / 100.
    Objects anywhere (also partly outside), 1-3 objects, 0-2 distractors, camera pan and zoom.
    Generator version 4's look: backgrounds from the tinted grayscale pool, every sprite lit
    (shading 0.6) and outlined (0.5), so one frame reveals the objects as in real footage and the
    appearance network trained with labels reaches J 0.78 on 50 validation videos, where
    `cpu_v3`'s look held it to 0.49 (docs/method.md section 5)."""
    return cpu_v3().replace(background_textures="gray", object_shading=0.6, object_outline=0.5)


def cpu_v3() -> SyntheticConfig:
    """The `cpu` preset as generator version 3 drew it (the scene's defaults: backgrounds from
    every texture source, flat unoutlined sprites), kept to compare with earlier results."""
    return SyntheticConfig()


PRESETS = {"smoke": smoke, "cpu": cpu, "cpu_v3": cpu_v3}


@dataclass(frozen=True)
class SyntheticDatasets:
    """Roots of the five generated datasets, ready for the loaders:

    YouTubeVOSPairs(d.youtube_vos, d.youtube_split); DAVISLike(d.youtube_vos_annotated) (masks of
    the training videos); DAVIS2016(d.davis2016); DAVISLike(d.fbms_sparse); DUTSTE(d.duts_te);
    VOC2012(d.voc2012, "train" | "val")."""

    youtube_vos: Path
    davis2016: Path
    fbms_sparse: Path
    duts_te: Path
    voc2012: Path

    @property
    def youtube_split(self) -> Path:
        return self.youtube_vos / "train.txt"

    @property
    def youtube_vos_annotated(self) -> Path:
        return self.youtube_vos / "train_all_frames"


def resolve_config(config: str | SyntheticConfig) -> SyntheticConfig:
    return SyntheticConfig.profile(config) if isinstance(config, str) else config


def item_rng(config: SyntheticConfig, stream: str, index: int) -> np.random.Generator:
    """The Generator for item `index` of a dataset: depends only on (seed, stream, index)."""
    return np.random.default_rng([config.seed, _STREAM[stream], index])


def render_item(config: SyntheticConfig, stream: str, index: int, num_frames: int,
                distractors: bool = True) -> RenderedVideo:
    """Sample and render item `index` of a dataset stream (exactly what the writers store)."""
    scene_config = config.scene if distractors else dataclasses.replace(config.scene, num_distractors=(0, 0))
    if stream == "davis2016" and config.davis_primary_object:
        scene_config = dataclasses.replace(scene_config, num_objects=(1, 1), leave_frame=0.0, placement="inside",
                                           object_size=config.davis_object_size)
    return render_scene(sample_scene(scene_config, item_rng(config, stream, index), num_frames))


def fbms_annotated_frames(num_frames: int, every: int) -> list[int]:
    """0-based indices of annotated frames: 0, every-1, 2*every-1, ... (FBMS's 1, N, 2N, ...)."""
    return sorted({0} | set(range(every - 1, num_frames, every)))


# --------------------------------------------------------------------------- file writers

def _save_jpeg(path: Path, frame: np.ndarray, quality: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(frame).save(path, format="JPEG", quality=quality)


def _save_mask(path: Path, mask: np.ndarray) -> None:
    """bool H,W -> 8-bit grayscale PNG with values 0 / 255."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(mask.astype(np.uint8) * 255, mode="L").save(path, format="PNG")


def voc_label(video: RenderedVideo, layers_voc: list[int], void_width: int, t: int = 0) -> np.ndarray:
    """uint8 H,W VOC label of frame t: the visible object's class, 0 background (distractors
    included), 255 within `void_width` pixels of a boundary between two regions (instances)."""
    owner = video.owner[t].astype(np.int32)
    classes = np.array(layers_voc + [0], np.uint8)  # owner -1 -> last entry = background
    label = classes[owner]
    if void_width > 0:
        size = 2 * void_width + 1
        border = ndimage.maximum_filter(owner, size=size) != ndimage.minimum_filter(owner, size=size)
        label[border] = 255
    return label


def map_items(function: Callable[[int], T], indices: range, workers: int = 1) -> list[T]:
    """[function(i) for i in indices], in `workers` processes when workers > 1.

    Why it may: item i is drawn from its own stream (`item_rng`) and written to files of its own,
    so the files do not depend on how many processes wrote them (tested). On a many-core
    machine this turns minutes of generation into seconds (a GPU sweep waits for its data).
    """
    if workers <= 1 or len(indices) <= 1:
        return [function(index) for index in indices]
    with ProcessPoolExecutor(min(workers, len(indices))) as pool:
        return list(pool.map(function, indices, chunksize=max(1, len(indices) // (4 * workers))))


def _youtube_video(out: Path, config: SyntheticConfig, index: int) -> str:
    """Render and write training video `index`; its split-file line."""
    name = f"synth{index:05d}"
    video = render_item(config, "youtube_vos", index, config.youtube_frames)
    stems = [f"{t:05d}" for t in range(config.youtube_frames)]
    for t, stem in enumerate(stems):
        _save_jpeg(out / "train_all_frames" / "JPEGImages" / name / f"{stem}.jpg", video.frames[t],
                   config.jpeg_quality)
        _save_mask(out / "train_all_frames" / "Annotations" / name / f"{stem}.png", video.masks[t])
    return " ".join([f"train_all_frames/JPEGImages/{name}"] + stems)


def _write_youtube_vos(out: Path, config: SyntheticConfig, workers: int = 1) -> None:
    lines = map_items(functools.partial(_youtube_video, out, config), range(config.youtube_videos), workers)
    (out / "train.txt").write_text("".join(line + "\n" for line in lines))


def davis_video_name(index: int) -> str:
    """The sequence name of DAVIS-layout video `index` (its folder under JPEGImages/480p)."""
    return f"synth-{index:03d}"


def davis_video_index(name: str) -> int:
    """The inverse of `davis_video_name`, to re-render a written video (`render_item`)."""
    prefix, _, number = name.partition("-")
    if prefix != "synth" or not number.isdigit():
        raise ValueError(f"{name!r} is not a synthetic DAVIS-layout video (names are synth-NNN)")
    return int(number)


def _davis_video(out: Path, config: SyntheticConfig, index: int) -> list[str]:
    """Render and write validation video `index`; its split-file lines, one per frame."""
    name = davis_video_name(index)
    video = render_item(config, "davis2016", index, config.davis_frames)
    lines = []
    for t in range(config.davis_frames):
        image = f"JPEGImages/480p/{name}/{t:05d}.jpg"
        mask = f"Annotations/480p/{name}/{t:05d}.png"
        _save_jpeg(out / image, video.frames[t], config.jpeg_quality)
        _save_mask(out / mask, video.masks[t])
        lines.append(f"/{image} /{mask}")
    return lines


def _write_davis2016(out: Path, config: SyntheticConfig, workers: int = 1) -> None:
    videos = map_items(functools.partial(_davis_video, out, config), range(config.davis_videos), workers)
    split = out / "ImageSets" / "480p" / "val.txt"
    split.parent.mkdir(parents=True, exist_ok=True)
    split.write_text("".join(line + "\n" for lines in videos for line in lines))


def _fbms_video(out: Path, config: SyntheticConfig, index: int) -> None:
    annotated = fbms_annotated_frames(config.fbms_frames, config.fbms_every)
    name = f"synth{index:02d}"
    video = render_item(config, "fbms_sparse", index, config.fbms_frames)
    for t in range(config.fbms_frames):
        _save_jpeg(out / "JPEGImages" / name / f"{t:05d}.jpg", video.frames[t], config.jpeg_quality)
    for t in annotated:
        _save_mask(out / "Annotations" / name / f"{t:05d}.png", video.masks[t])


def _write_fbms_sparse(out: Path, config: SyntheticConfig, workers: int = 1) -> None:
    map_items(functools.partial(_fbms_video, out, config), range(config.fbms_videos), workers)


def _write_duts_te(out: Path, config: SyntheticConfig, workers: int = 1) -> None:
    # single images, a few seconds in all: `workers` is accepted and not needed
    for index in range(config.duts_images):
        name = f"synth_{index:05d}"
        video = render_item(config, "duts_te", index, 1, distractors=False)
        _save_jpeg(out / "DUTS-TE-Image" / f"{name}.jpg", video.frames[0], config.jpeg_quality)
        _save_mask(out / "DUTS-TE-Mask" / f"{name}.png", video.masks[0])


def _write_voc2012(out: Path, config: SyntheticConfig, workers: int = 1) -> None:
    # single images, a few seconds in all: `workers` is accepted and not needed
    base = out / "VOCdevkit" / "VOC2012"
    palette = voc_palette()
    splits: dict[str, list[str]] = {"train": [], "val": []}
    for split, count, year in (("train", config.voc_train, 2012), ("val", config.voc_val, 2013)):
        stream = f"voc_{split}"
        for index in range(count):
            name = f"{year}_{index:06d}"
            rng = item_rng(config, stream, index)
            scene = sample_scene(dataclasses.replace(config.scene, num_distractors=(0, 0)), rng, 1)
            video = render_scene(scene)
            label = voc_label(video, [layer.voc_class for layer in scene.layers], config.voc_void_width)
            _save_jpeg(base / "JPEGImages" / f"{name}.jpg", video.frames[0], config.jpeg_quality)
            path = base / "SegmentationClass" / f"{name}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            image = Image.fromarray(label, mode="P")
            image.putpalette(palette)
            image.save(path, format="PNG")
            splits[split].append(name)
    sets = base / "ImageSets" / "Segmentation"
    sets.mkdir(parents=True, exist_ok=True)
    for split, names in (("train", splits["train"]), ("val", splits["val"]),
                         ("trainval", splits["train"] + splits["val"])):
        (sets / f"{split}.txt").write_text("".join(n + "\n" for n in names))


WRITERS = {"youtube_vos": _write_youtube_vos, "davis2016": _write_davis2016,
           "fbms_sparse": _write_fbms_sparse, "duts_te": _write_duts_te, "voc2012": _write_voc2012}


# --------------------------------------------------------------------------- manifest

def dataset_config(kind: str, config: SyntheticConfig) -> dict:
    """The config fields that shape dataset `kind` (others' counts left out, so that changing,
    e.g., the number of VOC images does not regenerate the training videos)."""
    if kind not in _PREFIX:
        raise ValueError(f"unknown dataset {kind!r}; choose from {DATASETS}")
    others = [p for k, p in _PREFIX.items() if k != kind]
    return {k: v for k, v in config.to_dict().items() if not any(k.startswith(p) for p in others)}


def _files(folder: Path) -> list[Path]:
    """Every file of a dataset folder except its manifest, in a fixed (path) order."""
    def is_manifest(p: Path) -> bool:  # the manifest, or a temporary file on its way to it
        return p.parent == folder and (p.name == MANIFEST or p.name.startswith(temporary_prefix(MANIFEST)))

    files = (p for p in folder.rglob("*") if p.is_file() and not is_manifest(p))
    return sorted(files, key=lambda p: p.relative_to(folder).as_posix())


def _summary(folder: Path, with_hash: bool) -> dict:
    files = _files(folder)
    summary = {"num_files": len(files), "num_bytes": sum(p.stat().st_size for p in files)}
    if with_hash:
        digest = hashlib.sha256()
        for path in files:
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        summary["sha256"] = digest.hexdigest()
    return summary


def read_manifest(folder: Path) -> dict | None:
    """The folder's manifest, or None when it has none or it is unreadable."""
    try:
        manifest = json.loads((Path(folder) / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def is_complete(folder: Path, kind: str, config: str | SyntheticConfig, *, verify: bool = False) -> bool:
    """True when `folder` holds dataset `kind` written by this generator version with `config`,
    all files present with the recorded count and size (and hash, with `verify`)."""
    manifest = read_manifest(folder)
    if manifest is None:
        return False
    expected = {"generator": GENERATOR, "version": GENERATOR_VERSION, "kind": kind,
                "config": dataset_config(kind, resolve_config(config))}
    if any(manifest.get(k) != v for k, v in expected.items()):
        return False
    actual = _summary(Path(folder), with_hash=verify)
    return all(manifest.get(k) == v for k, v in actual.items())


def generate(kind: str, root: str | Path, config: str | SyntheticConfig = "smoke", *,
             force: bool = False, verify: bool = False, workers: int = 1) -> Path:
    """Write dataset `kind` to <root>/<kind> unless it is already there, complete, with this config.

    Returns the dataset folder. `force` rewrites it anyway; `verify` re-hashes an existing folder
    before trusting it; `workers` processes render the videos (the same files for any number). A
    folder at that path without a manifest raises `DatasetError` (it is not ours to delete).
    """
    config = resolve_config(config)
    if kind not in WRITERS:
        raise ValueError(f"unknown dataset {kind!r}; choose from {DATASETS}")
    root = Path(root)
    target = root / kind
    if not force and is_complete(target, kind, config, verify=verify):
        return target
    if target.exists() and not (target / MANIFEST).is_file() and any(target.iterdir()):
        raise DatasetError(f"{target}: exists and has no {MANIFEST}; not written by {GENERATOR}, "
                           "refusing to overwrite it")
    partial = root / f".{kind}.partial"
    if partial.exists():
        shutil.rmtree(partial)  # left by an interrupted run
    partial.mkdir(parents=True)
    WRITERS[kind](partial, config, workers)
    manifest = {"generator": GENERATOR, "version": GENERATOR_VERSION, "kind": kind,
                "config": dataset_config(kind, config), **_summary(partial, with_hash=True)}
    write_json(partial / MANIFEST, manifest)
    if target.exists():
        shutil.rmtree(target)
    os.replace(partial, target)
    return target


def generate_all(root: str | Path, config: str | SyntheticConfig = "smoke", *,
                 datasets: tuple[str, ...] = DATASETS, force: bool = False,
                 verify: bool = False, workers: int = 1) -> SyntheticDatasets:
    """Write (or reuse) all five datasets under `root`; see the module docstring for the layout."""
    root = Path(root)
    config = resolve_config(config)
    for kind in datasets:
        generate(kind, root, config, force=force, verify=verify, workers=workers)
    return SyntheticDatasets(*(root / kind for kind in DATASETS))


def generate_more_davis(root: str | Path, config: str | SyntheticConfig, videos: int, *,
                        workers: int = 1) -> Path:
    """`config`'s DAVIS-layout set with `videos` videos instead of `config.davis_videos`, written
    (or reused) at <root>-val<videos>/davis2016 beside the preset's own folder <root>.

    Why: each video is drawn from its own stream (seed, dataset, index), so the first
    `config.davis_videos` videos of the larger set ARE the preset's set and the rest are new draws
    of the same generator: a validation set large enough to average out which videos were drawn
    (ten videos are not: docs/method.md section 5).
    """
    config = resolve_config(config)
    if videos < config.davis_videos:
        raise ValueError(f"{videos} videos is fewer than the preset's own {config.davis_videos}")
    root = Path(root)
    return generate("davis2016", root.with_name(f"{root.name}-val{videos}"), config.replace(davis_videos=videos),
                    workers=workers)
