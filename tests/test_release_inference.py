"""The release's inference and metric (amdlib.evaluation.release): input size, one ImageNet
normalisation, the object channel, and the pooled mIoU against a naive loop; on project-made
frames and on real DAVIS-2016 frames from ../shared/data (skipped where absent)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from amdlib import AMD, AMDConfig
from amdlib.data import DAVIS2016, generate_all
from amdlib.data.davis import VOSSequence
from amdlib.evaluation.release import release_input_size, release_segment, release_vos_miou
from amdlib.model.appearance import IMAGENET_MEAN, IMAGENET_STD


@pytest.mark.parametrize("size, multiple, expected", [
    ((480, 854), 8, (392, 696)), ((480, 854), 1, (392, 697)),  # DAVIS: 854 * 392 / 480 = 697.4
    ((854, 480), 8, (696, 392)), ((392, 392), 8, (392, 392)), ((100, 300), 1, (392, 1176))])
def test_release_input_size_keeps_the_aspect_with_a_392_short_side(size, multiple, expected):
    assert release_input_size(*size, multiple=multiple) == expected


@pytest.fixture(scope="module")
def model() -> AMD:
    torch.manual_seed(0)
    return AMD(AMDConfig.profile("smoke", num_masks=3)).eval()


def test_release_segment_normalises_once_and_takes_the_object_channel(model):
    """The backbone sees (resized frame - mean) / std exactly once; the result is the chosen
    channel's softmax, resized bilinearly to the annotation size."""
    frames = torch.rand(2, 3, 60, 80)
    seen = []
    handle = model.appearance.backbone.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    probability = release_segment(model, frames, (30, 40), channel=2)
    handle.remove()
    resized = F.interpolate(frames, size=(392, 520), mode="bilinear", align_corners=False).clamp(0, 1)
    mean, std = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    assert torch.allclose(seen[0], (resized - mean) / std, atol=1e-5)
    with torch.no_grad():
        masks = torch.softmax(model.appearance.logits(resized), 1)[:, 2:3]
    expected = F.interpolate(masks, size=(30, 40), mode="bilinear", align_corners=False)[:, 0]
    assert probability.shape == (2, 30, 40) and torch.allclose(probability, expected, atol=1e-6)


def test_release_segment_defaults_to_the_models_object_channel(model):
    frames = torch.rand(1, 3, 40, 40)
    with pytest.raises(ValueError, match="object channel"):
        release_segment(model, frames, (40, 40))
    model.object_channel = 1
    try:
        assert torch.equal(release_segment(model, frames, (40, 40)), release_segment(model, frames, (40, 40), 1))
    finally:
        model.object_channel = None


def naive_release_miou(model: AMD, sequences, channel: int) -> float:
    """Every frame through release_segment one at a time, then one confusion matrix over all pixels."""
    tp = fp = fn = tn = 0
    for sequence in sequences:
        for i in sequence.annotated:
            truth = sequence.mask(i).numpy()
            p = release_segment(model, sequence.frame(i)[None], truth.shape, channel)[0].numpy() > 0.5
            tp += np.sum(p & truth); fp += np.sum(p & ~truth); fn += np.sum(~p & truth); tn += np.sum(~p & ~truth)
    ious = [iou for iou, union in ((tp / max(tp + fp + fn, 1), tp + fp + fn), (tn / max(tn + fn + fp, 1), tn + fn + fp))
            if union]
    return float(np.mean(ious))


def short(sequence: VOSSequence, frames: int) -> VOSSequence:
    return VOSSequence(sequence.name, sequence.frames[:frames],
                       {i: path for i, path in sequence.masks.items() if i < frames})


def test_release_miou_pools_every_frame_of_every_sequence(tmp_path, model):
    sequences = [short(s, 3) for s in DAVIS2016(generate_all(tmp_path, "smoke").davis2016)][:2]
    score = release_vos_miou(model, sequences, channel=0, batch_size=2)
    assert score == pytest.approx(naive_release_miou(model, sequences, 0), abs=1e-12)


@pytest.mark.shared_data
def test_release_miou_on_real_davis2016(shared_data, model):
    davis = DAVIS2016(shared_data / "DAVIS2016-dev", split=None)
    sequences = [short(davis.by_name("blackswan"), 2)]
    score = release_vos_miou(model, sequences, channel=1)
    assert 0.0 <= score <= 1.0
    assert score == pytest.approx(naive_release_miou(model, sequences, 1), abs=1e-12)
