"""The research scripts under research/: option parsing, run records, and each script end to end
on the smoke preset."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

RESEARCH = Path(__file__).resolve().parents[1]


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, RESEARCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_emergence_scene_changes_and_variant_folders(tmp_path):
    emergence = load("emergence")
    changes = emergence.scene_changes(["num_distractors=0,0", "object_speed=0.08", "object_textures='gray'"])
    assert changes == {"num_distractors": (0, 0), "object_speed": 0.08, "object_textures": "gray"}
    assert emergence.variant_folder(tmp_path, "cpu", {}) == tmp_path / "cpu"
    one = emergence.variant_folder(tmp_path, "cpu", changes)
    assert one != tmp_path / "cpu" and one == emergence.variant_folder(tmp_path, "cpu", dict(reversed(changes.items())))
    assert one != emergence.variant_folder(tmp_path, "cpu", {"num_distractors": (0, 0)})
    config = emergence.with_scene(emergence.SyntheticConfig.profile("smoke"), changes)
    assert config.scene.num_distractors == (0, 0) and config.scene.object_textures == "gray"
    with pytest.raises(ValueError, match="object_textures"):
        emergence.with_scene(config, {"object_textures": "stripes"})


def test_emergence_options_reach_the_configs_and_summaries_need_no_checkpoint(tmp_path):
    emergence = load("emergence")
    model, schedule = emergence.configs(emergence.parse_args(
        ["--name", "x", "--padding-mode", "zeros", "--flow-masks", "source", "--ema-decay", "0.9",
         "--head-dilation", "2", "--seed", "3"]))
    assert (model.padding_mode, model.flow_masks, model.head_dilation) == ("zeros", "source", 2)
    assert (schedule.ema_decay, schedule.seed) == (0.9, 3)
    # --crop-size enlarges what the appearance pathway sees and leaves the flow input alone
    wide, wide_schedule = emergence.configs(emergence.parse_args(["--name", "x", "--crop-size", "96"]))
    assert (wide_schedule.crop_size, wide_schedule.short_side, wide.flow_size) == ((96, 96), 96, (64, 64))
    # the evaluation size is the profile's unless --eval-size says otherwise
    assert emergence.evaluation_size(emergence.parse_args(["--name", "x"])) == emergence.profile("cpu").eval_size[0]
    assert emergence.evaluation_size(emergence.parse_args(["--name", "x", "--eval-size", "96"])) == 96
    # Unset options keep the profile's values.
    default_model, default_schedule = emergence.configs(emergence.parse_args(["--name", "x"]))
    assert default_model == emergence.AMDConfig.profile("cpu")
    assert default_schedule == emergence.TrainConfig.profile("cpu", seed=0)
    # --ablation starts from a variant of amdlib.ablations.ABLATIONS; explicit flags still win
    c3, c3_schedule = emergence.configs(emergence.parse_args(["--name", "x", "--ablation", "masks/c=3"]))
    assert c3 == emergence.AMDConfig.profile("cpu", num_masks=3) and c3_schedule == default_schedule
    _, no_flip = emergence.configs(emergence.parse_args(["--name", "x", "--ablation", "augmentation/no_flip"]))
    assert no_flip == default_schedule.replace(flip=False)
    _, flipped = emergence.configs(emergence.parse_args(["--name", "x", "--ablation", "augmentation/no_flip",
                                                         "--flip"]))
    assert flipped.flip
    for bad in ("masks/c=4", "tta/with", "backbone/resnet50", "nonsense"):  # unknown, an evaluation, paper only
        with pytest.raises(SystemExit, match="--ablation"):
            emergence.configs(emergence.parse_args(["--name", "x", "--ablation", bad]))
    # A run folder as committed (no checkpoint) is summarised from its config.json.
    run = tmp_path / "run_a"
    run.mkdir()
    emergence.write_run_configs(run, model, schedule.replace(iterations=500), ["--name", "run_a", "--seed", "3"], 96)
    assert json.loads((run / "config.json").read_text())["arguments"] == ["--name", "run_a", "--seed", "3"]
    columns = "iteration,train_seconds,J_best_channel,J_smallest_area,J_oracle_frame,J_centre_prior"
    (run / "eval.csv").write_text(f"{columns}\n250,60,0.2,0.1,0.3,0.3\n500,120,0.4,0.35,0.45,0.3\n")
    emergence.summarize(tmp_path)
    row = (tmp_path / "summary.csv").read_text().splitlines()[1].split(",")
    header = (tmp_path / "summary.csv").read_text().splitlines()[0].split(",")
    row = dict(zip(header, row))
    assert (row["padding"], row["flow masks"], row["head dilation"], row["ema"]) == ("zeros", "source", "2", "0.9")
    assert row["retired options"] == "" and row["eval size"] == "96"
    assert (row["short side"], row["scale min"], row["flip"]) == (str(schedule.short_side), str(schedule.scale_min),
                                                                  str(schedule.flip))
    assert float(row["J best channel (end)"]) == 0.4 and float(row["minutes"]) == 2.0
    assert row["val videos"] == "10"  # the cpu preset's own set
    assert row["data changes"] == ""  # the preset as it is
    run_b = tmp_path / "run_b"
    run_b.mkdir()
    emergence.write_run_configs(run_b, model, schedule, ["--name", "run_b", "--val-videos", "50"])
    assert emergence.validation_videos(run_b) == 50
    emergence.write_run_configs(run_b, model, schedule, ["--name", "run_b", "--data", "smoke"])
    assert emergence.validation_videos(run_b) == 2
    emergence.write_run_configs(run_b, model, schedule, ["--name", "run_b", "--val-videos=30", "(a note)"])
    assert emergence.validation_videos(run_b) == 30
    emergence.write_run_configs(run_b, model, schedule, ["--name", "run_b", "--train-scene", "object_speed=0.08",
                                                         "--scene", "noise_std=0", "--train-videos", "1200"])
    assert emergence.data_changes(run_b) == "all noise_std=0; train object_speed=0.08; train videos=1200"
    emergence.write_run_configs(run_b, model, schedule, ["--name", "run_b", "--warmup-scene", "object_speed=0.08",
                                                         "--warmup-iterations", "750"])
    assert emergence.data_changes(run_b) == "first 750 it. object_speed=0.08"
    emergence.write_run_configs(run_b, model, schedule)  # no command line recorded
    assert emergence.validation_videos(run_b) is None
    assert emergence.data_changes(run_b) == ""


def test_sweep_runs_file_parsing_and_shared_data(tmp_path):
    sweep = load("emergence_sweep")
    runs_file = tmp_path / "runs.txt"
    runs_file.write_text("# a comment\n\na: --seed 1  # trailing comment\n"
                         "b: --seed 2 --num-masks 3\nc: --train-objects 1 --seed 1\n")
    runs = sweep.read_runs(runs_file)
    assert [(r.name, r.options) for r in runs] == [
        ("a", ("--seed", "1")), ("b", ("--seed", "2", "--num-masks", "3")),
        ("c", ("--train-objects", "1", "--seed", "1"))]
    # a and b read the same data; c trains on other videos
    assert sweep.data_key(runs[0]) == sweep.data_key(runs[1]) != sweep.data_key(runs[2])
    # more training videos or a larger validation set are data of their own too
    for options in (("--train-videos", "1200"), ("--val-videos", "50")):
        assert sweep.data_key(sweep.Run("d", options)) != sweep.data_key(runs[0])
    for text, message in (("a: --seed 1\na: --seed 2\n", "used twice: a"), ("--seed 1\n", "expected 'NAME: options'"),
                          ("# nothing\n", "no runs")):
        runs_file.write_text(text)
        with pytest.raises(ValueError, match=message):
            sweep.read_runs(runs_file)


def test_sweep_stops_runs_at_the_deadline_and_lists_the_unstarted(tmp_path, monkeypatch):
    sweep = load("emergence_sweep")
    fake = tmp_path / "fake_emergence.py"  # sleeps for the seconds given as --seed, then writes a marker
    fake.write_text("import sys, time, pathlib\n"
                    "a = sys.argv\nname, out, seconds = a[a.index('--name') + 1], a[a.index('--out') + 1], "
                    "float(a[a.index('--seed') + 1])\n"
                    "time.sleep(seconds)\npathlib.Path(out, name, 'done').write_text('')\n")
    monkeypatch.setattr(sweep, "SCRIPT", fake)
    runs = [sweep.Run("quick", ("--seed", "0")), sweep.Run("slow", ("--seed", "60")),
            sweep.Run("queued", ("--seed", "0"))]
    never = sweep.sweep(runs, tmp_path, workers=2, threads=1, seconds=4, extra=[])
    assert never == []  # "queued" got the slot "quick" freed
    assert (tmp_path / "quick" / "done").exists() and (tmp_path / "queued" / "done").exists()
    assert not (tmp_path / "slow" / "done").exists()  # stopped at the deadline
    never = sweep.sweep([sweep.Run("slow2", ("--seed", "60")), sweep.Run("late", ("--seed", "0"))],
                        tmp_path, workers=1, threads=1, seconds=2, extra=[])
    assert never == ["late"] and not (tmp_path / "late").exists()


def test_appearance_ceiling_resolution_and_invariants(capsys):
    ceiling = load("appearance_ceiling")
    block = np.zeros((64, 64), bool)
    block[16:32, 8:40] = True  # aligned with the 4-pixel cells of a 16x16 grid
    # Bilinear x4 upsampling puts the edge pixels at 0.625 of the block's side and the corners
    # at 0.625^2 = 0.39 < 0.5: the block survives except for its four corner pixels.
    expected = block.copy()
    expected[[16, 16, 31, 31], [8, 39, 8, 39]] = False
    assert np.array_equal(ceiling.through_resolution(block, 64, 16).numpy(), expected)
    dot = np.zeros((64, 64), bool)
    dot[10, 10] = True  # one pixel is 1/16 of a cell: lost on the 16x16 grid
    assert not ceiling.through_resolution(dot, 64, 16).any()

    ceiling.main(["--preset", "smoke", "--textures", "any", "any"])
    scores = [float(line.rsplit(":", 1)[1]) for line in capsys.readouterr().out.splitlines() if "J of" in line]
    every_shape, every_shape_coarse, object_coarse = scores
    assert 0 < every_shape <= 1 and 0 < every_shape_coarse <= 1 and 0 < object_coarse <= 1
    assert object_coarse >= every_shape_coarse  # the truth itself beats adding distractors to it


def test_emergence_switch_options_give_the_second_phase_schedule():
    emergence = load("emergence")
    args = emergence.parse_args(["--name", "x", "--switch-iterations", "800", "--switch-crop-size", "128",
                                 "--switch-lr", "1e-4"])
    model, schedule = emergence.configs(args)
    assert schedule.crop_size == (64, 64)  # phase 1: the profile
    later_schedule = emergence.switched_schedule(args, schedule)
    assert (later_schedule.crop_size, later_schedule.short_side) == ((128, 128), 128)
    assert later_schedule.lr == later_schedule.min_lr == 1e-4
    assert later_schedule.replace(crop_size=schedule.crop_size, short_side=schedule.short_side,
                                  lr=schedule.lr, min_lr=schedule.min_lr) == schedule  # nothing else changes
    # Without --switch-* options the schedule passes through.
    plain = emergence.parse_args(["--name", "x"])
    assert emergence.switched_schedule(plain, schedule) == schedule


def test_summaries_name_the_retired_options_an_older_run_used(tmp_path):
    """Committed runs measured options amdlib no longer has; their records still tabulate, and
    the summary says which of those options each run switched on."""
    emergence = load("emergence")
    model = emergence.AMDConfig.profile("cpu").to_dict()
    schedule = emergence.TrainConfig.profile("cpu").to_dict()
    assert emergence.retired_options(model, schedule) == ""
    old_model = {**model, "head_context": True, "channel0_prior": None, "mask_logit_penalty": 0.0}
    old_schedule = {**schedule, "colour": True, "eval_size": [128, 128]}
    assert emergence.retired_options(old_model, old_schedule) == "head_context=True colour=True"
    run = tmp_path / "old_run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"model": old_model, "train": old_schedule,
                                                 "arguments": ["--name", "old_run", "--colour", "--head-context"]}))
    assert emergence.run_eval_size(run, old_schedule) == 128  # older runs kept it in their train config
    assert emergence.validation_videos(run) == 10  # a retired flag in the record is left aside
    columns = "iteration,train_seconds,J_best_channel,J_smallest_area,J_oracle_frame,J_centre_prior"
    (run / "eval.csv").write_text(f"{columns}\n250,60,0.2,0.1,0.3,0.3\n")
    emergence.summarize(tmp_path)
    header, row = (tmp_path / "summary.csv").read_text().splitlines()[:2]
    row = dict(zip(header.split(","), row.split(",")))
    assert row["retired options"] == "head_context=True colour=True" and row["eval size"] == "128"


def test_the_easy_preset_is_research_only_and_reaches_every_script_that_reads_presets():
    emergence = load("emergence")
    from amdlib.data import PRESETS

    assert "easy" not in PRESETS
    easy = emergence.synthetic_preset("easy")
    assert easy.scene.placement == "center" and easy.scene.num_distractors == (0, 0)
    assert easy.scene.image_size == (64, 64) and easy.scene.shapes == ("blob",)
    assert emergence.synthetic_preset("cpu") == emergence.SyntheticConfig.profile("cpu")
    with pytest.raises(ValueError, match="unknown synthetic preset"):
        emergence.synthetic_preset("huge")


def test_supervised_ceiling_loss_is_the_cross_entropy_against_the_area_resized_truth():
    ceiling = load("supervised_ceiling")
    masks = torch.tensor([0.25, 0.75, 0.0]).view(1, 3, 1, 1)  # one mask cell, c = 3
    truth = torch.tensor([[[True, True], [False, False]]])  # half of the cell is the object
    expected = -(0.5 * math.log(0.75) + 0.5 * math.log(0.25))
    assert ceiling.supervised_loss(masks, truth).item() == pytest.approx(expected, rel=1e-6)
    whole = torch.ones(1, 2, 2, dtype=torch.bool)
    assert ceiling.supervised_loss(masks, whole).item() == pytest.approx(-math.log(0.75), rel=1e-6)


def test_supervised_ceiling_end_to_end_evaluates_the_last_iteration_and_saves_a_checkpoint(tmp_path):
    """Stopped by --iterations between two evaluations, the run still scores its final weights,
    and it saves them as an amdlib checkpoint (what val_spread.py and load_checkpoint read)."""
    ceiling = load("supervised_ceiling")
    from amdlib.io.checkpoint import load_checkpoint

    out = tmp_path / "run"
    ceiling.main(["--profile", "smoke", "--data", "smoke", "--data-root", str(tmp_path / "data"), "--out", str(out),
                  "--iterations", "3", "--eval-every", "2", "--threads", "1"])
    rows = (out / "eval.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == ["2", "3"]
    model = load_checkpoint(out / "checkpoint.pt")
    assert model.config == ceiling.AMDConfig.profile("smoke")
    saved = torch.load(out / "checkpoint.pt", weights_only=True)
    assert saved["iteration"] == 3
    assert all(torch.equal(model.state_dict()[k], v) for k, v in saved["model"].items())


def test_supervised_ceiling_scores_the_weight_average_and_the_raw_weights(tmp_path, monkeypatch):
    """With a weight average (the cpu profile's) both are scored, the average under the plain
    names; --no-weight-average turns it off and scores the raw weights alone."""
    ceiling = load("supervised_ceiling")
    plain = ceiling.configs

    def with_average(args):
        model_config, config = plain(args)
        return model_config, config if args.no_weight_average else config.replace(ema_decay=0.5)

    monkeypatch.setattr(ceiling, "configs", with_average)
    common = ["--profile", "smoke", "--data", "smoke", "--data-root", str(tmp_path / "data"),
              "--iterations", "2", "--eval-every", "2", "--threads", "1"]
    ceiling.main([*common, "--out", str(tmp_path / "avg")])
    ceiling.main([*common, "--out", str(tmp_path / "raw"), "--no-weight-average"])
    averaged = (tmp_path / "avg" / "eval.csv").read_text().splitlines()[0].split(",")
    raw = (tmp_path / "raw" / "eval.csv").read_text().splitlines()[0].split(",")
    assert "J_best_channel" in averaged and "J_best_channel_raw_weights" in averaged
    assert "J_best_channel" in raw and not any(name.endswith("_raw_weights") for name in raw)
    recorded = json.loads((tmp_path / "raw" / "config.json").read_text())
    assert recorded["train"]["ema_decay"] == 0.0


@pytest.mark.parametrize("script", ["emergence", "supervised_ceiling"])
def test_zoom_and_flip_options_reach_the_schedule(script):
    module = load(script)
    name = ["--name", "x"] if script == "emergence" else []
    profile = module.TrainConfig.profile("cpu", seed=0)
    # values other than the profile's, so that an ignored option shows
    assert (profile.flip, profile.short_side, profile.scale_min) != (False, 80, 0.8)
    _, schedule = module.configs(module.parse_args(name + ["--no-flip", "--short-side", "80", "--scale-min", "0.8"]))
    assert (schedule.flip, schedule.short_side, schedule.scale_min, schedule.crop_size) == (False, 80, 0.8, (64, 64))
    assert schedule == profile.replace(flip=False, short_side=80, scale_min=0.8)
    _, plain = module.configs(module.parse_args(name))
    assert plain == profile
    for flag, flip in (("--flip", True), ("--no-flip", False)):
        assert module.configs(module.parse_args(name + [flag]))[1] == profile.replace(flip=flip)
    # --crop-size sets the short side too, and --short-side then overrides it
    _, wide = module.configs(module.parse_args(name + ["--crop-size", "96", "--short-side", "120"]))
    assert (wide.crop_size, wide.short_side) == ((96, 96), 120)


@pytest.mark.parametrize("script", ["emergence", "supervised_ceiling"])
def test_backbone_option_reaches_the_model(script):
    module = load(script)
    name = ["--name", "x"] if script == "emergence" else []
    profile = module.AMDConfig.profile("cpu")
    assert profile.backbone != "resnet18"
    model, _ = module.configs(module.parse_args(name + ["--backbone", "resnet18"]))
    assert model == profile.replace(backbone="resnet18")
    assert module.configs(module.parse_args(name))[0] == profile


def test_emergence_train_videos_get_a_folder_of_their_own(tmp_path):
    emergence = load("emergence")
    args = emergence.parse_args(["--name", "x", "--data-root", str(tmp_path), "--train-videos", "1200"])
    folder, config = emergence.training_data(args, "cpu", {})
    assert folder == tmp_path / "cpu_videos1200" and config.youtube_videos == 1200
    assert emergence.training_data(args, "easy", {})[1].youtube_videos == 300  # a warm-up preset keeps its own
    plain = emergence.parse_args(["--name", "x", "--data-root", str(tmp_path)])
    folder, config = emergence.training_data(plain, "cpu", {})
    assert folder == tmp_path / "cpu" and config == emergence.SyntheticConfig.profile("cpu")


def test_relabel_checkpoint_keeps_the_weights_and_records_the_new_config(tmp_path):
    emergence = load("emergence")
    path = tmp_path / "checkpoint.pt"
    weights = {"w": torch.arange(4.0)}
    dense = emergence.AMDConfig.profile("smoke").replace(segment_flow=False)  # a dense-flow warm-up's config
    torch.save({"config": dense.to_dict(), "model": weights, "iteration": 7}, path)
    later = emergence.AMDConfig.profile("smoke")
    emergence.relabel_checkpoint(path, later)
    state = torch.load(path, weights_only=True)
    assert emergence.AMDConfig.from_dict(state["config"]) == later and state["iteration"] == 7
    assert torch.equal(state["model"]["w"], weights["w"])
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]  # no temporary file left behind


def _masks(name: str, channel_masks: list[list[list[int]]], truth: list[list[int]]):
    """One-frame SequenceMasks from c hand-drawn 2x2 masks and a 2x2 truth."""
    from amdlib.evaluation.channels import SequenceMasks

    masks = torch.tensor(channel_masks, dtype=torch.float32).unsqueeze(0)  # 1,c,2,2
    return SequenceMasks(name, masks, torch.tensor(truth, dtype=torch.bool).unsqueeze(0))


def test_val_spread_scores_blocks_and_applies_the_first_blocks_channel_to_all():
    spread = load("val_spread")
    truth = [[1, 1], [0, 0]]
    exact = [[0, 0], [1, 1]], [[1, 1], [0, 0]]  # channel 1 is the object: J 1, channel 0: J 0
    half = [[1, 0], [1, 1]], [[0, 1], [0, 0]]  # channel 1: J 1/2, channel 0: J 1/4
    swapped = [[1, 1], [0, 0]], [[0, 0], [1, 1]]  # the object in channel 0
    results = [_masks("a", exact, truth), _masks("b", half, truth), _masks("c", swapped, truth),
               _masks("d", swapped, truth)]
    rows, summary = spread.spread_rows("run", results, block=2, committed=2)
    assert [row["videos"] for row in rows] == ["0-1", "2-3"]
    assert rows[0]["best_channel"] == 1 and math.isclose(rows[0]["J_best_fixed"], (1 + 0.5) / 2)
    assert rows[1]["best_channel"] == 0 and math.isclose(rows[1]["J_best_fixed"], 1.0)
    assert math.isclose(rows[0]["J_oracle_frame"], 0.75) and math.isclose(rows[1]["J_oracle_frame"], 1.0)
    # channel 1, chosen on the first two videos, applied to all four: (1 + 0.5 + 0 + 0) / 4
    assert math.isclose(summary["J_channel_of_first_videos_on_all"], 0.375)
    # the best fixed channel over all four: channel 0 (0 + 0.25 + 1 + 1) / 4 = 0.5625 > 0.375
    assert summary["best_channel_all"] == 0 and math.isclose(summary["J_best_fixed_all"], 0.5625)
    assert summary["block_J_best_fixed_min"] == 0.75 and summary["block_J_best_fixed_max"] == 1.0
    assert math.isclose(summary["J_best_fixed_first2"], 0.75)


def test_val_spread_video_rows_hand_computed():
    spread = load("val_spread")
    truth = [[1, 1], [0, 0]]  # object area 1/2
    half = [[1, 0], [1, 1]], [[0, 1], [0, 0]]  # channel 0: J 1/4, area 3/4; channel 1: J 1/2, area 1/4
    result = _masks("v", half, truth)
    result.motion_channel = 0
    (row,) = spread.video_rows("run", [result])
    assert row["video"] == "v" and math.isclose(row["object_area"], 0.5)
    assert math.isclose(row["J_channel_0"], 0.25) and math.isclose(row["J_channel_1"], 0.5)
    assert math.isclose(row["area_channel_0"], 0.75) and math.isclose(row["area_channel_1"], 0.25)
    assert math.isclose(row["J_oracle_frame"], 0.5)
    assert row["motion_channel"] == 0 and math.isclose(row["J_motion_contrast"], 0.25)
    assert "distractor_area" not in row and "on_distractor_channel_0" not in row
    # a distractor at the bottom right: channel 0 (3 pixels) has 1 on it, channel 1 (1 pixel) none
    (row,) = spread.video_rows("run", [result], distractors={"v": torch.tensor([[[False, False], [False, True]]])})
    assert math.isclose(row["distractor_area"], 0.25)
    assert math.isclose(row["on_distractor_channel_0"], 1 / 3) and row["on_distractor_channel_1"] == 0.0
    assert row["distractor_covered_channel_0"] == 1.0 and row["distractor_covered_channel_1"] == 0.0
    # an empty channel has no share
    empty = _masks("e", ([[1, 1], [1, 1]], [[0, 0], [0, 0]]), truth)
    (row,) = spread.video_rows("run", [empty], distractors={"e": torch.ones(1, 2, 2, dtype=torch.bool)})
    assert row["on_distractor_channel_0"] == 1.0 and math.isnan(row["on_distractor_channel_1"])
    assert row["distractor_covered_channel_0"] == 1.0 and row["distractor_covered_channel_1"] == 0.0
    (row,) = spread.video_rows("run", [empty], distractors={"e": torch.zeros(1, 2, 2, dtype=torch.bool)})
    assert row["distractor_area"] == 0.0 and math.isnan(row["distractor_covered_channel_0"])


def test_val_spread_extended_set_starts_with_the_presets_own_videos(tmp_path):
    spread = load("val_spread")
    from amdlib.data import DAVIS2016, generate, SyntheticConfig

    committed = DAVIS2016(generate("davis2016", tmp_path / "committed", "smoke"))
    folder, count = spread.extended_set("smoke", 3, tmp_path)
    extended = DAVIS2016(folder)
    assert count == SyntheticConfig.profile("smoke").davis_videos == 2 and len(extended) == 3
    for index in range(count):
        a, b = committed[index], extended[index]
        assert a.name == b.name and torch.equal(a.frame(0), b.frame(0)) and torch.equal(a.mask(1), b.mask(1))
    assert not torch.equal(extended[2].frame(0), extended[0].frame(0))
    with pytest.raises(ValueError, match="1 videos is fewer than the preset's own 2"):
        spread.extended_set("smoke", 1, tmp_path)
    assert spread.labelled("x=some/where.pt") == ("x", Path("some/where.pt"))
    assert spread.labelled(str(tmp_path / "run7" / "checkpoint.pt"))[0] == "run7"


def test_val_spread_end_to_end_on_a_smoke_checkpoint(tmp_path):
    spread = load("val_spread")
    from amdlib import AMD, AMDConfig, save_checkpoint

    torch.manual_seed(0)
    save_checkpoint(AMD(AMDConfig.profile("smoke")), tmp_path / "ck.pt")
    spread.main([f"smoke_ck={tmp_path / 'ck.pt'}", "--preset", "smoke", "--videos", "4", "--eval-size", "32",
                 "--data-root", str(tmp_path / "data"), "--out", str(tmp_path / "out"), "--threads", "1"])
    import pandas as pd

    rows = pd.read_csv(tmp_path / "out" / "spread.csv")
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert list(rows["videos"]) == ["0-1", "2-3"] and set(rows["run"]) == {"smoke_ck"}
    assert (rows["J_oracle_frame"] >= rows["J_best_fixed"] - 1e-6).all()
    assert len(summary) == 1 and summary["videos"][0] == 4
    assert (tmp_path / "out" / "summary.md").read_text().count("smoke_ck") == 1
    videos = pd.read_csv(tmp_path / "out" / "videos.csv")
    assert len(videos) == 4 and (videos["J_oracle_frame"] >= videos["J_motion_contrast"] - 1e-6).all()
    assert videos["distractor_area"].between(0, 1).all()
    for k in range(2):
        for column in (f"on_distractor_channel_{k}", f"distractor_covered_channel_{k}"):
            assert videos[column].dropna().between(0, 1).all()


def test_val_spread_distractor_pixels_are_the_static_shapes_of_the_generated_videos(tmp_path):
    """The re-rendered distractor map of each written video: disjoint from its ground truth,
    present where the videos hold two distractors each, and another seed's videos are refused."""
    spread = load("val_spread")
    from amdlib.data import DAVIS2016, SyntheticConfig, generate
    from amdlib.evaluation.channels import SequenceMasks

    def results_of(folder):
        return [SequenceMasks(s.name, torch.zeros(len(s.annotated), 2, 1, 1),
                              torch.stack([s.mask(i) for i in s.annotated])) for s in DAVIS2016(folder)]

    smoke = SyntheticConfig.profile("smoke")
    cluttered = smoke.replace(scene=dataclasses.replace(smoke.scene, num_distractors=(2, 2)))
    results = results_of(generate("davis2016", tmp_path / "cluttered", cluttered))
    maps = spread.distractor_pixels(cluttered, results)
    assert set(maps) == {r.name for r in results}
    for result in results:
        assert maps[result.name].shape == result.truth.shape and not (maps[result.name] & result.truth).any()
    assert any(m.any() for m in maps.values())
    with pytest.raises(ValueError, match="synth-000: the generator does not re-render"):
        spread.distractor_pixels(cluttered.replace(seed=smoke.seed + 1), results)
    assert spread.distractor_pixels("smoke", results_of(generate("davis2016", tmp_path / "smoke", "smoke")))


def test_emergence_evaluates_on_the_extended_set_with_val_videos(tmp_path):
    emergence = load("emergence")
    from amdlib.data import DAVIS2016
    from amdlib.evaluation.centre_prior import centre_prior_j

    emergence.main(["--name", "wide", "--profile", "smoke", "--data", "smoke", "--data-root", str(tmp_path / "data"),
                    "--out", str(tmp_path / "out"), "--iterations", "2", "--eval-every", "2", "--val-videos", "3",
                    "--threads", "1", "--minutes", "5"])
    extended = DAVIS2016(tmp_path / "data" / "smoke-val3" / "davis2016")
    assert len(extended) == 3 and len(DAVIS2016(tmp_path / "data" / "smoke" / "davis2016")) == 2
    recorded = json.loads((tmp_path / "out" / "wide" / "config.json").read_text())
    assert recorded["eval_size"] == emergence.profile("smoke").eval_size[0]
    truths = [torch.stack([s.mask(i) for i in s.annotated]) for s in extended]
    evaluations = (tmp_path / "out" / "wide" / "eval.csv").read_text().splitlines()
    header, last = evaluations[0].split(","), evaluations[-1].split(",")
    centre = float(dict(zip(header, last))["J_centre_prior"])
    assert math.isclose(centre, centre_prior_j(truths)["J"], rel_tol=1e-6)
    assert not math.isclose(centre, centre_prior_j(truths[:2])["J"], rel_tol=1e-6)


def test_emergence_warmup_scene_trains_first_on_other_videos_then_resumes_on_the_runs_own(tmp_path):
    emergence = load("emergence")
    data = tmp_path / "data"
    emergence.main(["--name", "curriculum", "--profile", "smoke", "--data", "smoke", "--data-root", str(data),
                    "--out", str(tmp_path / "out"), "--iterations", "4", "--eval-every", "2", "--threads", "1",
                    "--minutes", "5", "--warmup-scene", "object_speed=0.08", "--warmup-iterations", "2"])
    warmup_folder = emergence.variant_folder(data, "smoke", {"object_speed": 0.08})
    assert (warmup_folder / "youtube_vos" / "train.txt").exists()
    assert (data / "smoke" / "youtube_vos" / "train.txt").exists()  # the run's own videos, after the warm-up
    evaluations = (tmp_path / "out" / "curriculum" / "eval.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in evaluations[1:]] == ["2", "4"]  # one run: the second phase resumed
    assert emergence.data_changes(tmp_path / "out" / "curriculum") == "first 2 it. object_speed=0.08"


def test_emergence_resume_to_more_iterations_equals_the_longer_run_at_a_constant_lr(tmp_path, monkeypatch):
    emergence = load("emergence")
    resumed = []
    real_train = emergence.train

    def recording_train(*args, **kwargs):
        resumed.append(kwargs["resume"])
        return real_train(*args, **kwargs)

    monkeypatch.setattr(emergence, "train", recording_train)
    common = ["--profile", "smoke", "--data", "smoke", "--data-root", str(tmp_path / "data"), "--out",
              str(tmp_path / "out"), "--eval-every", "2", "--threads", "1", "--minutes", "5", "--lr", "3e-4",
              "--min-lr", "3e-4"]
    emergence.main(["--name", "straight", "--iterations", "4"] + common)
    emergence.main(["--name", "extended", "--iterations", "2"] + common)
    emergence.main(["--name", "extended", "--iterations", "4", "--resume"] + common)
    straight, extended = (torch.load(tmp_path / "out" / name / "checkpoint.pt", weights_only=True)
                          for name in ("straight", "extended"))
    assert resumed == [False, False, True]  # the third call continued the second's checkpoint
    assert straight["iteration"] == extended["iteration"] == 4
    assert all(torch.equal(straight["model"][key], extended["model"][key]) for key in straight["model"])
    straight_rows, extended_rows = ((tmp_path / "out" / name / "eval.csv").read_text().splitlines()
                                    for name in ("straight", "extended"))
    assert [row.split(",")[0] for row in extended_rows[1:]] == ["2", "4"]
    j_at_4 = [dict(zip(rows[0].split(","), rows[-1].split(",")))["J_best_channel"]
              for rows in (straight_rows, extended_rows)]
    assert j_at_4[0] == j_at_4[1]
    with pytest.raises(SystemExit, match="one-phase run"):
        emergence.main(["--name", "extended", "--resume", "--dense-warmup", "2"] + common)
    with pytest.raises(SystemExit, match="one-phase run"):
        emergence.main(["--name", "extended", "--resume", "--switch-iterations", "0"] + common)
    with pytest.raises(SystemExit, match="go together"):
        emergence.main(["--name", "x", "--warmup-scene", "object_speed=0.08"] + common)
    with pytest.raises(SystemExit, match="go together"):
        emergence.main(["--name", "x", "--warmup-iterations", "2"] + common)


def test_emergence_prepare_only_also_generates_the_extended_validation_set(tmp_path):
    """A sweep prepares every run's data before runs start side by side; the --val-videos set
    must be among it, or parallel runs would generate the same folder at once."""
    emergence = load("emergence")
    from amdlib.data import DAVIS2016

    data = tmp_path / "data"
    emergence.main(["--prepare-only", "--profile", "smoke", "--data", "smoke", "--data-root", str(data),
                    "--val-videos", "3", "--threads", "1", "--data-workers", "2"])
    assert len(DAVIS2016(data / "smoke-val3" / "davis2016")) == 3
    assert not (tmp_path / "out").exists()


def test_mask_loss_truth_masks_are_area_fractions_hand_computed():
    mask_loss = load("mask_loss")
    truth = torch.zeros(1, 4, 4, dtype=torch.bool)
    truth[0, 0, :3] = True  # top row: cells (0,0) full in its top half, (0,1) a quarter
    masks = mask_loss.truth_masks(truth, 3, (2, 2))
    expected_object = torch.tensor([[0.5, 0.25], [0.0, 0.0]])
    assert masks.shape == (1, 3, 2, 2)
    assert torch.allclose(masks[0, 1], expected_object)
    assert torch.allclose(masks[0, 0], 1 - expected_object)
    assert torch.equal(masks[0, 2], torch.zeros(2, 2))


def test_mask_loss_summary_sorts_videos_into_the_kinds_of_failure():
    mask_loss = load("mask_loss")
    import pandas as pd

    losses = {f"loss_{k}": [0.2, 0.2, 0.2, 0.2] for k in mask_loss.SEGMENTATIONS}
    losses["loss_truth"] = [0.1, 0.3, 0.1, 0.1]
    videos = pd.DataFrame({"video": list("abcd"), "object_area": [0.1] * 4, "J_channel_1": [0.8, 0.6, 0.1, 0.2],
                           "area_channel_1": [0.1, 0.1, 0.9, 0.2], **losses})
    summary = mask_loss.summary_rows(videos, videos.iloc[:0]).set_index("set")
    assert summary["count"].tolist() == [4, 2, 1, 1]  # no training rows: that row is left out
    assert summary["truth_below_model"].tolist() == [0.75, 0.5, 1.0, 1.0]
    assert summary.loc["validation: channel 1 is the object (J > 0.5)", "J_channel_1"] == pytest.approx(0.7)


def test_mask_loss_end_to_end_on_the_smoke_preset(tmp_path):
    """The model's own masks score what AMD's forward pass scores on the same pairs, an --other
    model's masks enter as a segmentation of their own, and channel 1's J is what val_spread.py
    reports per video."""
    mask_loss = load("mask_loss")
    spread = load("val_spread")
    from amdlib import AMD, AMDConfig
    from amdlib.io.checkpoint import load_checkpoint, save_checkpoint
    from amdlib.data import DAVIS2016

    torch.manual_seed(0)
    save_checkpoint(AMD(AMDConfig.profile("smoke")), tmp_path / "ck.pt")
    data, out = tmp_path / "data", tmp_path / "out"
    summary = mask_loss.main([str(tmp_path / "ck.pt"), "--preset", "smoke", "--data-root", str(data),
                              "--train-pairs", "3", "--eval-size", "32", "--threads", "1", "--out", str(out),
                              "--other", f"itself={tmp_path / 'ck.pt'}", "--path"])
    import pandas as pd

    videos, train = pd.read_csv(out / "videos.csv"), pd.read_csv(out / "train_pairs.csv")
    assert len(videos) == 2 and len(train) == 3 and (out / "summary.md").exists()
    # the same checkpoint as an --other segmentation explains every pair exactly as well
    assert videos.loss_itself.tolist() == videos.loss_model.tolist()
    assert train.loss_itself.tolist() == train.loss_model.tolist()
    # the path starts at the model's masks and ends at the truth's: its ends are the pair-weighted
    # means of the per-video losses
    path = pd.read_csv(out / "path.csv").set_index(["set", "alpha"])
    weights = [len(s) - 2 for s in DAVIS2016(data / "smoke" / "davis2016")]
    for alpha, column in ((0.0, "loss_model"), (1.0, "loss_truth")):
        expected = sum(w * v for w, v in zip(weights, videos[column])) / sum(weights)
        assert path.loc[("validation pairs", alpha), "loss"] == pytest.approx(expected, rel=1e-5)
    assert path.loc[("training pairs", 0.0), "loss"] == pytest.approx(train.loss_model.mean(), rel=1e-5)
    assert ((path.cos_descent_truth >= -1) & (path.cos_descent_truth <= 1)).all()
    assert summary.set_index("set").loc["validation: all videos", "count"] == 2
    model = load_checkpoint(tmp_path / "ck.pt").eval()
    sequence = list(DAVIS2016(data / "smoke" / "davis2016"))[0]
    from amdlib.data.transforms import resize_images

    frames = resize_images(torch.stack([sequence.frame(i) for i in range(len(sequence))]),
                           tuple(model.config.flow_size))
    pairs = torch.stack((frames[:-2], frames[2:]), 1)
    with torch.no_grad():
        assert videos.loc[0, "loss_model"] == pytest.approx(model(pairs).loss.item(), rel=1e-5)
    from amdlib.evaluation.predict import segment_sequences

    result = segment_sequences(model, [sequence], (32, 32))
    row = spread.video_rows("x", result)[0]
    assert videos.loc[0, "J_channel_1"] == pytest.approx(row["J_channel_1"], abs=1e-6)


def test_mask_loss_explain_with_the_appearance_masks_is_the_forward_pass():
    """`explain` is AMD's own forward pass with the masks given: the appearance pathway's masks
    give the same loss and flows, the pathway is put back, and the loss has a gradient on the masks."""
    mask_loss = load("mask_loss")
    from amdlib import AMD, AMDConfig

    model = AMD(AMDConfig.profile("smoke")).eval()  # dropout off, so that both calls see the same masks
    appearance = model.appearance
    frames = torch.rand(2, 2, 3, 64, 64)
    with torch.no_grad():
        out = model(frames)
        again = mask_loss.explain(model, frames, model.appearance(frames.flatten(0, 1)).unflatten(0, (2, 2)))
    assert torch.equal(out.loss, again.loss) and torch.equal(out.masks, again.masks)
    assert all(torch.equal(a, b) for a, b in zip(out.flows, again.flows))
    assert model.appearance is appearance
    masks = torch.rand(2, 2, 2, 16, 16).softmax(2).requires_grad_(True)
    (gradient,) = torch.autograd.grad(mask_loss.explain(model, frames, masks).loss, masks)
    assert gradient.abs().sum() > 0 and model.appearance is appearance


def test_mask_loss_path_on_a_quadratic_loss_hand_computed(monkeypatch):
    """With loss = sum (masks - truth masks)^2 the steepest descent points straight at the truth
    (cosine 1, every wrong pixel agrees) and the loss falls as (1 - alpha)^2 along the line."""
    from types import SimpleNamespace

    mask_loss = load("mask_loss")
    truth = torch.zeros(1, 2, 4, 4, dtype=torch.bool)
    truth[:, :, :2, :2] = True
    start = torch.full((2, 2, 4, 4), 0.5)
    start[:, 1, 2:, 2:], start[:, 0, 2:, 2:] = 0.9, 0.1  # channel 1 wrongly on the bottom-right
    target = mask_loss.truth_masks(truth.flatten(0, 1), 2, (4, 4)).unflatten(0, (1, 2))

    class Quadratic:
        config = SimpleNamespace(num_masks=2)

        def segment(self, images, size=None):
            return start.clone()

    monkeypatch.setattr(mask_loss, "explain", lambda model, frames, masks: SimpleNamespace(
        loss=((masks - target) ** 2).sum()))

    rows = mask_loss.path_rows(Quadratic(), [(torch.rand(1, 2, 3, 16, 16), truth)], "toy", (0.0, 0.5, 1.0))
    first = ((start.unflatten(0, (1, 2)) - target) ** 2).sum().item()
    assert [r["loss"] for r in rows] == pytest.approx([first, first / 4, 0.0])
    assert rows[0]["cos_descent_truth"] == pytest.approx(1.0) and rows[1]["cos_descent_truth"] == pytest.approx(1.0)
    assert rows[0]["descent_agrees_on_wrong"] == 1.0
    assert rows[0]["wrong_share"] == pytest.approx(4 / 16)  # the 2x2 top-left at 0.5 is not "wrong"; bottom-right is
    assert rows[2]["cos_descent_truth"] == 0.0  # at the truth the gradient vanishes


def test_benchmark_cues_scores_against_hand_made_frames():
    cues = load("benchmark_cues")
    gray = np.full((1, 8, 8, 3), 100, np.uint8)
    gray[0, 2:6, 2:6] = (200, 0, 0)  # a pure red square on gray
    maps = cues.cue_maps(gray, smooth=0)
    assert maps["saturation"][0, 0, 0] == 0 and maps["saturation"][0, 3, 3] == pytest.approx(1)
    assert maps["colour_distance"][0, 0, 0] == 0  # the median colour is the gray
    truth = np.zeros((1, 8, 8), bool)
    truth[0, 2:6, 2:6] = True
    best = cues.oracle_threshold_j([maps["saturation"]], [truth])
    assert best["J"] == 1.0 and best["direction"] == ">"
    inverted = cues.oracle_threshold_j([-maps["saturation"]], [truth])
    assert inverted["J"] == 1.0 and inverted["direction"] == "<"
    # J by hand: video 1 frames 1/2 and empty-vs-empty 1; video 2 one frame 0 -> mean(0.75, 0)
    one = np.zeros((2, 2, 2), bool); one[0, 0] = True
    guess = np.zeros((2, 2, 2), bool); guess[0, 0, 0] = True
    assert cues.davis_j([guess, np.ones((1, 2, 2), bool)], [one, np.zeros((1, 2, 2), bool)]) == pytest.approx(0.375)
    geometry = cues.geometry([truth])
    assert geometry == {"area": pytest.approx(16 / 64), "border_contact": 0.0}


def test_benchmark_cues_runs_on_a_preset(tmp_path, capsys):
    cues = load("benchmark_cues")
    cues.main(["--data", "smoke", "--val-videos", "2", "--out", str(tmp_path / "cues.json")])
    result = json.loads((tmp_path / "cues.json").read_text())
    assert result["videos"] == 2 and 0 < result["area"] < 1
    assert all(0 <= result[cue]["J"] <= 1 for cue in cues.CUES)
    assert "centre prior" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cues.main(["--data", "no_such_preset"])


BUDGET_FLAGS = ("--minutes", "--iterations")


def _without_budget(arguments: list[str]) -> list[str]:
    """A command line less its budget flags and their values."""
    kept, skip = [], False
    for token in arguments:
        if skip:
            skip = False
        elif token in BUDGET_FLAGS:
            skip = True
        else:
            kept.append(token)
    return kept


def test_reference_runs_remakes_the_committed_runs_with_their_own_command_lines():
    """Each reference run's command is the one its committed config.json records, but for the
    budget: the committed runs stopped at 20 (dense flow: 5) training minutes, and the planned
    command gives the iterations they reached on average, so a remade run is the same on any
    machine. The research preset it names renders what amdlib's `cpu` preset renders."""
    from amdlib import AMDConfig
    from amdlib.data.synthetic import SyntheticConfig

    reference_runs, emergence = load("reference_runs"), load("emergence")
    planned = reference_runs.planned_runs()
    assert len(planned) == 6 + 3 * len(reference_runs.ABLATION_RUNS)
    for folder, command in planned:
        record = folder / "config.json"
        if record.is_file() and "supervised" not in folder.parts:  # committed with the repository
            recorded = json.loads(record.read_text())["arguments"]
            assert _without_budget(recorded) == _without_budget(command[2:]), folder.name
    assert emergence.synthetic_preset(reference_runs.PRESET) == SyntheticConfig.profile("cpu")
    args = emergence.build_parser().parse_args(reference_runs.amd_command(0)[2:])
    assert (args.iterations, args.minutes, args.val_videos, args.seed) == (1611, 60.0, 50, 0)
    dense = dict(planned)[reference_runs.REPOSITORY / reference_runs.ABLATION_RUNS["flow/dense"][1]]
    args = emergence.build_parser().parse_args(dense[2:])
    assert (args.ablation, args.iterations, args.seed, args.name) == ("flow/dense", 587, 1, "abl_flow_dense_s1")
    model, schedule = emergence.configs(args)
    assert not model.segment_flow and model.replace(segment_flow=True) == AMDConfig.profile("cpu")


def test_reference_runs_tells_a_finished_run_from_an_interrupted_one(tmp_path):
    """A run with an iteration budget is finished at its planned iterations; one that stopped at
    its first evaluation resumes; a time-budget run (its config names --minutes only) is finished
    when its last evaluation reached those minutes."""
    reference_runs = load("reference_runs")
    command = ["python", "research/emergence.py", "--iterations", "1611", "--minutes", "60"]

    def run(name, iterations, minutes, arguments):
        folder = tmp_path / name
        folder.mkdir()
        pd.DataFrame({"iteration": iterations, "train_minutes": minutes,
                      "J_best_channel": 0.5}).to_csv(folder / "eval.csv", index=False)
        (folder / "config.json").write_text(json.dumps({"arguments": arguments}))
        return folder

    assert reference_runs.finished(run("done", [1000, 1611], [7.0, 11.0], command[2:]), command)
    assert not reference_runs.finished(run("cut", [1000], [7.0], command[2:]), command)
    assert not reference_runs.finished(tmp_path / "none", command)
    timed = ["--minutes", "20"]
    assert reference_runs.finished(run("timed", [1000, 1489], [14.1, 20.0], timed), command)
    assert not reference_runs.finished(run("timed_cut", [1000], [14.1], timed), command)


def test_real_ceilings_fit_learns_a_hand_made_target_from_groups_of_frames(monkeypatch):
    """The gate-0 trainer on two tiny 'videos' whose object is a bright square: the cross-entropy
    falls and channel 1 covers the square more than the rest."""
    ceilings = load("real_ceilings")
    groups = []
    for offset in (4, 12):
        frames = torch.full((3, 3, 48, 80), 40, dtype=torch.uint8)
        truth = torch.zeros(3, 48, 80, dtype=torch.bool)
        frames[:, :, 16:32, offset:offset + 24] = 220
        truth[:, 16:32, offset:offset + 24] = True
        groups.append((frames, truth))
    monkeypatch.setattr(ceilings, "named_profile", lambda name: __import__("amdlib.config").config.profile("smoke"))
    model = ceilings.fit(groups, seed=0, iterations=30)
    with torch.no_grad():
        masks = model.segment(groups[0][0][:1].float() / 255, size=(48, 80))[0, 1]
    inside, outside = masks[groups[0][1][0]].mean(), masks[~groups[0][1][0]].mean()
    assert inside > outside


def test_finetune_curve_is_amdlibs_finetune_evaluated_midway_and_resumes(tmp_path):
    curve = load("finetune_curve")
    from amdlib import AMD, AMDConfig, save_checkpoint
    from amdlib.data import VOC2012, generate_all
    from amdlib.evaluation.finetune import FinetuneConfig, evaluate_segmentation, finetune

    torch.manual_seed(0)
    model = AMD(AMDConfig.profile("smoke")).eval()
    save_checkpoint(model, tmp_path / "ck.pt")
    arguments = ["--profile", "smoke", "--model", str(tmp_path / "ck.pt"), "--data-root", str(tmp_path / "data"),
                 "--out", str(tmp_path / "out"), "--seeds", "0", "--checkpoints", "1", "2", "--threads", "1"]
    curve.main(arguments)
    rows = pd.read_csv(tmp_path / "out" / "curve.csv")
    assert list(rows.columns) == curve.COLUMNS
    assert set(zip(rows["init"], rows["mode"], rows["iteration"])) == {
        (init, mode, k) for init in ("AMD", "random") for mode in ("full", "frozen") for k in (1, 2)}
    assert len(rows) == 8 and set(rows["seed"]) == {0} and rows["mIoU"].between(0, 1).all()
    assert (rows.groupby(["init", "mode"])["train_seconds"].apply(lambda s: s.is_monotonic_increasing)).all()
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert len(summary) == 8 and set(summary.loc[summary["init"] == "AMD", "against random init"]) == {
        "one seed: no verdict"}
    # Resumable: every run is in the file, so a second call trains nothing and keeps the rows.
    curve.main(arguments)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "out" / "curve.csv"), rows)
    # The loop is amdlib's finetune step for step: the same weights (evaluations in between draw
    # nothing) and mIoU; frozen leaves AMD's backbone (weights and BatchNorm statistics) as it was.
    voc = generate_all(tmp_path / "data" / "smoke", "smoke", datasets=("voc2012",)).voc2012
    train_set, val_set = VOC2012(voc, "train"), VOC2012(voc, "val")
    original = {k: v.clone() for k, v in model.appearance.backbone.state_dict().items()}
    for frozen in (False, True):
        config = FinetuneConfig(iterations=2, size=(64, 64), freeze_backbone=frozen, seed=0)
        ours, theirs = curve.segmenter_for("AMD", model, 0), curve.segmenter_for("AMD", model, 0)
        points = curve.curve(ours, train_set, val_set, config, [0, 1, 2], (64, 64))
        finetune(theirs, train_set, config)
        assert [p["iteration"] for p in points] == [0, 1, 2]
        assert points[-1]["mIoU"] == evaluate_segmentation(theirs, val_set, (64, 64)).miou()
        for (name, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
            assert torch.equal(a, b), name
        backbone = ours.backbone.state_dict()
        changed = [k for k, v in original.items() if v.is_floating_point() and not torch.equal(backbone[k], v)]
        assert (not changed) if frozen else changed
    csv_point = rows[(rows["init"] == "AMD") & (rows["mode"] == "frozen") & (rows["iteration"] == 2)]["mIoU"]
    assert float(csv_point.iloc[0]) == pytest.approx(points[-1]["mIoU"], abs=1e-12)
    with pytest.raises(ValueError, match="largest checkpoint"):
        curve.curve(ours, train_set, val_set, config, [1], (64, 64))
    # The check against notebook 04's per-seed table pairs the runs by name and seed.
    (tmp_path / "seeds.csv").write_text('backbone,seed,mIoU\n"AMD init, frozen backbone",0,0.5\n')
    paired = curve.against_notebook(rows, tmp_path / "seeds.csv", 2)
    assert len(paired) == 1 and paired["difference"].iloc[0] == pytest.approx(float(csv_point.iloc[0]) - 0.5)
    assert curve.against_notebook(rows, tmp_path / "seeds.csv", 300) is None


def test_longer_budget_scores_each_budget_as_a_run_stopped_there(tmp_path, capsys):
    longer = load("longer_budget")
    import amdlib
    from amdlib.ablation_runs import run_cell
    from amdlib.ablations import AblationData
    from amdlib.data import generate_more_davis

    default = tmp_path / "v0_default_s0"
    default.mkdir()
    (default / "eval.csv").write_text("iteration,train_seconds,J_best_channel,J_motion_contrast_video\n"
                                      "2,60,0.25,0.2\n4,120,0.5,0.4\n")
    arguments = ["--profile", "smoke", "--groups", "loss/smoothness", "--iterations", "4", "--every", "2",
                 "--out", str(tmp_path / "out"), "--runs", str(tmp_path / "runs"), "--default-run", str(default),
                 "--threads", "1"]
    longer.main(arguments)
    table = longer.curves(tmp_path / "out", default)
    assert list(zip(table["group"], table["iteration"])) == [
        ("default", 2), ("default", 4), ("loss/smoothness", 2), ("loss/smoothness", 4)]
    assert table.loc[1, "minutes"] == "2.0" and table.loc[1, "J_best_channel"] == 0.5
    assert (tmp_path / "out" / "summary.md").read_text().count("loss/smoothness") == 2
    # The evaluation at 2 of a 4-iteration run is the table's protocol at a budget of 2.
    run = amdlib.setup("smoke")
    profile = run.profile
    data = AblationData.synthetic(run.datasets, val_root=generate_more_davis(run.data_dir, profile.data, profile.val_videos))
    cell = longer.cells(profile, ["loss/smoothness"], [0])[0]
    short = run_cell(cell, profile, data, tmp_path / "short", tmp_path / "short_runs",
                     profile.ablation.replace(iterations=2, eval_every=2), log=None)
    at_two = pd.read_csv(short / "eval.csv").iloc[-1]
    ours = table[(table["group"] == "loss/smoothness") & (table["iteration"] == 2)].iloc[0]
    assert int(at_two["iteration"]) == 2 and ours["J_best_channel"] == pytest.approx(at_two["J_best_channel"], abs=1e-9)
    # A finished run is kept: a second call trains nothing; --report-only reads what exists.
    longer.main(arguments + ["--report-only"])
    assert "loss/smoothness" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="not a trained non-default variant"):
        longer.cells(profile, ["masks/c=2"], [0])
    with pytest.raises(SystemExit, match="no finished runs"):
        longer.main(["--profile", "smoke", "--report-only", "--out", str(tmp_path / "empty"), "--default-run",
                     str(tmp_path / "none")])


def test_longer_budget_resolution_bound_is_the_truth_seen_through_the_output_grid():
    longer = load("longer_budget")
    # A 16x16 square on the grid keeps its cells, but the bilinear resize rounds its corners: at
    # stride 4 the corner pixel reads 0.625 x 0.625 = 0.39 < 0.5 (1 pixel lost a corner, J
    # 252/256); at stride 8 the six pixels (0.5625 or 0.6875 in) x (0.5625 .. 0.8125 in) whose
    # products fall below 0.5 (6 a corner, J 232/256).
    aligned = torch.zeros(1, 32, 32, dtype=torch.bool)
    aligned[0, 8:24, 8:24] = True
    assert longer.resolution_bound([aligned], (32, 32), 4) == pytest.approx(252 / 256)
    assert longer.resolution_bound([aligned], (32, 32), 8) == pytest.approx(232 / 256)
    assert longer.resolution_bound([aligned], (32, 32), 1) == 1.0
    # One pixel is a sixteenth of a 4x4 cell: the cell averages to 1/16 < 0.5, so
    # the mask is empty and J is 0; an empty truth against an empty mask scores 1.
    dot = torch.zeros(1, 32, 32, dtype=torch.bool)
    dot[0, 5, 5] = True
    assert longer.resolution_bound([dot], (32, 32), 4) == 0.0
    assert longer.resolution_bound([torch.zeros(1, 32, 32, dtype=torch.bool)], (32, 32), 4) == 1.0
    # A 6x6 square at stride 4: its full cell (4:8) is kept; of the half cells around it the
    # bilinear resize keeps part. J lies strictly between 0 and 1, and the finer grid is no worse.
    square = torch.zeros(1, 32, 32, dtype=torch.bool)
    square[0, 3:9, 3:9] = True
    fine, coarse = (longer.resolution_bound([square], (32, 32), s) for s in (2, 4))
    assert 0 < coarse < 1 and fine >= coarse
    # The mean is over videos, not frames.
    two = torch.stack([aligned[0], dot[0]])
    assert longer.resolution_bound([two, aligned], (32, 32), 4) == pytest.approx((252 / 256 / 2 + 252 / 256) / 2)
