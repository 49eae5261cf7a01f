"""Notebook 03's protocol (amdlib.evaluation.vos) end to end: on project-made synthetic sets and on
real DAVIS-2016 frames from ../shared/data (skipped where absent). Scored one sequence at a time,
it must give what the masks of the whole set, held at once, give."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch

from amdlib import AMD, AMDConfig
from amdlib.evaluation.adapt import AdaptConfig
from amdlib.data import DAVIS2016, generate_all
from amdlib.data.davis import VOSSequence
from amdlib.evaluation.baselines import motion_sequence_masks
from amdlib.evaluation.centre_prior import centre_prior_j, centre_prior_masks
from amdlib.evaluation.channels import CHANNEL_RULES, dataset_object_channel, foreground, vos_scores
from amdlib.evaluation.predict import attach_motion_channels, segment_sequences, single_channel
from amdlib.evaluation.vos import (AMD_METHOD, MOTION_METHOD, amd_with_tta, default_fixed_channel, tta_method,
                                   vos_table, zero_shot_vos)

SIZE = (64, 64)
TTA = AdaptConfig(iterations=2, batch_size=2)
MOTION_SCALE = 0.25


def short(sequence: VOSSequence, frames: int) -> VOSSequence:
    """The first `frames` frames of a sequence (and their annotations)."""
    return VOSSequence(sequence.name, sequence.frames[:frames],
                       {i: path for i, path in sequence.masks.items() if i < frames})


def naive_davis_j(result, channel: int) -> float:
    """DAVIS J of one fixed channel, computed with numpy from the raw masks (independent of
    amdlib.evaluation.vos_metrics): per frame |P & G| / |P | G| (1 when both are empty), mean over frames."""
    scores = []
    for masks, truth in zip(result.masks.numpy(), result.truth.numpy()):
        prediction = masks[channel] > 0.5
        union = np.logical_or(prediction, truth).sum()
        scores.append(1.0 if union == 0 else np.logical_and(prediction, truth).sum() / union)
    return float(np.mean(scores))


def naive_pooled_miou(predictions, truths) -> float:
    """Background and foreground IoU of one confusion matrix over all frames, with numpy."""
    p = np.concatenate([np.asarray(x).ravel() for x in predictions]) > 0.5
    t = np.concatenate([np.asarray(x).ravel() for x in truths]).astype(bool)
    ious = [np.sum(a & b) / np.sum(a | b) for a, b in ((p, t), (~p, ~t)) if np.sum(a | b)]
    return float(np.mean(ious))


def all_at_once(model: AMD, sequences, tta_unit: str = "video") -> dict:
    """Every method's masks of the whole set held at once (the independent reference):
    {method: list of SequenceMasks}."""
    amd = attach_motion_channels(model, sequences, segment_sequences(model, sequences, SIZE), SIZE)
    methods = {AMD_METHOD: amd, tta_method(TTA, tta_unit): amd_with_tta(model, sequences, SIZE, TTA, tta_unit),
               MOTION_METHOD: motion_sequence_masks(sequences, scale=MOTION_SCALE)}
    radius = centre_prior_j([r.truth for r in amd])["radius"]
    methods[f"centre prior (r={radius:.2f})"] = [single_channel(s.name, centre_prior_masks(s, radius), r.truth)
                                                 for s, r in zip(sequences, amd)]
    return methods


def check_equals_all_at_once(results: dict, reference: dict, fixed_channel: int) -> None:
    """Per-sequence scoring gives the rows the masks of the whole set give: every rule's J in
    both conventions, F and the pooled mIoU, per set and per sequence."""
    rows, sequence_rows = vos_table({"set": results}, fixed_channel)
    assert list(results) == list(reference)
    by_key = {(r["method"], r["channel rule"]): r for r in rows}
    for method, masks in reference.items():
        rules = list(CHANNEL_RULES) if masks[0].masks.shape[1] > 1 else ["fixed"]
        for rule in rules:
            channel = fixed_channel if len(rules) > 1 else 0
            expected = vos_scores(masks, rule, channel)
            row = by_key[(method, rule if len(rules) > 1 else "-")]
            assert row["J (DAVIS mean)"] == pytest.approx(expected.j_davis_mean, abs=1e-12), (method, rule)
            assert row["J (frame mean)"] == pytest.approx(expected.j_frame_mean, abs=1e-12), (method, rule)
            assert row["F (DAVIS mean)"] == pytest.approx(expected.f_davis_mean, abs=1e-12), (method, rule)
            chosen = foreground(masks, rule, channel)
            miou = naive_pooled_miou([c.numpy() for c in chosen], [m.truth.numpy() for m in masks])
            assert row["mIoU (release, pooled)"] == pytest.approx(miou, abs=1e-12), (method, rule)
            mine = [r for r in sequence_rows if r["method"] == method and r["channel rule"] == row["channel rule"]]
            theirs = expected.sequence_rows()
            assert [r["j_mean"] for r in mine] == pytest.approx([r["j_mean"] for r in theirs], abs=1e-12)


def check_protocol(results: dict, model: AMD) -> None:
    """What every run of the protocol must satisfy, whatever the data."""
    methods = results["set"]
    assert list(methods)[:3] == [AMD_METHOD, tta_method(TTA), MOTION_METHOD]
    assert list(methods)[3].startswith("centre prior")
    rows, sequence_rows = vos_table(results, 0)
    c = model.config.num_masks
    assert len(rows) == 2 * len(CHANNEL_RULES) + 2  # two AMD variants x rules, two baselines
    for row in rows:
        for key in ("J (DAVIS mean)", "J (frame mean)", "F (DAVIS mean)", "mIoU (release, pooled)"):
            assert 0.0 <= row[key] <= 1.0 and math.isfinite(row[key]), row
        assert row["s / frame"] > 0, row
    for method in (AMD_METHOD, tta_method(TTA)):
        scores = methods[method]
        assert scores[0].channels == c and all(s.motion_channel in range(c) for s in scores)
        by_rule = {r["channel rule"]: r["J (DAVIS mean)"] for r in rows if r["method"] == method}
        # The per-frame oracle picks the best channel in every frame: nothing beats it.
        assert all(by_rule["oracle_frame"] >= by_rule[rule] - 1e-9 for rule in CHANNEL_RULES)
    names = {r["sequence"] for r in sequence_rows}
    assert names == {s.name for s in methods[AMD_METHOD]}


@pytest.fixture(scope="module")
def smoke_model() -> AMD:
    torch.manual_seed(0)
    model = AMD(AMDConfig.profile("smoke")).eval()
    with torch.no_grad():  # a classifier bias that splits the frame between the two channels
        model.appearance.head.classifier.bias.copy_(torch.tensor([0.3, -0.3]))
    return model


def test_protocol_scored_per_sequence_equals_the_masks_of_the_whole_set(tmp_path, smoke_model):
    sequences = [short(s, 5) for s in DAVIS2016(generate_all(tmp_path, "smoke").davis2016)]
    results = zero_shot_vos(smoke_model, sequences, SIZE, TTA, motion_scale=MOTION_SCALE)
    check_protocol({"set": results}, smoke_model)
    reference = all_at_once(smoke_model, sequences)
    for fixed in (0, 1):
        check_equals_all_at_once(results, reference, fixed)
    # The fixed and motion-contrast rules also against numpy on the raw masks.
    rows, _ = vos_table({"set": results}, 0)
    by_key = {(r["method"], r["channel rule"]): r["J (DAVIS mean)"] for r in rows}
    for method in (AMD_METHOD, tta_method(TTA)):
        masks = reference[method]
        assert by_key[(method, "fixed")] == pytest.approx(np.mean([naive_davis_j(m, 0) for m in masks]), abs=1e-6)
        assert by_key[(method, "motion_contrast_video")] == pytest.approx(
            np.mean([naive_davis_j(m, m.motion_channel) for m in masks]), abs=1e-6)
    # TTA adapts copies: the model passed in is left untouched and the run repeats exactly.
    again = zero_shot_vos(smoke_model, sequences, SIZE, TTA, motion_scale=MOTION_SCALE)
    for method, scores in results.items():
        for first, second in zip(scores, again[method]):
            assert torch.equal(first.j, second.j) and torch.equal(first.counts, second.counts), method


def test_protocol_keeps_scores_and_only_the_masks_asked_for(tmp_path, smoke_model):
    sequences = [short(s, 3) for s in DAVIS2016(generate_all(tmp_path, "smoke").davis2016)][:2]
    kept = sequences[1].name
    results = zero_shot_vos(smoke_model, sequences, SIZE, TTA, keep_masks=[kept])
    for method, scores in results.items():
        assert [s.masks is not None for s in scores] == [False, True], method
        assert all(not isinstance(v, torch.Tensor) or v.dim() <= 3 for s in scores for v in vars(s).values())
    reference = segment_sequences(smoke_model, sequences[1:2], SIZE)[0]
    assert torch.equal(results[AMD_METHOD][1].masks.masks, reference.masks)
    assert results[AMD_METHOD][1].masks.motion_channel == results[AMD_METHOD][1].motion_channel


def test_protocol_per_dataset_tta_equals_the_masks_of_the_whole_set(tmp_path, smoke_model):
    sequences = [short(s, 4) for s in DAVIS2016(generate_all(tmp_path, "smoke").davis2016)][:2]
    results = zero_shot_vos(smoke_model, sequences, SIZE, TTA, motion_scale=MOTION_SCALE, tta_unit="dataset")
    check_equals_all_at_once(results, all_at_once(smoke_model, sequences, "dataset"), 0)


def test_fixed_channel_defaults_to_the_models_object_channel(tmp_path, smoke_model):
    """Released weights name their object channel (1): the fixed rule uses it unless told
    otherwise; a model without one gets the label-free motion-contrast majority."""
    sequences = [short(s, 3) for s in DAVIS2016(generate_all(tmp_path, "smoke").davis2016)][:2]
    none = AdaptConfig(iterations=0)
    plain = {"set": zero_shot_vos(smoke_model, sequences, SIZE, none)}
    assert default_fixed_channel(plain) == dataset_object_channel(plain["set"][AMD_METHOD])
    named = copy.deepcopy(smoke_model)
    named.object_channel = 1
    results = {"set": zero_shot_vos(named, sequences, SIZE, none)}
    assert default_fixed_channel(results) == 1
    fixed = lambda rows: next(r for r in rows if r["method"] == AMD_METHOD and r["channel rule"] == "fixed")
    assert fixed(vos_table(results)[0]) == fixed(vos_table(results, 1)[0])
    assert fixed(vos_table(results, 0)[0])["J (DAVIS mean)"] != fixed(vos_table(results, 1)[0])["J (DAVIS mean)"]


def test_protocol_without_tta_has_no_tta_rows(tmp_path, smoke_model):
    sequences = [short(s, 3) for s in DAVIS2016(generate_all(tmp_path, "smoke").davis2016)][:1]
    methods = zero_shot_vos(smoke_model, sequences, SIZE, AdaptConfig(iterations=0))
    assert list(methods)[:2] == [AMD_METHOD, MOTION_METHOD]


@pytest.mark.shared_data
def test_protocol_on_real_davis2016(shared_data, smoke_model):
    """A short version of notebook 03 on two real DAVIS-2016 val sequences (6 frames each, the
    model at 64x64, flow for the baseline at 1/4 size, 2 TTA iterations), scored per sequence
    and equal to the masks of the whole set."""
    davis = DAVIS2016(shared_data / "DAVIS2016-dev", split=None)
    sequences = [short(davis.by_name(name), 6) for name in ("car-shadow", "blackswan")]
    results = {"set": zero_shot_vos(smoke_model, sequences, SIZE, TTA, motion_scale=MOTION_SCALE)}
    check_protocol(results, smoke_model)
    check_equals_all_at_once(results["set"], all_at_once(smoke_model, sequences), 0)
    rows, _ = vos_table(results, 0)
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
