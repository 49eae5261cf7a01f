import pytest
import torch

from amdlib import AMD, AMDConfig
from amdlib.evaluation.adapt import AdaptConfig, adapt, sample_pairs


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
