"""Notebook 03's protocol (amdlib.evaluation.vos) end to end: on project-made synthetic sets and on
real DAVIS-2016 frames from ../shared/data (skipped where absent)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from amdlib import AMD, AMDConfig
from amdlib.evaluation.adapt import AdaptConfig
from amdlib.data import DAVIS2016, generate_all
from amdlib.data.davis import VOSSequence
from amdlib.evaluation.channels import CHANNEL_RULES
from amdlib.evaluation.vos import AMD_METHOD, MOTION_METHOD, amd_with_tta, tta_method, vos_table, zero_shot_vos

SIZE = (64, 64)
TTA = AdaptConfig(iterations=2, batch_size=2)


def short(sequence: VOSSequence, frames: int) -> VOSSequence:
    """The first `frames` frames of a sequence (and their annotations)."""
    return VOSSequence(sequence.name, sequence.frames[:frames],
                       {i: path for i, path in sequence.masks.items() if i < frames})


def naive_davis_j(result, channel: int) -> float:
    """DAVIS J of one fixed channel, computed with numpy from the raw masks (independent of
    amdlib.evaluation.metrics): per frame |P & G| / |P | G| (1 when both are empty), mean over frames."""
    scores = []
    for masks, truth in zip(result.masks.numpy(), result.truth.numpy()):
        prediction = masks[channel] > 0.5
        union = np.logical_or(prediction, truth).sum()
        scores.append(1.0 if union == 0 else np.logical_and(prediction, truth).sum() / union)
    return float(np.mean(scores))


def check_protocol(results: dict, model: AMD) -> None:
    """What every run of the protocol must satisfy, whatever the data."""
    methods = results["set"]
    assert list(methods)[:3] == [AMD_METHOD, tta_method(TTA), MOTION_METHOD]
    assert list(methods)[3].startswith("centre prior")
    rows, sequence_rows = vos_table(results)
    masks_per_method = {m: r for m, r in methods.items()}
    c = model.config.num_masks
    assert len(rows) == 2 * len(CHANNEL_RULES) + 2  # two AMD variants x rules, two baselines
    for row in rows:
        for key in ("J (DAVIS mean)", "J (frame mean)", "F (DAVIS mean)"):
            assert 0.0 <= row[key] <= 1.0 and math.isfinite(row[key]), row
    by_key = {(r["method"], r["channel rule"]): r["J (DAVIS mean)"] for r in rows}
    for method in (AMD_METHOD, tta_method(TTA)):
        masks = masks_per_method[method]
        assert masks[0].masks.shape[1] == c and all(m.motion_channel in range(c) for m in masks)
        expected = np.mean([naive_davis_j(m, 0) for m in masks])
        assert by_key[(method, "fixed")] == pytest.approx(expected, abs=1e-6)
        motion_expected = np.mean([naive_davis_j(m, m.motion_channel) for m in masks])
        assert by_key[(method, "motion_contrast_video")] == pytest.approx(motion_expected, abs=1e-6)
        # The per-frame oracle picks the best channel in every frame: nothing beats it.
        assert all(by_key[(method, "oracle_frame")] >= by_key[(method, rule)] - 1e-9 for rule in CHANNEL_RULES)
    names = {r["sequence"] for r in sequence_rows}
    assert names == {m.name for m in methods[AMD_METHOD]}


@pytest.fixture(scope="module")
def smoke_model() -> AMD:
    torch.manual_seed(0)
    return AMD(AMDConfig.profile("smoke")).eval()


def test_protocol_on_synthetic_davis_layout(tmp_path, smoke_model):
    sequences = [short(s, 5) for s in DAVIS2016(generate_all(tmp_path, "smoke").davis2016)]
    results = {"set": zero_shot_vos(smoke_model, sequences, SIZE, TTA)}
    check_protocol(results, smoke_model)
    # TTA adapts copies: the model passed in is left untouched and the run repeats exactly.
    again = zero_shot_vos(smoke_model, sequences, SIZE, TTA)
    for method, masks in results["set"].items():
        for first, second in zip(masks, again[method]):
            assert torch.equal(first.masks, second.masks), method


def test_protocol_without_tta_has_no_tta_rows(tmp_path, smoke_model):
    sequences = [short(s, 3) for s in DAVIS2016(generate_all(tmp_path, "smoke").davis2016)][:1]
    methods = zero_shot_vos(smoke_model, sequences, SIZE, AdaptConfig(iterations=0))
    assert list(methods)[:2] == [AMD_METHOD, MOTION_METHOD]


@pytest.mark.shared_data
def test_protocol_on_real_davis2016(shared_data, smoke_model):
    """A short version of notebook 03 on two real DAVIS-2016 val sequences (6 frames each, the
    model at 64x64, flow for the baseline at 1/4 size, 2 TTA iterations)."""
    davis = DAVIS2016(shared_data / "DAVIS2016-dev", split=None)
    sequences = [short(davis.by_name(name), 6) for name in ("car-shadow", "blackswan")]
    results = {"set": zero_shot_vos(smoke_model, sequences, SIZE, TTA, motion_scale=0.25)}
    check_protocol(results, smoke_model)
    rows, _ = vos_table(results)
    j = {r["method"]: r["J (DAVIS mean)"] for r in rows if r["channel rule"] in ("-", "fixed")}
    centre = next(v for k, v in j.items() if k.startswith("centre prior"))
    # Real video with a moving camera: the classical baseline finds the moving objects
    # (measured 0.56 on car-shadow alone, tests/test_baselines.py), and beats an empty mask.
    assert j[MOTION_METHOD] > 0.3, j
    assert 0.0 < centre < 1.0


def test_tta_per_dataset_adapts_one_model_to_all_videos(tmp_path, smoke_model):
    """Per dataset: one adapted copy segments every video, so adapting to the set and then
    segmenting one video equals what per-video TTA gives only when the set is that one video."""
    sequences = [short(s, 4) for s in DAVIS2016(generate_all(tmp_path, "smoke").davis2016)]
    together = amd_with_tta(smoke_model, sequences, SIZE, TTA, unit="dataset")
    alone = amd_with_tta(smoke_model, sequences, SIZE, TTA, unit="video")
    single = amd_with_tta(smoke_model, sequences[:1], SIZE, TTA, unit="dataset")
    assert torch.equal(single[0].masks, alone[0].masks)
    assert not torch.equal(together[0].masks, alone[0].masks)
    assert tta_method(TTA, "dataset") == "AMD + TTA (2 it) per dataset"
    with pytest.raises(ValueError, match="TTA unit"):
        amd_with_tta(smoke_model, sequences, SIZE, TTA, unit="frame")


def test_tta_adapts_at_its_own_size_and_segments_at_the_evaluation_size(tmp_path, smoke_model, monkeypatch):
    """AdaptConfig.size: the videos handed to `adapt` are resized to it, while the masks come at
    the segmentation size; without it, adaptation uses the segmentation size."""
    import amdlib.evaluation.vos as protocols

    seen = []

    def recording_adapt(model, videos, config):
        seen.append([tuple(v.shape[-2:]) for v in videos])
        return model

    monkeypatch.setattr(protocols, "adapt", recording_adapt)
    sequences = [short(s, 3) for s in DAVIS2016(generate_all(tmp_path, "smoke").davis2016)]
    masks = amd_with_tta(smoke_model, sequences, (64, 64), AdaptConfig(iterations=1, size=(32, 48)))
    assert seen == [[(32, 48)]] * len(sequences)
    assert masks[0].masks.shape[-2:] == masks[0].truth.shape[-2:]
    seen.clear()
    amd_with_tta(smoke_model, sequences, (64, 64), AdaptConfig(iterations=1))
    assert seen == [[(64, 64)]] * len(sequences)
