"""The synthetic generator: real layouts, determinism, ground truth, motion, idempotent writing."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from amdlib.data import (DAVIS2016, DUTSTE, VOC2012, DAVISLike, DatasetError, SceneConfig,
                         SyntheticConfig, YouTubeVOSPairs, generate, generate_all, voc_colormap)
from amdlib.data.scene import render_scene, sample_scene
from amdlib.data.scene import RenderedVideo
from amdlib.data.synthetic import (DATASETS, davis_video_index, davis_video_name, fbms_annotated_frames,
                                  is_complete, read_manifest, render_item, voc_label)
from amdlib.data.voc import VOC_NUM_CLASSES


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    return generate_all(tmp_path_factory.mktemp("smoke"), "smoke")


def _digests(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _scene(rng_seed: int = 0, num_frames: int = 8, **changes):
    config = SceneConfig(image_size=(64, 64), **changes)
    return sample_scene(config, np.random.default_rng(rng_seed), num_frames)


def _centroid(mask: np.ndarray) -> np.ndarray:
    return np.argwhere(mask).mean(axis=0)


# --------------------------------------------------------------------------- layout

def test_layout_is_the_real_datasets(smoke):
    cfg = SyntheticConfig.profile("smoke")
    yt = smoke.youtube_vos
    lines = (yt / "train.txt").read_text().splitlines()
    assert len(lines) == cfg.youtube_videos
    assert lines[0] == "train_all_frames/JPEGImages/synth00000 " + " ".join(f"{t:05d}" for t in range(8))
    for t in range(cfg.youtube_frames):
        assert (yt / f"train_all_frames/JPEGImages/synth00003/{t:05d}.jpg").is_file()
        assert (yt / f"train_all_frames/Annotations/synth00003/{t:05d}.png").is_file()

    davis = smoke.davis2016
    val = (davis / "ImageSets/480p/val.txt").read_text().splitlines()
    assert len(val) == cfg.davis_videos * cfg.davis_frames
    assert val[0] == "/JPEGImages/480p/synth-000/00000.jpg /Annotations/480p/synth-000/00000.png"
    assert all(re.fullmatch(r"/JPEGImages/480p/(\S+)/(\d{5})\.jpg /Annotations/480p/\1/\2\.png", v) for v in val)
    assert sorted(p.name for p in (davis / "JPEGImages/480p").iterdir()) == ["synth-000", "synth-001"]

    fbms = smoke.fbms_sparse
    assert len(list((fbms / "JPEGImages/synth01").glob("*.jpg"))) == cfg.fbms_frames
    annotated = sorted(p.name for p in (fbms / "Annotations/synth01").iterdir())
    assert annotated == ["00000.png", "00004.png", "00009.png"]

    duts = smoke.duts_te
    assert sorted(p.name for p in (duts / "DUTS-TE-Image").iterdir())[0] == "synth_00000.jpg"
    assert len(list((duts / "DUTS-TE-Mask").glob("*.png"))) == cfg.duts_images

    voc = smoke.voc2012 / "VOCdevkit/VOC2012"
    train = (voc / "ImageSets/Segmentation/train.txt").read_text().split()
    val_ids = (voc / "ImageSets/Segmentation/val.txt").read_text().split()
    assert len(train) == cfg.voc_train and len(val_ids) == cfg.voc_val and not set(train) & set(val_ids)
    assert (voc / "ImageSets/Segmentation/trainval.txt").read_text().split() == train + val_ids
    for name in train + val_ids:
        assert (voc / "JPEGImages" / f"{name}.jpg").is_file()
        assert (voc / "SegmentationClass" / f"{name}.png").is_file()


def test_file_formats(smoke):
    frame = Image.open(smoke.youtube_vos / "train_all_frames/JPEGImages/synth00000/00000.jpg")
    assert frame.format == "JPEG" and frame.mode == "RGB" and frame.size == (64, 64)
    masks = list((smoke.youtube_vos / "train_all_frames/Annotations").rglob("*.png"))
    masks += list(smoke.davis2016.rglob("*.png")) + list(smoke.fbms_sparse.rglob("*.png"))
    masks += list(smoke.duts_te.rglob("*.png"))
    for path in masks:
        mask = Image.open(path)
        assert mask.mode == "L" and set(np.unique(np.asarray(mask))) <= {0, 255}, path
    label_files = sorted((smoke.voc2012 / "VOCdevkit/VOC2012/SegmentationClass").glob("*.png"))
    labels = [np.asarray(Image.open(p)) for p in label_files]
    label = Image.open(label_files[0])
    assert label.mode == "P"
    assert np.array_equal(np.asarray(label.getpalette(), np.uint8).reshape(-1, 3)[:256], voc_colormap())
    values = set(np.unique(np.concatenate([x.ravel() for x in labels])).tolist())
    assert values <= set(range(VOC_NUM_CLASSES)) | {255}
    assert 0 in values and 255 in values and len(values - {0, 255}) >= 1  # objects with void borders


def test_void_lies_on_object_borders(smoke):
    # Exact rule on a known instance map: a 10x10 square object of class 13 in a 20x20 frame.
    owner = np.full((1, 20, 20), -1, np.int16)
    owner[0, 5:15, 5:15] = 0
    label = voc_label(RenderedVideo(np.zeros((1, 20, 20, 3), np.uint8), owner >= 0, owner), [13], 1)
    ring = np.zeros((20, 20), bool)
    ring[4:16, 4:16] = True
    ring[6:14, 6:14] = False  # one pixel on each side of the outline
    assert np.array_equal(label == 255, ring)
    assert (label[6:14, 6:14] == 13).all() and (label[~ring & (label != 13)] == 0).all()

    # In the written files, void is a thin band: most void pixels lie within 2 px of a labelled
    # object pixel (tiny objects, e.g. thin horse legs at 64x64, can be void throughout).
    near, total, void_share = 0, 0, []
    for path in (smoke.voc2012 / "VOCdevkit/VOC2012/SegmentationClass").glob("*.png"):
        label = np.asarray(Image.open(path))
        void = label == 255
        objects = np.pad((label > 0) & ~void, 2)
        near_object = np.zeros_like(void)
        for dy in range(-2, 3):
            for dx in range(-2, 3):
                near_object |= objects[2 + dy:2 + dy + label.shape[0], 2 + dx:2 + dx + label.shape[1]]
        near += near_object[void].sum()
        total += void.sum()
        void_share.append(void.mean())
    assert total > 0 and near / total > 0.6 and max(void_share) < 0.25


# --------------------------------------------------------------------------- determinism

def test_same_seed_same_bytes_and_different_seed_differs(smoke, tmp_path):
    again = generate_all(tmp_path / "again", "smoke")
    for kind in DATASETS:
        assert _digests(getattr(again, kind)) == _digests(getattr(smoke, kind)), kind
    other = generate(
        "youtube_vos", tmp_path / "other", SyntheticConfig.profile("smoke", seed=1))
    first = _digests(other)
    base = _digests(smoke.youtube_vos)
    frames = [k for k in base if k.endswith(".jpg")]
    assert all(first[k] != base[k] for k in frames)


def test_many_processes_write_the_same_bytes(smoke, tmp_path):
    """`workers` renders videos in parallel processes; files and split lines (in video order) are
    those of the one-process run, for every dataset."""
    parallel = generate_all(tmp_path / "parallel", "smoke", workers=3)
    for kind in DATASETS:
        assert _digests(getattr(parallel, kind)) == _digests(getattr(smoke, kind)), kind


def test_video_does_not_depend_on_earlier_videos(smoke, tmp_path):
    fewer = generate("youtube_vos", tmp_path, SyntheticConfig.profile("smoke", youtube_videos=2))
    small, full = _digests(fewer / "train_all_frames"), _digests(smoke.youtube_vos / "train_all_frames")
    assert small and all(full[k] == v for k, v in small.items())
    assert not any("synth00002" in k for k in small)


# --------------------------------------------------------------------------- ground truth and motion

def test_objects_move_between_frames(smoke):
    moved = total = 0
    for sequence in DAVISLike(smoke.youtube_vos_annotated):
        masks = [sequence.mask(i).numpy() for i in range(len(sequence))]
        for a, b in zip(masks, masks[1:]):
            if a.sum() > 20 and b.sum() > 20:
                total += 1
                moved += np.abs(_centroid(a) - _centroid(b)).max() > 0.2 or (a != b).sum() > 10
    assert total >= 10 and moved / total > 0.9


def test_frames_change_over_time(smoke):
    sequence = DAVIS2016(smoke.davis2016)[0]
    first, last = sequence.frame(0), sequence.frame(len(sequence) - 1)
    assert (first - last).abs().mean() > 0.02


def test_distractors_are_background():
    scene = _scene(3, num_objects=(1, 1), num_distractors=(2, 2), camera_pan=0.05, noise_std=0.0)
    distractors = [i for i, layer in enumerate(scene.layers) if not layer.foreground]
    assert len(distractors) == 2 and len(scene.layers) == 3
    with_d = render_scene(scene)
    without = render_scene(scene.replace(layers=[l for l in scene.layers if l.foreground]))
    visible = np.isin(with_d.owner, distractors)
    assert visible.any()  # distractors are in the picture ...
    assert not with_d.masks[visible].any()  # ... but never in the ground truth
    assert np.array_equal(with_d.distractors, visible)  # the pixels RenderedVideo.distractors names
    assert np.array_equal(with_d.masks, without.masks)
    assert not np.array_equal(with_d.frames, without.frames)
    for i in distractors:  # fixed in the world: they move only with the camera
        assert np.ptp(scene.layers[i].position, axis=0).max() == 0
    objects = [layer for layer in scene.layers if layer.foreground]
    assert np.ptp(objects[0].position, axis=0).max() > 1


def test_object_leaving_the_frame():
    scene = _scene(1, num_objects=(1, 1), num_distractors=(0, 0), object_size=(0.15, 0.15),
                   placement="center")
    obj = scene.layers[0]
    step = np.array([0.0, 12.0])  # 12 px per frame to the right, camera and zoom frozen
    position = obj.position[0] + step * np.arange(8)[:, None]
    scene = scene.replace(layers=[dataclasses.replace(obj, position=position)],
                          camera=np.zeros_like(scene.camera), zoom=np.ones_like(scene.zoom))
    areas = render_scene(scene).masks.sum(axis=(1, 2))
    assert areas[0] > 50 and areas[-1] == 0
    assert np.all(np.diff(areas[2:]) <= 0)  # leaves gradually through the right edge

    # With placement 'anywhere' generated objects do start partly outside the frame.
    cut = 0
    for seed in range(12):
        masks = render_scene(_scene(seed, num_distractors=(0, 0), placement="anywhere")).masks
        cut += masks[0][[0, -1], :].any() or masks[0][:, [0, -1]].any()
    assert cut >= 3


def test_center_placement_starts_in_the_middle():
    for seed in range(10):
        scene = _scene(seed, placement="center", camera_pan=0.0, camera_zoom=0.0)
        for layer in scene.layers:
            if layer.foreground:
                # world origin = frame centre at t = 0: centres in the middle 40 %
                assert np.all(np.abs(layer.position[0]) <= 0.2 * 64 + 1e-9)


def test_occlusion_follows_depth_order():
    scene = _scene(2, num_objects=(2, 2), num_distractors=(0, 0), object_size=(0.25, 0.25), placement="center",
                   camera_pan=0.0, camera_zoom=0.0, noise_std=0.0, brightness_change=0.0)
    back, front = scene.layers
    front = dataclasses.replace(front, position=back.position + np.array([0.0, 6.0]))
    video = render_scene(scene.replace(layers=[back, front]))
    assert (video.owner == 1).any() and (video.owner == 0).any()
    overlap = video.owner[0] == 1
    # Where the front object covers the back one, the back one is not visible.
    back_alone = render_scene(scene.replace(layers=[back])).owner[0] == 0
    assert (back_alone & overlap).sum() > 20
    assert np.array_equal(video.masks[0], back_alone | overlap)


def test_brightness_changes_over_time():
    scene = _scene(4, brightness_change=0.3, noise_std=0.0, object_speed=0.0, object_rotation=0.0,
                   object_scale_change=0.0, camera_pan=0.0, camera_zoom=0.0, num_distractors=(0, 0))
    frames = render_scene(scene).frames.astype(float)
    ratio = frames.mean(axis=(1, 2, 3)) / frames[0].mean()
    assert np.ptp(scene.gain) > 0.05
    assert np.allclose(ratio, scene.gain / scene.gain[0], atol=0.03)


def test_fbms_annotation_schedule():
    assert fbms_annotated_frames(100, 20) == [0, 19, 39, 59, 79, 99]  # as FBMS-59 bear01
    assert fbms_annotated_frames(12, 5) == [0, 4, 9]


# --------------------------------------------------------------------------- idempotent writing

def test_generate_skips_complete_and_regenerates_on_change(tmp_path):
    config = SyntheticConfig.profile("smoke", duts_images=3)
    folder = generate("duts_te", tmp_path, config)
    manifest = folder / "manifest.json"
    stamp = manifest.stat().st_mtime_ns
    assert generate("duts_te", tmp_path, config) == folder
    assert manifest.stat().st_mtime_ns == stamp  # skipped
    assert is_complete(folder, "duts_te", config, verify=True)

    # A change that does not shape this dataset does not regenerate it.
    generate("duts_te", tmp_path, config.replace(voc_train=1))
    assert manifest.stat().st_mtime_ns == stamp

    generate("duts_te", tmp_path, config.replace(duts_images=2))
    assert read_manifest(folder)["config"]["duts_images"] == 2
    assert len(list((folder / "DUTS-TE-Image").iterdir())) == 2

    next(iter((folder / "DUTS-TE-Mask").iterdir())).unlink()  # damaged -> regenerated
    assert not is_complete(folder, "duts_te", config.replace(duts_images=2))
    generate("duts_te", tmp_path, config.replace(duts_images=2))
    assert len(list((folder / "DUTS-TE-Mask").iterdir())) == 2

    (folder / "DUTS-TE-Image" / "synth_00000.jpg").write_bytes(b"tampered")
    assert is_complete(folder, "duts_te", config.replace(duts_images=2)) is False  # size changed


def test_generate_cleans_partial_and_refuses_foreign_folders(tmp_path):
    config = SyntheticConfig.profile("smoke", duts_images=2)
    (tmp_path / ".duts_te.partial").mkdir()
    (tmp_path / ".duts_te.partial" / "junk").write_text("left by a crash")
    folder = generate("duts_te", tmp_path, config)
    assert not (tmp_path / ".duts_te.partial").exists() and not (folder / "junk").exists()

    foreign = tmp_path / "other"
    (foreign / "voc2012").mkdir(parents=True)
    (foreign / "voc2012" / "precious.txt").write_text("not generated")
    with pytest.raises(DatasetError, match="refusing"):
        generate("voc2012", foreign, config)
    assert (foreign / "voc2012" / "precious.txt").exists()


def test_presets_and_config():
    cpu = SyntheticConfig.profile("cpu")
    assert cpu.scene.image_size == (128, 128) and cpu.davis_videos == 10 and cpu.davis_frames == 20
    changed = SyntheticConfig.profile("smoke", placement="center", seed=3)
    assert changed.scene.placement == "center" and changed.seed == 3
    assert SyntheticConfig.from_dict(changed.to_dict()) == changed
    with pytest.raises(ValueError, match="unknown synthetic preset"):
        SyntheticConfig.profile("huge")
    with pytest.raises(ValueError, match="placement"):
        SceneConfig(placement="left")
    with pytest.raises(ValueError, match="shapes"):
        SceneConfig(shapes=("triangle",))


# --------------------------------------------------------------------------- loaders on the synthetic sets

def test_loaders_read_the_synthetic_sets(smoke):
    pairs = YouTubeVOSPairs(smoke.youtube_vos, smoke.youtube_split, short_side=64, crop=(48, 48),
                            annotations="train_all_frames/Annotations")
    frames, masks = pairs[0]
    assert frames.shape == (2, 3, 48, 48) and masks.shape == (2, 48, 48) and masks.dtype == torch.bool
    assert len(pairs) == 4 and len(YouTubeVOSPairs(smoke.youtube_vos, short_side=64, crop=None)) == 4

    davis = DAVIS2016(smoke.davis2016)
    assert davis.names == ["synth-000", "synth-001"] == [davis_video_name(0), davis_video_name(1)]
    assert [davis_video_index(name) for name in davis.names] == [0, 1] and davis_video_index("synth-1234") == 1234
    for other in ("bear", "synth-", "synth-01a", "real-001"):
        with pytest.raises(ValueError, match="not a synthetic DAVIS-layout video"):
            davis_video_index(other)
    assert len(davis[1]) == 8 and davis[1].annotated == list(range(8))
    assert davis[0].mask(0).dtype.is_floating_point is False

    fbms = DAVISLike(smoke.fbms_sparse)
    assert fbms[0].annotated == [0, 4, 9] and len(fbms[0]) == 12

    duts = DUTSTE(smoke.duts_te)
    sample = duts[2]
    assert sample.image.shape == (3, 64, 64) and sample.mask.shape == (64, 64)

    for split, count in (("train", 6), ("val", 4)):
        voc = VOC2012(smoke.voc2012, split)
        assert len(voc) == count
        assert voc[0].label.shape == (64, 64)


def test_objects_turn_back_at_the_frame_border():
    """leave_frame = 0: every object's centre stays within the frame (camera and zoom applied),
    even when it moves fast; leave_frame = 1: fast objects drift out of view."""
    def centres(scene):
        centre = (np.array(scene.image_size) - 1) / 2
        return [(layer.position - scene.camera) * scene.zoom[:, None] + centre
                for layer in scene.layers if layer.foreground]

    slack = 0.15 * 64 + 0.5  # one step (plus shake): an object turns once its centre is outside
    left = 0
    for seed in range(8):
        options = dict(num_objects=(2, 2), object_size=(0.1, 0.1), object_speed=0.15, num_frames=30)
        for path in centres(_scene(seed, leave_frame=0.0, **options)):
            assert np.all(path >= -slack) and np.all(path <= 63 + slack)
        drifting = _scene(seed, leave_frame=1.0, **options)
        left += sum(bool(np.any((path < -20) | (path > 83))) for path in centres(drifting))
    assert left >= 8


def test_davis_layout_has_one_primary_object(smoke):
    """DAVIS-layout videos: one moving object (the ground truth comes from a single layer) though
    the scene config allows up to three; the FBMS-layout set keeps several."""
    from amdlib.data.synthetic import SyntheticConfig

    config = SyntheticConfig.profile("smoke")
    assert config.davis_primary_object and config.scene.num_objects[1] > 1
    def objects(stream, index, frames):
        video = render_item(config, stream, index, frames)
        return video, set(np.unique(video.owner[video.masks]).tolist())
    for index in range(config.davis_videos):
        video, owners = objects("davis2016", index, config.davis_frames)
        assert len(owners) == 1
        assert np.array_equal(video.masks[3], DAVIS2016(smoke.davis2016)[index].mask(3).numpy())
    assert max(len(objects("fbms_sparse", i, 4)[1]) for i in range(6)) > 1


def test_inside_placement_keeps_the_object_whole_in_view():
    """placement 'inside' + leave_frame 0: the object starts whole in the frame and turns back
    one radius before the border, so it touches the border in few frames."""
    touching = frames = 0
    for seed in range(10):
        scene = _scene(seed, num_frames=20, num_objects=(1, 1), num_distractors=(0, 0), placement="inside",
                       leave_frame=0.0, object_size=(0.25, 0.25), camera_zoom=0.0)
        masks = render_scene(scene).masks
        assert masks[0].any()
        assert not (masks[0][[0, -1], :].any() or masks[0][:, [0, -1]].any())
        touching += sum(bool(m[[0, -1], :].any() or m[:, [0, -1]].any()) for m in masks)
        frames += len(masks)
    assert touching / frames < 0.3


def _is_tinted_grayscale(texture: np.ndarray) -> bool:
    """True when every unclipped pixel's colour is one tint times a gray level (rank-1 colours)."""
    pixels = texture.reshape(-1, 3).astype(np.float64)
    pixels = pixels[(pixels < 0.995).all(1) & (pixels.sum(1) > 0.05)]
    singular = np.linalg.svd(pixels, compute_uv=False)
    return singular[1] / singular[0] < 1e-3


def test_texture_pools_partition_the_sources():
    from amdlib.data.textures import pool_indices, texture_bank

    colour, gray, every = pool_indices("color"), pool_indices("gray"), pool_indices("any")
    assert sorted(colour + gray) == every == list(range(len(texture_bank())))
    assert all(not texture_bank()[i].gray for i in colour) and all(texture_bank()[i].gray for i in gray)
    with pytest.raises(ValueError, match="texture pool"):
        pool_indices("stripes")
    with pytest.raises(ValueError, match="distractor_textures"):
        SceneConfig(distractor_textures="stripes")


def test_distractors_and_objects_draw_from_their_texture_pools():
    """Gray distractors are tinted grayscale (rank-1 colours); colour objects are not."""
    config = SceneConfig(image_size=(64, 64), num_objects=(2, 2), num_distractors=(2, 2),
                         object_textures="color", distractor_textures="gray")
    for seed in range(4):
        scene = sample_scene(config, np.random.default_rng(seed), 3)
        for layer in scene.layers:
            assert _is_tinted_grayscale(layer.texture) == (not layer.foreground), (seed, layer.kind)


V3_DIGEST = "4785d24f8a69972476190929aadc0d6715946afaab3af33af27d29a1d1098faf"
"""SHA-256 of three items of the `cpu` preset as generator version 3 rendered them."""


def _preset_digest(name: str) -> str:
    config, digest = SyntheticConfig.profile(name), hashlib.sha256()
    for stream, index in (("davis2016", 0), ("youtube_vos", 3), ("duts_te", 1)):
        video = render_item(config, stream, index, 4)
        digest.update(video.frames.tobytes())
        digest.update(video.masks.tobytes())
    return digest.hexdigest()


def test_cpu_v3_renders_version_3_bytes():
    """With the appearance knobs off, `cpu_v3` renders the bytes version 3 wrote for `cpu`, so
    earlier runs and results stay reproducible."""
    assert _preset_digest("cpu_v3") == V3_DIGEST


def test_cpu_is_cpu_v3_with_the_version_4_look():
    """The `cpu` preset changes only the look (gray backgrounds, shading, outline): counts,
    geometry and motion are version 3's, so the centre prior and the area calibration stay."""
    cpu, v3 = SyntheticConfig.profile("cpu"), SyntheticConfig.profile("cpu_v3")
    look = {"background_textures": "gray", "object_shading": 0.6, "object_outline": 0.5}
    assert {name: getattr(cpu.scene, name) for name in look} == look
    assert cpu == v3.replace(**look) and cpu != v3
    assert _preset_digest("cpu") != V3_DIGEST


def test_shading_follows_the_light_and_keeps_the_centre():
    from amdlib.data.scene import shade

    flat = np.full((9, 9, 3), 0.5, np.float32)
    lit = shade(flat, 0.4, light=(-1.0, 0.0))  # light from above
    assert lit[4, 4, 0] == pytest.approx(0.5)  # u = 0 at the centre: factor 1
    # top row centre: u = (-8/9, 0): 1 + 0.4 * 8/9 - 0.2 * (8/9)^2
    u = 4 / 4.5
    assert lit[0, 4, 0] == pytest.approx(0.5 * (1 + 0.4 * u - 0.2 * u * u), rel=1e-5)
    assert lit[8, 4, 0] == pytest.approx(0.5 * (1 - 0.4 * u - 0.2 * u * u), rel=1e-5)
    np.testing.assert_array_equal(shade(flat, 0.0), flat)


def test_outline_darkens_only_the_rim():
    from amdlib.data.scene import outline

    alpha = np.zeros((21, 21), np.float32)
    alpha[3:18, 3:18] = 1
    texture = np.full((21, 21, 3), 0.8, np.float32)
    drawn = outline(texture, alpha, 0.5, radius=10.0)  # rim width max(1, 0.6) = 1 pixel
    # edge pixel: distance 1 to the outside -> rim 1 - (1 - 0.5) / 1 = 0.5, darkened by 0.5 * 0.5
    assert drawn[3, 10, 0] == pytest.approx(0.8 * (1 - 0.5 * 0.5))
    assert drawn[4, 10, 0] == pytest.approx(0.8)  # distance 2: past the rim
    assert drawn[0, 0, 0] == pytest.approx(0.8)  # outside the silhouette (alpha hides it)


def test_appearance_knobs_leave_the_geometry_alone():
    """Shading and outline draw no random numbers: the same seed gives the same masks, and
    different pixels."""
    plain = render_scene(_scene(3, num_objects=(2, 2), num_distractors=(1, 1)))
    styled = render_scene(_scene(3, num_objects=(2, 2), num_distractors=(1, 1), object_shading=0.6,
                                 object_outline=0.5))
    np.testing.assert_array_equal(plain.masks, styled.masks)
    np.testing.assert_array_equal(plain.owner, styled.owner)
    assert np.abs(plain.frames.astype(int) - styled.frames).mean() > 2


def test_background_pool_and_validation():
    config = SceneConfig(image_size=(64, 64), background_textures="gray")
    for seed in range(3):
        assert _is_tinted_grayscale(sample_scene(config, np.random.default_rng(seed), 2).background)
    with pytest.raises(ValueError, match="background_textures"):
        SceneConfig(background_textures="stripes")
    with pytest.raises(ValueError, match="object_outline"):
        SceneConfig(object_outline=1.5)
    with pytest.raises(ValueError, match="object_shading"):
        SceneConfig(object_shading=-0.1)
