"""The motion pathway against an independent, unbatched, loop-by-loop reference."""

import pytest
import torch
import torch.nn.functional as F

from amdlib.config import AMDConfig
from amdlib.model.motion import MotionPathway


def count(module):
    return sum(p.numel() for p in module.parameters())


def test_release_parameter_count():
    assert count(MotionPathway(AMDConfig())) == 1_721_714


def naive_correlation(a, b, d):
    out = torch.zeros(a.shape[0], (2 * d + 1) ** 2, *a.shape[-2:], dtype=a.dtype)
    height, width = a.shape[-2:]
    for i, dy in enumerate(range(-d, d + 1)):
        for j, dx in enumerate(range(-d, d + 1)):
            for y in range(height):
                for x in range(width):
                    if 0 <= y + dy < height and 0 <= x + dx < width:
                        out[:, i * (2 * d + 1) + j, y, x] = (a[:, :, y, x] * b[:, :, y + dy, x + dx]).mean(1)
    return out


def naive_warp(image, flow):
    """Bilinear sampling with border clamping written out with gathers."""
    _, _, height, width = image.shape
    ys, xs = torch.meshgrid(torch.arange(height, dtype=image.dtype), torch.arange(width, dtype=image.dtype), indexing="ij")
    x = (xs + flow[:, 0]).clamp(0, width - 1)
    y = (ys + flow[:, 1]).clamp(0, height - 1)
    x0, y0 = x.floor().clamp(max=width - 2).long(), y.floor().clamp(max=height - 2).long()
    wx, wy = (x - x0).unsqueeze(1), (y - y0).unsqueeze(1)

    def at(yy, xx):
        index = (yy * width + xx).flatten(1).unsqueeze(1).expand(-1, image.shape[1], -1)
        return image.flatten(2).gather(2, index).view_as(image)

    return ((1 - wy) * ((1 - wx) * at(y0, x0) + wx * at(y0, x0 + 1))
            + wy * ((1 - wx) * at(y0 + 1, x0) + wx * at(y0 + 1, x0 + 1)))


def reference_flows(motion, reference_image, source_image, source_masks):
    """docs/method.md section 3 steps 1-8, one direction, one segment at a time."""
    cfg = motion.config
    ref_feats, src_feats = motion.features(reference_image), motion.features(source_image)
    flows, flow, vectors = [], None, None
    for level, (ref, src) in enumerate(zip(ref_feats, src_feats)):
        size = ref.shape[-2:]
        if level == 0:
            flow = torch.zeros(ref.shape[0], 2, *size, dtype=ref.dtype)
            warped = src
        else:
            flow = F.interpolate(flow * 2, size=size, mode="bilinear", align_corners=True)
            vectors = [v * 2 for v in vectors]
            warped = naive_warp(src, flow)
        cost = F.leaky_relu(naive_correlation(ref, warped, cfg.search_range), 0.1)
        motion_feature = motion.estimator(torch.cat((cost, motion.reductions[level](ref), flow), 1))
        masks = F.interpolate(source_masks, size=size, mode="bilinear", align_corners=True)
        new_vectors, flow = [], torch.zeros_like(flow)
        for k in range(masks.shape[1]):
            weight = masks[:, k:k + 1]
            pooled = (motion_feature * weight).sum((2, 3)) / (weight.sum((2, 3)) + cfg.segment_eps)
            head = motion.segment_flow_head
            delta = F.conv2d(F.leaky_relu(F.conv2d(pooled[..., None, None], head.hidden.weight, head.hidden.bias), 0.1),
                             head.out.weight, head.out.bias)[..., 0, 0]
            vector = delta if vectors is None else vectors[k] + delta
            new_vectors.append(vector)
            flow = flow + weight * vector[..., None, None]
        vectors = new_vectors
        flows.append(F.interpolate(flow * 4, scale_factor=4, mode="bilinear", align_corners=True))
    return flows


@pytest.mark.parametrize("config", [AMDConfig(flow_size=(64, 64), num_masks=3),
                                    AMDConfig(flow_size=(32, 48), coarsest_stride=16, num_masks=2)])
def test_batched_motion_pathway_matches_the_reference(config):
    motion = MotionPathway(config).double()
    # Make the flows large enough that warping matters.
    torch.nn.init.normal_(motion.segment_flow_head.out.weight, std=2.0)
    images = torch.rand(2, 3, *config.flow_size, dtype=torch.float64)
    masks = torch.softmax(torch.randn(1, config.num_masks, 5, 7, dtype=torch.float64) * 3, 1)
    features = motion.features(images)
    # Batched as in AMD.forward: element 0 = (ref image 0, source image 1).
    batched = motion([f[0:1] for f in features], [f[1:2] for f in features], masks)
    expected = reference_flows(motion, images[0:1], images[1:2], masks)
    assert len(batched) == len(expected) == len(config.level_strides)
    for ours, theirs in zip(batched, expected):
        assert ours.shape == theirs.shape
        assert torch.allclose(ours, theirs, atol=1e-8)
    assert batched[-1].abs().max() > 1.0


def test_a_single_mask_gives_one_global_flow_per_level():
    config = AMDConfig(flow_size=(32, 32), coarsest_stride=16, num_masks=1)
    motion = MotionPathway(config)
    features = motion.features(torch.rand(2, 3, 32, 32))
    flows = motion([f[:1] for f in features], [f[1:] for f in features], torch.ones(1, 1, 4, 4))
    for flow in flows:
        assert torch.allclose(flow, flow[..., :1, :1].expand_as(flow), atol=1e-5)


def test_flow_sizes_follow_the_levels():
    config = AMDConfig(flow_size=(128, 192))
    motion = MotionPathway(config)
    features = motion.features(torch.rand(1, 3, 128, 192))
    assert [f.shape[-2:] for f in features] == [(2, 3), (4, 6), (8, 12), (16, 24), (32, 48)]
    flows = motion(features, features, torch.rand(1, 5, 16, 16).softmax(1))
    assert [f.shape[-2:] for f in flows] == [(8, 12), (16, 24), (32, 48), (64, 96), (128, 192)]
