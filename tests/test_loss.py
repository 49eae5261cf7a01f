import math

import pytest
import torch

from amdlib.config import AMDConfig
from amdlib.model.loss import SSIM_C1, SSIM_C2, amd_loss, photometric_loss, smoothness_loss, ssim_distance


def zero_flows(batch, height, width, scales=5):
    return [torch.zeros(batch, 2, 2, height >> s, width >> s) for s in range(scales)]


def test_identical_frames_with_zero_flow_cost_nothing():
    frame = torch.rand(2, 3, 32, 48)
    terms = amd_loss(frame, frame.clone(), zero_flows(2, 32, 48), AMDConfig())
    assert terms.total.item() < 1e-6
    assert torch.equal(terms.visible, torch.ones(2, 2, 1, 32, 48))


def test_ssim_distance_by_hand_on_a_3x3_patch():
    x = torch.zeros(1, 1, 3, 3)
    x[0, 0, 1, 1] = 1.0
    y = torch.zeros(1, 1, 3, 3)
    # mu_x = 1/9, E[x^2] = 1/9, sigma_x = 1/9 - 1/81 = 8/81; y is all zero.
    ssim = (SSIM_C1 * SSIM_C2) / ((1 / 81 + SSIM_C1) * (8 / 81 + SSIM_C2))
    out = ssim_distance(x, y)
    assert out.shape == (1, 1, 1, 1)
    assert math.isclose(out.item(), (1 - ssim) / 2, rel_tol=1e-5)
    assert ssim_distance(x, x).abs().max() < 1e-6


def test_photometric_loss_by_hand_on_uniform_images():
    a, delta = 0.4, 0.1
    image = torch.full((1, 3, 5, 5), a, dtype=torch.float64)
    reconstruction = torch.full((1, 3, 5, 5), a + delta, dtype=torch.float64)
    visible = torch.ones(1, 1, 5, 5, dtype=torch.float64)
    ssim = (2 * a * (a + delta) + SSIM_C1) / (a**2 + (a + delta) ** 2 + SSIM_C1)
    expected = 0.15 * delta + 0.85 * (1 - ssim) / 2
    assert math.isclose(photometric_loss(image, reconstruction, visible).item(), expected, rel_tol=1e-5)


def test_occluded_pixels_do_not_count_and_the_rest_is_renormalised():
    image = torch.zeros(1, 3, 4, 4)
    reconstruction = image.clone()
    reconstruction[..., :, 2:] = 1.0  # wrong only on the right half
    visible = torch.zeros(1, 1, 4, 4)
    visible[..., :, :2] = 1.0
    assert photometric_loss(image, reconstruction, visible, 1.0, 0.0).item() == 0.0
    visible_all = torch.ones(1, 1, 4, 4)
    # L1 part: mean error 0.5 over the image, mean(O) = 1.
    assert math.isclose(photometric_loss(image, reconstruction, visible_all, 1.0, 0.0).item(), 0.5)


def test_true_flow_beats_zero_flow_on_a_shifted_pair():
    torch.manual_seed(1)
    frame1 = torch.nn.functional.avg_pool2d(torch.rand(1, 3, 36, 52), 5, 1)[..., :32, :48]
    frame2 = torch.roll(frame1, shifts=2, dims=-1)  # content moves 2 px right
    true = []
    for s in range(5):
        flow = torch.zeros(1, 2, 2, 32 >> s, 48 >> s)
        flow[:, 0, 0] = 2.0 / 2**s   # frame 1 finds its content 2 px right in frame 2
        flow[:, 1, 0] = -2.0 / 2**s
        true.append(flow)
    config = AMDConfig()
    assert amd_loss(frame1, frame2, true, config).total < 0.5 * amd_loss(frame1, frame2, zero_flows(1, 32, 48), config).total


def test_scale_weights_select_scales():
    frame1, frame2 = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    flows = zero_flows(1, 32, 32)
    full = amd_loss(frame1, frame2, flows, AMDConfig())
    finest_only = amd_loss(frame1, frame2, flows, AMDConfig(scale_weights=(1.0,)))
    assert torch.isclose(finest_only.total, full.photometric[0])
    assert torch.isclose(full.total, sum(full.photometric[:4]))
    assert full.photometric[4] == 0


def test_smoothness_is_off_by_default_and_adds_when_on():
    frame1, frame2 = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    flows = [torch.randn(1, 2, 2, 32 >> s, 32 >> s) for s in range(5)]
    off = amd_loss(frame1, frame2, flows, AMDConfig())
    on = amd_loss(frame1, frame2, flows, AMDConfig(smooth_weight=50.0))
    assert off.smoothness == 0 and on.smoothness > 0
    assert torch.isclose(on.total, off.total + 50.0 * on.smoothness)


def test_smoothness_by_hand():
    flow = torch.zeros(1, 2, 2, 3)
    flow[0, 0, :, 2] = 1.0  # one jump of 1 between columns 1 and 2 in x component
    image = torch.zeros(1, 3, 2, 3)
    # dx terms: 2 channels x 2 rows x 2 columns = 8 entries, two of them 1 -> mean(|dx|/2) = 2/8/2.
    assert math.isclose(smoothness_loss(flow, image, 10.0).item(), (2 / 8 / 2) / 2)


def test_a_weighted_scale_too_small_for_ssim_is_a_clear_error():
    frame = torch.rand(1, 3, 16, 16)
    with pytest.raises(ValueError, match="too small"):
        amd_loss(frame, frame, zero_flows(1, 16, 16), AMDConfig())


def test_per_pair_normalisation_is_the_mean_of_single_pair_losses():
    torch.manual_seed(2)
    frame1, frame2 = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    flows = [torch.randn(2, 2, 2, 32 >> s, 32 >> s) * 3 for s in range(5)]
    config = AMDConfig(per_pair_normalization=True)
    both = amd_loss(frame1, frame2, flows, config).total
    singles = [amd_loss(frame1[i:i + 1], frame2[i:i + 1], [f[i:i + 1] for f in flows], config).total for i in range(2)]
    assert torch.isclose(both, (singles[0] + singles[1]) / 2, atol=1e-6)
    # The release's batch-level normalisation differs when the pairs' visible fractions differ.
    release = amd_loss(frame1, frame2, flows, AMDConfig()).total
    assert not torch.isclose(release, both, atol=1e-6)
