import pytest
import torch

from amdlib import AMD, AMDConfig
from amdlib.evaluation.adapt import AdaptConfig, adapt, channel_areas, sample_pairs, video_loss


def moving_square_video(frames=6, size=32):
    torch.manual_seed(5)
    background = torch.nn.functional.avg_pool2d(torch.rand(3, size + 4, size + 4), 5, 1)
    texture = torch.rand(3, 8, 8)
    video = []
    for t in range(frames):
        frame = background.clone()
        frame[:, 10:18, 4 + 2 * t:12 + 2 * t] = texture
        video.append(frame)
    return torch.stack(video)


@pytest.fixture
def model():
    torch.manual_seed(0)
    return AMD(AMDConfig.profile("smoke", flow_size=(32, 32)))


def test_adaptation_copies_and_leaves_the_input_model_alone(model):
    before = {k: v.clone() for k, v in model.state_dict().items()}
    adapted = adapt(model, [moving_square_video()], AdaptConfig(iterations=2, batch_size=2, lr=1e-3))
    assert adapted is not model and not adapted.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    changed = [k for k, v in adapted.state_dict().items() if not torch.equal(before[k], v)]
    assert any(k.startswith("appearance.") for k in changed) and any(k.startswith("motion.") for k in changed)


def test_zero_iterations_is_the_identity(model):
    adapted = adapt(model, [moving_square_video()], AdaptConfig(iterations=0))
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), adapted.state_dict().values()))


def test_adaptation_is_seeded(model):
    video = [moving_square_video()]
    config = AdaptConfig(iterations=2, batch_size=2, lr=1e-3, seed=3)
    first, second = adapt(model, video, config), adapt(model, video, config)
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))


def test_pairs_come_from_consecutive_frames_and_need_two_frames():
    video = torch.arange(5.0).view(5, 1, 1, 1).expand(5, 3, 2, 2)
    pairs = sample_pairs([video], batch_size=6, gap=2, generator=torch.Generator().manual_seed(0))
    assert pairs.shape == (6, 2, 3, 2, 2)
    assert torch.equal(pairs[:, 1, 0, 0, 0] - pairs[:, 0, 0, 0, 0], torch.full((6,), 2.0))
    with pytest.raises(ValueError, match="more than 1 frames"):
        sample_pairs([video[:1]], 1, 1, torch.Generator())


def same_weights(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_channel_areas_are_the_mean_masks_and_sum_to_one(model):
    video = moving_square_video()
    model.train()
    areas = channel_areas(model, [video, video[:3]])
    assert model.training  # left in the mode it was in
    model.eval()
    with torch.no_grad():
        masks = torch.cat([model.segment(video), model.segment(video[:3])]).double()
    assert torch.allclose(areas, masks.mean(dim=(0, 2, 3)))
    assert float(areas.sum()) == pytest.approx(1.0)  # the c masks are a softmax over channels


def test_checks_draw_no_randomness_and_trace_every_check(model):
    video = [moving_square_video()]
    config = AdaptConfig(iterations=4, batch_size=2, lr=1e-3, seed=1, check_every=2)
    trace = []
    plain = adapt(model, video, config)
    selected = adapt(model, video, AdaptConfig(**{**config.__dict__, "select_by_loss": True}), trace=trace)
    assert [row["iteration"] for row in trace] == [0, 2, 4]
    assert trace[0]["areas"] == pytest.approx(channel_areas(model, video).tolist())
    # the last check saw the unguarded run's final weights: checking changed nothing on the way
    assert trace[2]["loss"] == pytest.approx(video_loss(plain, video), rel=1e-6)
    best = min(range(3), key=lambda i: trace[i]["loss"])
    assert video_loss(selected, video) == pytest.approx(trace[best]["loss"], rel=1e-5)


def test_video_loss_is_the_mean_loss_of_every_pair(model):
    video = moving_square_video(frames=4)
    model.eval()
    with torch.no_grad():  # naive reference: each pair (t, t + 2) alone
        expected = sum(float(model(torch.stack((video[t], video[t + 2]))[None]).loss) for t in range(2)) / 2
    model.train()
    assert video_loss(model, [video], gap=2) == pytest.approx(expected, rel=1e-6)
    assert model.training


def test_selection_by_loss_returns_the_checked_weights_with_the_lowest_video_loss(model):
    video = [moving_square_video()]
    trace = []
    chosen = adapt(model, video, AdaptConfig(iterations=4, batch_size=2, lr=1e-3, select_by_loss=True,
                                             check_every=1), trace=trace)
    losses = [row["loss"] for row in trace]
    assert [row["iteration"] for row in trace] == [0, 1, 2, 3, 4] and len(set(losses)) == 5
    assert video_loss(chosen, video) == pytest.approx(min(losses), rel=1e-5)
