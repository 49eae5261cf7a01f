import torch

from amdlib.model.segment_flow import SegmentFlowHead, masked_average_pool, segment_flow_field


def test_masked_average_pool_matches_a_loop():
    features, masks = torch.rand(2, 5, 4, 6), torch.rand(2, 3, 4, 6)
    pooled = masked_average_pool(features, masks, eps=0.0)
    for b in range(2):
        for k in range(3):
            expected = (features[b] * masks[b, k]).sum((1, 2)) / masks[b, k].sum()
            assert torch.allclose(pooled[b, k], expected, atol=1e-6)


def test_empty_segment_stays_finite():
    masks = torch.zeros(1, 2, 3, 3)
    masks[:, 0] = 1.0
    pooled = masked_average_pool(torch.rand(1, 4, 3, 3), masks)
    assert torch.isfinite(pooled).all() and torch.equal(pooled[0, 1], torch.zeros(4))


def test_one_hot_masks_give_one_constant_vector_per_segment():
    labels = torch.tensor([[0, 0, 1], [2, 1, 1]])
    masks = torch.nn.functional.one_hot(labels, 3).permute(2, 0, 1).unsqueeze(0).float()
    vectors = torch.tensor([[[1.0, -1.0], [2.0, 0.5], [-3.0, 4.0]]])
    flow = segment_flow_field(masks, vectors)
    assert flow.shape == (1, 2, 2, 3)
    for y in range(2):
        for x in range(3):
            assert torch.equal(flow[0, :, y, x], vectors[0, labels[y, x]])


def test_soft_masks_give_the_convex_combination():
    masks = torch.softmax(torch.randn(1, 3, 4, 5), dim=1)
    vectors = torch.randn(1, 3, 2)
    flow = segment_flow_field(masks, vectors)
    expected = sum(masks[0, k] * vectors[0, k].view(2, 1, 1) for k in range(3))
    assert torch.allclose(flow[0], expected, atol=1e-6)
    # Inside the hull of the vectors: each component between its min and max over segments.
    assert (flow[0, 0] <= vectors[0, :, 0].max() + 1e-6).all()
    assert (flow[0, 0] >= vectors[0, :, 0].min() - 1e-6).all()


def test_segment_flow_head_is_applied_per_segment():
    head = SegmentFlowHead(96, 64)
    pooled = torch.randn(2, 4, 96)
    out = head(pooled)
    assert out.shape == (2, 4, 2)
    one = head(pooled[1:2, 2:3])
    assert torch.allclose(out[1, 2], one[0, 0], atol=1e-6)
