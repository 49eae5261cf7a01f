"""The ablation table's seed runs (amdlib.ablation_runs) and the table's early verdict."""

import json
import math

import pandas as pd
import pytest
import torch

import amdlib.ablation_runs as ablation_runs
from amdlib.ablation_runs import Cell, missing_cells, read_cell_runs, run_cell, run_folder
from amdlib.ablations import ABLATIONS, AblationData, Variant, family_variants
from amdlib.config import profile
from amdlib.data import DAVIS2016, generate_all
from amdlib.reports.headline import headline_lines
from amdlib.reports.seed_runs import against_the_default, seeds_of
from amdlib.training.train import train, training_pairs

SMOKE = profile("smoke")
BUDGET = SMOKE.ablation.replace(iterations=3, tta_iterations=1)  # evaluations at 2 and 3 (eval_every 2)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return AblationData.synthetic(generate_all(tmp_path_factory.mktemp("data"), "smoke"))


def test_missing_cells_lists_each_absent_seed_once_the_default_first():
    variants = [(f, v) for f in ABLATIONS for v in family_variants(f, SMOKE) if not v.is_reference(SMOKE)]
    cells = missing_cells(SMOKE, {"masks/c=3": {0}, "flow/dense": {0, 1}}, default_seeds={1}, seeds=2)
    assert [(c.group, c.seed) for c in cells if c.is_default] == [(cells[0].group, 0)]  # once, not per family
    assert cells[0].is_default and cells[0].seed == 0
    rest = [(c.group, c.seed) for c in cells[1:]]
    assert ("masks/c=3", 0) not in rest and ("masks/c=3", 1) in rest
    assert not any(g == "flow/dense" for g, _ in rest)
    # Every other non-default variant, both seeds: 2 per variant, minus c=3's seed 0 and dense's two.
    assert len(rest) == 2 * len(variants) - 3
    assert "backbone/resnet50" not in {g for g, _ in rest}  # a paper-only variant
    nothing = missing_cells(SMOKE, {f"{f}/{v.name}": {0, 1} for f, v in variants}, {0, 1}, seeds=2)
    assert nothing == []


def test_run_folder_layout():
    cell = Cell("masks", Variant("c=3", {"num_masks": 3}), 2, False)
    assert run_folder("r", cell).as_posix() == "r/masks/c=3/seed_2"
    assert run_folder("r", Cell("flow", Variant("segment"), 1, True)).as_posix() == "r/default/seed_1"


def test_run_cell_trains_scores_and_is_read_back(tmp_path, data):
    cell = Cell("masks", Variant("c=3", {"num_masks": 3}), 1, False)
    folder = run_cell(cell, SMOKE, data, tmp_path / "results", tmp_path / "runs", BUDGET, log=None)
    evaluations = pd.read_csv(folder / "eval.csv")
    assert evaluations["iteration"].tolist() == [2, 3]  # every eval_every iterations, and at the end
    for column in ("J_best_channel", "J_motion_contrast_video", "J_centre_prior"):
        assert evaluations[column].between(0, 1).all(), column
    settings = json.loads((folder / "run.json").read_text())
    assert settings["model"]["num_masks"] == 3 and settings["train"]["seed"] == 1 and settings["iterations"] == 3
    assert (tmp_path / "runs" / "masks" / "c=3" / "seed_1" / "checkpoint.pt").is_file()
    assert not (folder / "checkpoint.pt").exists()  # results hold no weights
    assert (folder / "masks.png").is_file()

    stamp = (folder / "run.json").stat().st_mtime_ns
    assert run_cell(cell, SMOKE, data, tmp_path / "results", tmp_path / "runs", BUDGET, log=None) == folder
    assert (folder / "run.json").stat().st_mtime_ns == stamp  # finished: not redone

    longer = BUDGET.replace(iterations=4)
    with pytest.raises(RuntimeError, match="shorter than this budget's 4"):
        run_cell(cell, SMOKE, data, tmp_path / "results", tmp_path / "runs", longer, log=None)

    read = read_cell_runs(tmp_path / "results")
    assert list(read) == ["masks/c=3"] and seeds_of(read["masks/c=3"]) == {1}
    assert read["masks/c=3"][0]["train_minutes"].tolist() == pytest.approx(
        (evaluations["train_seconds"] / 60).tolist())


def test_an_interrupted_cell_resumes_to_the_same_weights(tmp_path, data, monkeypatch):
    cell = Cell("loss", Variant("l1_only", {"l1_weight": 1.0, "ssim_weight": 0.0}), 0, False)
    real = ablation_runs.train

    def interrupted(*args, **kwargs):
        real(*args, **kwargs, stop_after=1)
        raise KeyboardInterrupt

    monkeypatch.setattr(ablation_runs, "train", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_cell(cell, SMOKE, data, tmp_path / "a", tmp_path / "a_runs", BUDGET, log=None)
    assert not (run_folder(tmp_path / "a", cell) / "run.json").exists()
    monkeypatch.setattr(ablation_runs, "train", real)
    run_cell(cell, SMOKE, data, tmp_path / "a", tmp_path / "a_runs", BUDGET, log=None)
    run_cell(cell, SMOKE, data, tmp_path / "b", tmp_path / "b_runs", BUDGET, log=None)
    weights = [torch.load(run_folder(tmp_path / r, cell) / "checkpoint.pt", weights_only=True)["model"]
               for r in ("a_runs", "b_runs")]
    for name in weights[0]:
        assert torch.equal(weights[0][name], weights[1][name]), name


def test_a_tta_cell_adapts_the_default_model_of_its_seed(tmp_path, data):
    cell = Cell("tta", Variant("with", tta=True), 0, False)
    folder = run_cell(cell, SMOKE, data, tmp_path / "results", tmp_path / "runs", BUDGET, log=None)
    assert (tmp_path / "runs" / "default" / "seed_0" / "checkpoint.pt").is_file()  # the default's training
    row = pd.read_csv(folder / "eval.csv")
    assert row["iteration"].tolist() == [3] and math.isfinite(row["J_best_channel"].iloc[0])
    assert json.loads((folder / "run.json").read_text())["tta"]["iterations"] == 1
    assert (folder / "masks.png").is_file()  # the adapted models' masks, drawn before they are dropped
    assert not (tmp_path / "results" / "default").exists()  # the default's run is not published by it
    shorter = BUDGET.replace(iterations=2)  # the default's training holds 3 iterations: not a 2-iteration model
    with pytest.raises(ValueError, match="holds 3 iterations, more than this budget's 2"):
        run_cell(cell, SMOKE, data, tmp_path / "other", tmp_path / "runs", shorter, log=None)


def test_an_interrupted_tta_cell_resumes_by_video_to_the_same_scores(tmp_path, data, monkeypatch):
    cell = Cell("tta", Variant("with", tta=True), 0, False)
    whole = run_cell(cell, SMOKE, data, tmp_path / "whole", tmp_path / "runs", BUDGET, log=None)
    assert not (run_folder(tmp_path / "runs", cell) / "tta_videos").exists()  # dropped once scored
    real, adapted = ablation_runs.amd_with_tta, []

    def adapt_one_then_stop(model, sequences, *args, **kwargs):
        if adapted:
            raise KeyboardInterrupt
        adapted.append(sequences[0].name)
        return real(model, sequences, *args, **kwargs)

    monkeypatch.setattr(ablation_runs, "amd_with_tta", adapt_one_then_stop)
    with pytest.raises(KeyboardInterrupt):
        run_cell(cell, SMOKE, data, tmp_path / "resumed", tmp_path / "runs", BUDGET, log=None)
    kept = run_folder(tmp_path / "runs", cell) / "tta_videos"
    assert [p.stem for p in kept.glob("*.pt")] == adapted  # the finished video is kept
    assert not (run_folder(tmp_path / "resumed", cell) / "run.json").exists()

    redone = []

    def adapt_and_record(model, sequences, *args, **kwargs):
        redone.append(sequences[0].name)
        return real(model, sequences, *args, **kwargs)

    monkeypatch.setattr(ablation_runs, "amd_with_tta", adapt_and_record)
    resumed = run_cell(cell, SMOKE, data, tmp_path / "resumed", tmp_path / "runs", BUDGET, log=None)
    names = [s.name for s in DAVIS2016(data.val_root, split=data.val_split)]
    assert len(names) > 1 and redone == names[1:]  # the kept video is read back, not adapted again
    a, b = (pd.read_csv(f / "eval.csv").drop(columns=["tta_seconds", "train_seconds"]) for f in (whole, resumed))
    pd.testing.assert_frame_equal(a, b)  # every channel's J, as in the uninterrupted run


def _pixels(png) -> tuple[int, int]:
    """(height, width) of a saved figure."""
    import matplotlib.image as mpimg

    height, width = mpimg.imread(png).shape[:2]
    return height, width


def test_save_run_masks_draws_a_finished_run_that_lacks_one(tmp_path, data):
    results, runs = tmp_path / "results", tmp_path / "runs"
    two = Cell("masks", Variant("c=2"), 0, True)
    four = Cell("masks", Variant("c=4", {"num_masks": 4}), 0, False)
    for cell in (two, four):
        run_cell(cell, SMOKE, data, results, runs, BUDGET, log=None)
        (run_folder(results, cell) / "masks.png").unlink()
        assert ablation_runs.save_run_masks(cell, SMOKE, data, results, runs) == run_folder(results, cell) / "masks.png"
        assert ablation_runs.save_run_masks(cell, SMOKE, data, results, runs) is None  # already there
    # One row per video, one column per frame, truth and mask: 4 masks make 6 columns against 4.
    (h2, w2), (h4, w4) = (_pixels(run_folder(results, c) / "masks.png") for c in (two, four))
    assert abs(h2 - h4) <= 2 and 1.3 < w4 / w2 < 1.6
    (run_folder(results, four) / "masks.png").unlink()
    model_config, train_config = four.variant.configs(SMOKE, seed=0, iterations=4, eval_every=2)
    pairs = training_pairs(data.train_root, data.train_split, train_config)
    train(model_config, train_config, pairs, run_folder(runs, four), resume=True)  # on past the scored 3
    assert ablation_runs.save_run_masks(four, SMOKE, data, results, runs) is None
    (run_folder(runs, four) / "checkpoint.pt").unlink()
    assert ablation_runs.save_run_masks(four, SMOKE, data, results, runs) is None  # no weights: nothing to draw
    unfinished = Cell("masks", Variant("c=3", {"num_masks": 3}), 0, False)
    assert ablation_runs.save_run_masks(unfinished, SMOKE, data, results, runs) is None


def test_mask_images_gives_each_group_its_lowest_seed_in_the_table_order(tmp_path):
    for folder in ("flow/dense/seed_2", "flow/dense/seed_10", "masks/c=3/seed_1", "default/seed_1",
                   "masks/c=5/seed_0", "masks/c=3/seed_0"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "masks.png").write_bytes(b"")
    (tmp_path / "loss" / "l1_only" / "seed_0").mkdir(parents=True)  # no masks.png: left out
    assert {k: v.relative_to(tmp_path).as_posix() for k, v in ablation_runs.mask_images(tmp_path).items()} == {
        "default seed 1": "default/seed_1/masks.png", "masks/c=3 seed 0": "masks/c=3/seed_0/masks.png",
        "masks/c=5 seed 0": "masks/c=5/seed_0/masks.png", "flow/dense seed 2": "flow/dense/seed_2/masks.png"}
    assert list(ablation_runs.mask_images(tmp_path)) == [  # ABLATIONS lists masks before flow
        "default seed 1", "masks/c=3 seed 0", "masks/c=5 seed 0", "flow/dense seed 2"]


def _run(seed: int, values: dict[int, float]) -> pd.DataFrame:
    return pd.DataFrame({"iteration": list(values), "train_minutes": [1.0] * len(values),
                         "J_best_channel": list(values.values()), "J_motion_contrast_video": list(values.values()),
                         "seed": seed})


def test_the_early_verdict_reads_every_seed_at_that_iteration():
    default = [_run(0, {1000: 0.50, 1611: 0.55}), _run(1, {1000: 0.47, 1611: 0.60})]
    committed = {"masks/c=3": [_run(0, {1000: 0.40, 1611: 0.52}), _run(1, {1000: 0.42, 1611: 0.50})],
                 "flow/dense": [_run(0, {587: 0.15}), _run(1, {587: 0.14})]}
    variants = [("masks", "c=2", True), ("masks", "c=3", False), ("flow", "dense", False)]
    table = against_the_default(variants, default, committed, early=1000).set_index("variant")
    # Final: c=3 0.50-0.52 lies below 0.55-0.60; at 1,000: 0.40-0.42 below 0.47-0.50.
    assert table.loc["c=3", "verdict"] == "lower beyond the spread"
    assert table.loc["c=3", "verdict at 1000 it"] == "lower beyond the spread"
    assert table.loc["dense", "verdict at 1000 it"] == ""  # no evaluation at 1,000
    assert table.loc["c=2 (default)", "verdict at 1000 it"] == "the default"
    overlapping = {"masks/c=3": [_run(0, {1000: 0.45, 1611: 0.58}), _run(1, {1000: 0.49, 1611: 0.56})]}
    table = against_the_default(variants[:2], default, overlapping, early=1000).set_index("variant")
    assert table.loc["c=3", "verdict"] == "within the spread"
    assert table.loc["c=3", "verdict at 1000 it"] == "within the spread"
    assert "verdict at 1000 it" not in against_the_default(variants[:2], default, overlapping).columns


def test_the_table_reads_every_seed_at_the_budget_and_leaves_out_runs_without_it():
    default = [_run(0, {500: 0.30, 1000: 0.50, 1611: 0.55}), _run(1, {500: 0.32, 1000: 0.47, 1611: 0.60}),
               _run(2, {500: 0.20, 1000: 0.49, 1611: 0.58})]
    committed = {"masks/c=3": [_run(0, {500: 0.10, 1000: 0.40}), _run(1, {500: 0.12, 1000: 0.48}),
                               _run(2, {500: 0.11})]}  # seed 2 stopped before 1,000
    variants = [("masks", "c=2", True), ("masks", "c=3", False)]
    table = against_the_default(variants, default, committed, at=1000, early=500).set_index("variant")
    assert table.loc["c=2 (default)", "J_min"] == 0.47 and table.loc["c=2 (default)", "J_max"] == 0.50
    assert table.loc["c=3", "seeds"] == 2 and table.loc["c=3", "J_mean"] == pytest.approx(0.44)
    assert table.loc["c=3", "iterations"] == 1000
    assert table.loc["c=3", "verdict"] == "within the spread"  # 0.40-0.48 meets 0.47-0.50
    assert table.loc["c=3", "verdict at 500 it"] == "lower beyond the spread"  # the two counted: 0.10-0.12 < 0.20
    last = against_the_default(variants, default, committed).set_index("variant")  # each run's last evaluation
    assert last.loc["c=2 (default)", "J_mean"] == pytest.approx((0.55 + 0.60 + 0.58) / 3)
    assert last.loc["c=3", "seeds"] == 3


def test_the_headline_names_the_budget_and_each_measured_variant(tmp_path):
    default = [_run(s, {500: 0.3, 1000: j}) for s, j in enumerate((0.50, 0.47, 0.49))]
    committed = {"flow/dense": [_run(s, {500: 0.1, 1000: 0.15}) for s in range(3)],
                 "masks/c=1": [_run(0, {1000: 0.12})]}
    variants = [("masks", "c=1", False), ("masks", "c=2", True), ("masks", "c=3", False), ("flow", "dense", False)]
    (tmp_path / "tables").mkdir()
    against_the_default(variants, default, committed, at=1000).to_csv(
        tmp_path / "tables" / "05_ablations_seed_spread.csv", index=False)
    assert headline_lines(tmp_path)[2] == (
        "| ablations (J over 3 seeds at 1,000 iterations, against the default's range) | default 0.487 "
        "(0.470-0.500) | lower beyond the spread: flow/dense 0.150; one seed: no verdict: masks/c=1 0.120 (1 seed); "
        "not run yet: 1 of 3 variants |")
