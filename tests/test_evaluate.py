from types import SimpleNamespace

import pytest
import torch

from amdlib.evaluation.centre_prior import centre_disk, centre_prior_j
from amdlib.evaluation.channels import SequenceMasks, channel_scores, foreground
from amdlib.evaluation.predict import motion_contrast_channel, segment_vectors
from amdlib.evaluation.vos_metrics import channel_jaccard, jaccard


def test_jaccard_by_hand():
    prediction = torch.tensor([[1, 1, 0], [0, 0, 0]], dtype=torch.bool)
    truth = torch.tensor([[1, 0, 0], [1, 0, 0]], dtype=torch.bool)
    assert jaccard(prediction, truth).item() == pytest.approx(1 / 3)
    empty = torch.zeros(2, 3, dtype=torch.bool)
    assert jaccard(empty, empty).item() == 1.0
    assert jaccard(prediction, empty).item() == 0.0


def test_channel_jaccard_resizes_masks_to_the_truth():
    masks = torch.zeros(1, 2, 2, 2)
    masks[0, 0, :, :1] = 1.0  # left half
    masks[0, 1] = 1 - masks[0, 0]
    truth = torch.zeros(1, 4, 4, dtype=torch.bool)
    truth[0, :, :2] = True
    j = channel_jaccard(masks, truth)
    assert j[0, 0] == 1.0 and j[0, 1] == 0.0


def test_centre_disk_and_prior():
    disk = centre_disk(9, 9, 0.2)  # radius 1.8 px around the centre pixel
    assert disk[4, 4] and disk[3, 3] and not disk[4, 6] and disk.sum() == 9  # the 3x3 block (diagonal 1.41 px)
    truth = centre_disk(20, 20, 0.3).unsqueeze(0)
    best = centre_prior_j([truth])
    assert best["radius"] == pytest.approx(0.3) and best["J"] == pytest.approx(1.0)


def make_sequence(name, object_channel, frames=3):
    truth = torch.zeros(frames, 8, 8, dtype=torch.bool)
    truth[:, 2:5, 2:5] = True  # 9 of 64 pixels
    masks = torch.zeros(frames, 2, 8, 8)
    masks[:, object_channel] = truth.float()
    masks[:, 1 - object_channel] = 1 - truth.float()
    return SequenceMasks(name, masks, truth)


def test_channel_rules_on_hand_made_masks():
    # The object is in channel 0 in one video and channel 1 in the other.
    scores = channel_scores([make_sequence("a", 0), make_sequence("b", 1)])
    background_j = 0.0  # the background channel never overlaps the object
    assert scores.per_channel == pytest.approx([(1 + background_j) / 2, (background_j + 1) / 2])
    assert scores.best_channel_j == pytest.approx(0.5)
    assert scores.oracle_j == pytest.approx(1.0)
    assert scores.smallest_area_j == pytest.approx(1.0)  # the object is the smaller segment
    assert scores.smallest_area_video_j == pytest.approx(1.0)
    assert scores.per_sequence == {"a": [1.0, 0.0], "b": [0.0, 1.0]}
    row = scores.as_row()
    assert row["J_channel_0"] == pytest.approx(0.5) and "J_centre_prior" in row


def test_smallest_area_ignores_nearly_empty_channels():
    sequence = make_sequence("a", 0)
    masks = torch.zeros(3, 3, 8, 8)
    masks[:, :2] = sequence.masks
    masks[:, 2, 0, 0] = 1.0  # one pixel: below the 2 % floor
    masks[:, 1, 0, 0] = 0.0
    scores = channel_scores([SequenceMasks("a", masks, sequence.truth)])
    assert scores.smallest_area_j == pytest.approx(1.0)


def test_foreground_rules_pick_the_expected_channel():
    from amdlib.evaluation.channels import foreground, vos_scores

    results = [make_sequence("a", 0), make_sequence("b", 1)]
    fixed = foreground(results, "fixed", channel=1)
    assert torch.equal(fixed[0], results[0].masks[:, 1]) and torch.equal(fixed[1], results[1].masks[:, 1])
    for rule in ("smallest_area_video", "smallest_area_frame", "oracle_frame"):
        chosen = foreground(results, rule)
        assert all(torch.equal(c > 0.5, r.truth) for c, r in zip(chosen, results)), rule
    assert vos_scores(results, "oracle_frame").j_davis_mean == pytest.approx(1.0)
    assert vos_scores(results, "fixed", 0).j_davis_mean == pytest.approx(0.5)
    with pytest.raises(ValueError, match="unknown channel rule"):
        foreground(results, "largest")


def test_saliency_rules():
    from amdlib.evaluation.channels import saliency_scores

    truth = torch.zeros(8, 8, dtype=torch.bool)
    truth[2:5, 2:5] = True
    maps = torch.stack([1 - truth.float(), truth.float()])
    channel_maps = [(maps, truth)] * 2
    assert saliency_scores(channel_maps, "fixed", 1)["mae"] == pytest.approx(0.0)
    assert saliency_scores(channel_maps, "smallest_area")["channel"] == 1
    assert saliency_scores(channel_maps, "best_fixed")["channel"] == 1
    assert saliency_scores(channel_maps, "fixed", 0)["mae"] == pytest.approx(1.0)


def test_segment_vectors_by_hand():
    flow = torch.zeros(1, 2, 4, 4)
    flow[0, 0, :, :2] = 2.0  # left half moves down by 2
    masks = torch.zeros(1, 2, 4, 4)
    masks[0, 0, :, :2] = 1.0
    masks[0, 1, :, 2:] = 1.0
    vectors, area = segment_vectors(flow, masks)
    assert torch.allclose(vectors[0], torch.tensor([[2.0, 0.0], [0.0, 0.0]]))
    assert torch.allclose(area[0], torch.tensor([0.5, 0.5]))


class _FixedMotionModel(torch.nn.Module):
    """Stands in for AMD: three segments with fixed areas and motions, whatever the frames.
    Channel 0 covers 70 % of the frame and is still; channel 1 moves by `fast`, channel 2 by 0.5."""

    def __init__(self, areas=(0.7, 0.15, 0.15), fast=3.0):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(()))
        self.areas, self.fast = areas, fast

    def forward(self, pairs):
        batch = pairs.shape[0]
        masks = torch.zeros(batch, 2, 3, 20, 20)
        rows = [round(a * 20) for a in self.areas]
        flow = torch.zeros(batch, 2, 2, 20, 20)
        start = 0
        for k, (rows_k, speed) in enumerate(zip(rows, (0.0, self.fast, 0.5))):
            masks[:, :, k, start:start + rows_k] = 1.0
            flow[:, 0, 1, start:start + rows_k] = speed
            start += rows_k
        return SimpleNamespace(masks=masks, flow_masks=masks, flows=[flow])


class _Frames:
    name = "fake"

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def frame(self, index):
        return torch.full((3, 8, 8), index / self.n)


def test_motion_contrast_picks_the_segment_moving_unlike_the_background():
    assert motion_contrast_channel(_FixedMotionModel(), _Frames(5)) == 1
    # A channel too small to be an object is not chosen, however fast it moves.
    assert motion_contrast_channel(_FixedMotionModel(areas=(0.85, 0.0, 0.15)), _Frames(5)) == 2
    # The background is the largest segment, wherever it sits.
    assert motion_contrast_channel(_FixedMotionModel(areas=(0.15, 0.15, 0.7), fast=0.5), _Frames(3)) == 0
    with pytest.raises(ValueError, match="fake: motion contrast needs at least two frames"):
        motion_contrast_channel(_FixedMotionModel(), _Frames(1))


def test_motion_contrast_rule_in_scores_and_foreground():
    results = [make_sequence("a", 0), make_sequence("b", 1)]
    with pytest.raises(ValueError, match="attach_motion_channels"):
        foreground(results, "motion_contrast_video")
    assert channel_scores(results).motion_contrast_j is None
    results[0].motion_channel, results[1].motion_channel = 0, 0  # right for a, wrong for b
    scores = channel_scores(results)
    j_wrong = jaccard(results[1].masks[:, 0] > 0.5, results[1].truth).mean().item()
    assert scores.motion_contrast_j == pytest.approx((1.0 + j_wrong) / 2)
    assert scores.as_row()["J_motion_contrast_video"] == pytest.approx(scores.motion_contrast_j)
    chosen = foreground(results, "motion_contrast_video")
    assert torch.equal(chosen[1], results[1].masks[:, 0])


def _with_motion_channels(channels, num_masks=3):
    results = []
    for i, channel in enumerate(channels):
        result = SequenceMasks(f"v{i}", torch.zeros(2, num_masks, 4, 4), torch.zeros(2, 4, 4, dtype=torch.bool))
        result.motion_channel = channel
        results.append(result)
    return results


def test_dataset_object_channel_is_the_majority_of_the_motion_channels():
    from amdlib.evaluation.channels import dataset_object_channel

    assert dataset_object_channel(_with_motion_channels([2, 1, 2, 0, 2])) == 2
    assert dataset_object_channel(_with_motion_channels([1])) == 1
    # Ties go to the lowest index, whatever the order of the videos.
    assert dataset_object_channel(_with_motion_channels([2, 1, 1, 2])) == 1
    assert dataset_object_channel(_with_motion_channels([2, 0, 1])) == 0


def test_dataset_object_channel_needs_every_motion_channel():
    from amdlib.evaluation.channels import dataset_object_channel

    results = _with_motion_channels([1, None, 1])
    with pytest.raises(ValueError, match="v1: no motion channel; call attach_motion_channels"):
        dataset_object_channel(results)
    with pytest.raises(ValueError, match="no results"):
        dataset_object_channel([])
    # One channel: it is the object, motion channel or not.
    assert dataset_object_channel(_with_motion_channels([None, None], num_masks=1)) == 0


def test_dataset_object_channel_from_model_runs_motion_contrast_per_sequence(monkeypatch):
    import amdlib.evaluation.predict as evaluate

    sequences = [SimpleNamespace(name=f"s{i}") for i in range(5)]
    scripted = dict(zip(["s0", "s1", "s2", "s3", "s4"], [2, 0, 2, 0, 1]))  # tie 2 / 0 -> 0
    calls = []

    def fake(model, sequence, input_size=None):
        calls.append((sequence.name, input_size))
        return scripted[sequence.name]

    monkeypatch.setattr(evaluate, "motion_contrast_channel", fake)
    model = SimpleNamespace(config=SimpleNamespace(num_masks=3))
    assert evaluate.dataset_object_channel_from_model(model, sequences, (32, 48)) == 0
    assert calls == [(f"s{i}", (32, 48)) for i in range(5)]
    calls.clear()
    assert evaluate.dataset_object_channel_from_model(SimpleNamespace(config=SimpleNamespace(num_masks=1)),
                                                      sequences, (32, 48)) == 0
    assert calls == []  # c = 1 needs no motion pathway
    with pytest.raises(ValueError, match="no sequences"):
        evaluate.dataset_object_channel_from_model(model, [], (32, 48))


def test_dataset_object_channel_from_model_with_a_stand_in_model():
    from amdlib.evaluation.predict import dataset_object_channel_from_model

    model = _FixedMotionModel(areas=(0.85, 0.0, 0.15))
    model.config = SimpleNamespace(num_masks=3)
    assert dataset_object_channel_from_model(model, [_Frames(3), _Frames(4)]) == 2


def test_rules_from_per_channel_scores_pick_what_the_masks_pick():
    """`picked_channels` on `SequenceScores` equals `foreground` on the masks for every rule,
    on hand-made masks where the rules disagree (object in channel 0, then 1; a third channel
    nearly empty)."""
    from amdlib.evaluation.channels import (CHANNEL_RULES, best_fixed_channel, picked_channels,
                                            scores_of_masks)

    results = [make_sequence("a", 0), make_sequence("b", 1)]
    results[1].masks[1, :, 0, 0] = 1.0  # frame 1 of b: a stray pixel on top of the object channel
    for result, motion in zip(results, (0, 1)):
        result.motion_channel = motion
    scores = [scores_of_masks(r) for r in results]
    assert best_fixed_channel(scores) == channel_scores(results).best_channel
    for rule in CHANNEL_RULES:
        channel = best_fixed_channel(scores) if rule == "best_fixed" else 1
        for result, score, chosen in zip(results, scores, foreground(results, rule, channel=1)):
            picks = picked_channels(score, rule, channel)
            assert torch.equal(result.masks[torch.arange(len(picks)), picks], chosen), rule
    with pytest.raises(ValueError, match="unknown channel rule"):
        picked_channels(scores[0], "largest")


def test_dataset_object_channel_reads_sequence_scores_too():
    from amdlib.evaluation.channels import dataset_object_channel, scores_of_masks

    results = [make_sequence(f"v{i}", 1) for i in range(3)]
    for result, motion in zip(results, (1, 1, 0)):
        result.motion_channel = motion
    assert dataset_object_channel([scores_of_masks(r) for r in results]) == dataset_object_channel(results) == 1
