"""Ablations (issue 5): the dense-flow variant of the model, the variant table, the cached runner."""

import dataclasses
import json
import math

import pandas as pd
import pytest
import torch

import amdlib.ablations as ablations
from amdlib import AMD, AMDConfig
from amdlib.reports.ablation_figures import ablation_figure, save_ablation_figure, seed_spread_figure
from amdlib.ablations import (ABLATIONS, AblationData, Variant, ablation_table,
                              family_variants, run_variant)
from amdlib.config import PROFILES
from amdlib.data import generate_all
from amdlib.model.motion import MotionPathway
from amdlib.config import AblationBudget, TrainConfig, profile
from amdlib.config import profile as named

SMOKE = named("smoke")


# ---------------------------------------------------------------------------------------------
# Dense per-pixel flow instead of segment flow (AMDConfig.segment_flow=False, docs/method.md section 3).

def gradients(config: AMDConfig):
    model = AMD(config).train()
    output = model(torch.rand(2, 2, 3, 64, 64))
    (mask_grad,) = torch.autograd.grad(output.loss, output.masks, retain_graph=True, allow_unused=True)
    output.loss.backward()
    return model, output, mask_grad


def test_dense_flow_trains_the_motion_pathway_but_sends_no_gradient_to_the_masks():
    model, output, mask_grad = gradients(AMDConfig.profile("smoke", segment_flow=False))
    assert torch.isfinite(output.loss)
    assert mask_grad is None or torch.count_nonzero(mask_grad) == 0
    assert all(p.grad is None or torch.count_nonzero(p.grad) == 0 for p in model.appearance.parameters())
    assert all(p.grad is not None for p in model.motion.estimator.parameters())
    assert torch.count_nonzero(model.motion.segment_flow_head.out.weight.grad) > 0
    # The flows are per-pixel: not one vector per segment.
    assert [tuple(f.shape) for f in output.flows] == [(2, 2, 2, 64 // 2**s, 64 // 2**s) for s in range(3)]


def test_segment_flow_default_sends_gradient_to_the_masks():
    model, _, mask_grad = gradients(AMDConfig.profile("smoke"))
    assert mask_grad is not None and torch.count_nonzero(mask_grad) > 0
    assert torch.count_nonzero(model.appearance.head.classifier.weight.grad) > 0


def test_dense_flow_ignores_the_masks():
    motion = MotionPathway(AMDConfig.profile("smoke", segment_flow=False)).eval()
    images = torch.rand(4, 3, 64, 64)
    features = motion.features(images)
    reference, source = [f[:2] for f in features], [f[2:] for f in features]
    one = motion(reference, source, torch.rand(2, 2, 16, 16).softmax(1))
    other = motion(reference, source, torch.rand(2, 2, 16, 16).softmax(1))
    for a, b in zip(one, other):
        assert torch.equal(a, b)
    segment = MotionPathway(AMDConfig.profile("smoke")).eval()
    segment.load_state_dict(motion.state_dict())  # same weights, so only the bottleneck differs
    assert not torch.equal(segment(reference, source, torch.rand(2, 2, 16, 16).softmax(1))[-1], one[-1])


@pytest.mark.parametrize("profile", ["smoke", "paper"])
def test_dense_flow_adds_no_parameters(profile):
    """The release's checkpoint names (tests/test_checkpoint.py) stay exactly as they were."""
    segment = AMD(AMDConfig.profile(profile)).state_dict()
    dense = AMD(AMDConfig.profile(profile, segment_flow=False)).state_dict()
    assert {k: v.shape for k, v in segment.items()} == {k: v.shape for k, v in dense.items()}
    if profile == "paper":
        assert sum(p.numel() for p in MotionPathway(AMDConfig(segment_flow=False)).parameters()) == 1_721_714


# ---------------------------------------------------------------------------------------------
# The variant table.

@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_family_has_exactly_one_default_and_every_override_is_a_config_field(name):
    profile = named(name)
    for family in ABLATIONS:
        variants = family_variants(family, profile)
        assert len(variants) >= 2, family
        assert sum(v.is_reference(profile) for v in variants) == 1, family
        names = [v.name for v in variants]
        assert len(set(names)) == len(names) and all("/" not in n for n in names)
        for variant in variants:
            model, schedule = variant.configs(profile)  # raises on an unknown or invalid field
            assert {k: getattr(model, k) for k in variant.model} == dict(variant.model)
            assert {k: getattr(schedule, k) for k in variant.train} == dict(variant.train)


def test_families_cover_the_issue():
    assert [v.model["num_masks"] for v in ABLATIONS["masks"]] == [1, 2, 3, 5, 8]
    assert {v.name for v in ABLATIONS["loss"]} >= {"l1_only", "ssim_only", "smoothness", "no_occlusion"}
    assert any(v.model.get("segment_flow") is False for v in ABLATIONS["flow"])
    assert any(v.train.get("flip") for v in ABLATIONS["augmentation"])
    assert any(v.tta for v in ABLATIONS["tta"])
    assert {v.model["backbone"] for v in family_variants("backbone", named("cpu"))} == {"small", "resnet18"}
    with pytest.raises(ValueError, match="unknown ablation family"):
        family_variants("nope", named("cpu"))


def test_budgets_are_iterations_and_equal_for_every_variant():
    assert profile("smoke").ablation.iterations == 3 and profile("smoke").ablation.sweep
    cpu = profile("cpu")
    # 1,000 iterations for every variant, the default's runs of the table included (docs/method.md section 9)
    assert cpu.ablation.iterations == 1000 < cpu.train.iterations and not cpu.ablation.sweep
    for family in ABLATIONS:
        for variant in family_variants(family, cpu):
            config = variant.configs(cpu, iterations=cpu.ablation.iterations)[1]
            assert config == cpu.train.replace(iterations=1000, **variant.train), variant.name
            assert config.iterations == 1000, (family, variant.name)
    assert cpu.ablation.replace(iterations=5).iterations == 5
    assert cpu.ablation.replace(iterations=None) == cpu.ablation  # None: the profile's value
    assert not hasattr(AblationBudget(iterations=1, tta_iterations=1), "seconds")


# ---------------------------------------------------------------------------------------------
# The runner: end to end on the smoke data, cached, shared trainings.

@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return AblationData.synthetic(generate_all(tmp_path_factory.mktemp("data"), "smoke"))


@pytest.fixture
def counted_train(monkeypatch):
    calls = []
    real = ablations.train

    def train(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(ablations, "train", train)
    return calls


def test_run_variant_end_to_end_then_cached_then_retrained_when_settings_change(tmp_path, data, counted_train):
    budget = profile("smoke").ablation.replace(iterations=2)
    row = run_variant("flow", Variant("segment"), SMOKE, data, tmp_path, budget)
    assert not row["cached"] and row["reference"] and row["iterations"] == 2 and len(counted_train) == 1
    for key in ("J_label_free", "J_best_channel", "J_oracle_frame", "J_centre_prior", "train_seconds"):
        assert math.isfinite(row[key]) and row[key] >= 0, key
    assert 0 <= row["J_label_free"] <= row["J_oracle_frame"] <= 1
    assert json.loads((tmp_path / "flow" / "segment" / "row.json").read_text())["J_best_channel"] == row["J_best_channel"]

    again = run_variant("flow", Variant("segment"), SMOKE, data, tmp_path, budget)
    assert again["cached"] and len(counted_train) == 1
    assert {k: again[k] for k in ablations.ROW_COLUMNS} == {k: row[k] for k in ablations.ROW_COLUMNS}

    # Same training under another family's name: a new row, the training is reused.
    shared = run_variant("loss", Variant("release"), SMOKE, data, tmp_path, budget)
    assert not shared["cached"] and shared["run"] == row["run"] and len(counted_train) == 1
    assert shared["J_best_channel"] == row["J_best_channel"]

    run_dir = tmp_path / "runs" / row["run"]
    assert sorted(p.name for p in run_dir.iterdir() if p.suffix in (".pt", ".json")) == ["done.json", "model.pt"]

    longer = run_variant("flow", Variant("segment"), SMOKE, data, tmp_path, dataclasses.replace(budget, iterations=3))
    assert not longer["cached"] and longer["iterations"] == 3 and len(counted_train) == 2
    reseeded = run_variant("flow", Variant("segment"), SMOKE, data, tmp_path, budget, seed=1)
    assert not reseeded["cached"] and len(counted_train) == 3 and counted_train[-1].seed == 1
    averaged = run_variant("flow", Variant("segment"), SMOKE, data, tmp_path, dataclasses.replace(budget, ema_decay=0.5))
    assert not averaged["cached"] and len(counted_train) == 4 and counted_train[-1].ema_decay == 0.5
    assert counted_train[0].ema_decay == TrainConfig.profile("smoke").ema_decay  # None: the profile's


def test_an_interrupted_training_resumes_to_the_same_weights(tmp_path, data, monkeypatch):
    budget = profile("smoke").ablation.replace(iterations=3)
    real = ablations.train

    def interrupted(*args, **kwargs):
        real(*args, **kwargs, stop_after=1)
        raise KeyboardInterrupt

    monkeypatch.setattr(ablations, "train", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_variant("flow", Variant("segment"), SMOKE, data, tmp_path / "a", budget)
    monkeypatch.setattr(ablations, "train", real)
    resumed = run_variant("flow", Variant("segment"), SMOKE, data, tmp_path / "a", budget)
    straight = run_variant("flow", Variant("segment"), SMOKE, data, tmp_path / "b", budget)
    assert resumed["iterations"] == straight["iterations"] == 3
    weights = [torch.load(tmp_path / d / "runs" / r["run"] / "model.pt", weights_only=True)["model"]
               for d, r in (("a", resumed), ("b", straight))]
    for name in weights[0]:
        assert torch.equal(weights[0][name], weights[1][name]), name


def test_tta_and_dense_variants_run(tmp_path, data, counted_train):
    budget = profile("smoke").ablation.replace(iterations=2, tta_iterations=1)
    without = run_variant("tta", Variant("without"), SMOKE, data, tmp_path, budget)
    adapted = run_variant("tta", Variant("with", tta=True), SMOKE, data, tmp_path, budget)
    assert len(counted_train) == 1 and adapted["run"] == without["run"]  # the same trained model
    assert adapted["tta_iterations"] == 1 and not adapted["reference"] and math.isfinite(adapted["J_label_free"])
    dense = run_variant("flow", Variant("dense", {"segment_flow": False}), SMOKE, data, tmp_path, budget)
    assert len(counted_train) == 2 and math.isfinite(dense["J_best_channel"])


def test_same_seed_gives_every_variant_the_same_data_order():
    for family in ABLATIONS:
        for variant in ABLATIONS[family]:
            schedule = variant.configs(named("cpu"), seed=3)[1]
            assert schedule.seed == 3 and schedule.batch_size == TrainConfig.profile("cpu").batch_size


def test_table_and_figure_from_rows(tmp_path):
    rows = pd.DataFrame([
        {"family": "masks", "variant": f"c={c}", "change": f"num_masks={c}", "reference": c == 2, "iterations": 10,
         "train_seconds": 1.23, "tta_iterations": 0, "J_label_free": 0.1 * c, "J_best_channel": 0.12 * c,
         "J_oracle_frame": 0.5, "J_centre_prior": 0.13} for c in (1, 2, 3)])
    table = ablation_table(rows)
    assert list(table.columns) == ["family", "variant", "change", "J (label-free)", "J best channel",
                                   "training s", "iterations"]
    assert table["variant"].tolist() == ["c=1", "c=2 (default)", "c=3"]
    figure = ablation_figure(rows, "masks")
    assert len(figure.axes[0].patches) == 6
    import matplotlib.pyplot as plt
    plt.close(figure)
    assert save_ablation_figure(rows, "masks", tmp_path).name == "05_ablation_masks.png"
    assert save_ablation_figure(rows, "loss", tmp_path) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["05_ablation_masks.png"]
    plt.close("all")


def test_seed_spread_figure_draws_one_error_bar_per_variant_with_runs():
    import matplotlib.pyplot as plt

    table = pd.DataFrame([
        {"family": "m", "variant": "a (default)", "seeds": 3, "J_mean": 0.55, "J_min": 0.5, "J_max": 0.6,
         "verdict": "the default"},
        {"family": "m", "variant": "b", "seeds": 3, "J_mean": 0.14, "J_min": 0.13, "J_max": 0.15,
         "verdict": "lower beyond the spread"},
        {"family": "m", "variant": "c", "seeds": 0, "J_mean": None, "J_min": None, "J_max": None, "verdict": "not run"}])
    figure = seed_spread_figure(table)
    axis = figure.axes[0]
    assert len(axis.containers) == 2  # error bars for a and b, none for c
    low, high = axis.containers[1].lines[2][0].get_segments()[0][:, 0]
    assert (low, high) == pytest.approx((0.13, 0.15))
    assert [t.get_text() for t in axis.texts] == ["not run"]
    plt.close("all")
