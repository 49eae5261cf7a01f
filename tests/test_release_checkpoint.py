"""Released-format checkpoints: a full training step under both flow-input resizes, the object
channel they record, and the amdlib -> release renaming. The state dicts come from the published
key file (../shared, skipped where absent) and from an amdlib model renamed to release names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from amdlib import AMD, AMDConfig, load_checkpoint, save_checkpoint
from amdlib.io.checkpoint import (RELEASE_OBJECT_CHANNEL, amdlib_state_dict_to_release,
                                  convert_release_state_dict)

KEY_FILE = Path(__file__).resolve().parents[2] / "shared" / "official_checkpoint_keys.json"
FLOW_SIZE = (64, 128)


def tensor_for(name: str, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    """A plausible tensor for a release parameter: small random weights, unit BatchNorm variance."""
    if name.endswith("num_batches_tracked"):
        return torch.zeros(shape, dtype=torch.long)
    if name.endswith("running_var"):
        return torch.ones(shape)
    if name.endswith("running_mean") or (".bn" in name or "downsample.1" in name) and name.endswith("bias"):
        return torch.zeros(shape)
    return 0.05 * torch.randn(shape, generator=generator)


@pytest.fixture(scope="module")
def key_file_state_dict() -> dict[str, torch.Tensor]:
    if not KEY_FILE.is_file():
        pytest.skip(f"published key file not found at {KEY_FILE}")
    shapes = json.loads(KEY_FILE.read_text())["state_dict"]
    generator = torch.Generator().manual_seed(0)
    return {name: tensor_for(name, tuple(shape), generator) for name, shape in shapes.items()}


@pytest.fixture(scope="module")
def converted_state_dict() -> dict[str, torch.Tensor]:
    """An amdlib ResNet-50 model's weights under the release's names (no shared data needed)."""
    torch.manual_seed(0)
    return amdlib_state_dict_to_release(AMD(AMDConfig(flow_size=FLOW_SIZE)).state_dict())


def save_release(state_dict: dict[str, torch.Tensor], path: Path) -> Path:
    torch.save({"meta": {"mmcv_version": "1.2.0"}, "state_dict": state_dict}, path)
    return path


def step(model: AMD, frames: torch.Tensor) -> tuple[float, torch.Tensor]:
    """(loss, all gradients flattened) of one training-mode step, dropout seeded."""
    model.train()
    torch.manual_seed(0)
    loss = model(frames).loss
    grads = torch.autograd.grad(loss, [p for p in model.parameters()], allow_unused=True)
    flat = torch.cat([(g if g is not None else torch.zeros_like(p)).flatten()
                      for g, p in zip(grads, model.parameters())])
    return loss.item(), flat


def resize_settings_differ(path: Path) -> tuple[float, float]:
    """(|loss difference|, L2-relative gradient difference) between align_corners True (the
    release's resize, what a released file loads with) and False, on the same frames."""
    release = load_checkpoint(path, flow_size=FLOW_SIZE)
    assert release.config.flow_resize_align_corners is True
    other = load_checkpoint(path, flow_size=FLOW_SIZE, flow_resize_align_corners=False)
    frames = torch.rand(2, 2, 3, 48, 80, generator=torch.Generator().manual_seed(1))
    loss_true, grad_true = step(release, frames)
    loss_false, grad_false = step(other, frames)
    for loss, grad in ((loss_true, grad_true), (loss_false, grad_false)):
        assert torch.isfinite(torch.tensor(loss)) and torch.isfinite(grad).all() and grad.norm() > 0
    relative = ((grad_true - grad_false).norm() / grad_true.norm()).item()
    print(f"loss {loss_true:.6f} vs {loss_false:.6f} (diff {abs(loss_true - loss_false):.3e}); "
          f"L2-relative gradient difference {relative:.3e}")
    return abs(loss_true - loss_false), relative


@pytest.mark.parametrize("source", ["key_file_state_dict", "converted_state_dict"])
def test_a_full_step_on_released_weights_under_both_resizes(source, request, tmp_path):
    """Both resizes give a finite loss and gradients; they differ (the frames are stretched
    from 48x80 to 64x128, so the sampling grid moves), but not by orders of magnitude."""
    path = save_release(request.getfixturevalue(source), tmp_path / "amd_pretrained.pth")
    loss_difference, relative = resize_settings_differ(path)
    assert 0 < loss_difference < 0.5
    assert 0 < relative < 1.0


def test_renaming_to_the_release_and_back_is_the_identity(converted_state_dict, tmp_path):
    torch.manual_seed(0)
    ours = AMD(AMDConfig(flow_size=FLOW_SIZE)).state_dict()
    back = convert_release_state_dict(converted_state_dict)
    assert set(back) == set(ours) and all(torch.equal(back[k], ours[k]) for k in ours)
    loaded = load_checkpoint(save_release(converted_state_dict, tmp_path / "r.pth"), flow_size=FLOW_SIZE)
    assert all(torch.equal(loaded.state_dict()[k], ours[k]) for k in ours)


def test_renaming_matches_the_published_key_file(converted_state_dict):
    if not KEY_FILE.is_file():
        pytest.skip(f"published key file not found at {KEY_FILE}")
    shapes = json.loads(KEY_FILE.read_text())["state_dict"]
    assert {k: tuple(v.shape) for k, v in converted_state_dict.items()} == {k: tuple(v) for k, v in shapes.items()}


def test_released_weights_record_object_channel_1(converted_state_dict, tmp_path):
    model = load_checkpoint(save_release(converted_state_dict, tmp_path / "r.pth"), flow_size=FLOW_SIZE)
    assert model.object_channel == RELEASE_OBJECT_CHANNEL == 1


def test_amdlib_checkpoints_record_an_object_channel_only_when_they_store_one(tmp_path):
    model = AMD(AMDConfig.profile("smoke"))
    assert model.object_channel is None
    save_checkpoint(model, tmp_path / "plain.pt")
    assert load_checkpoint(tmp_path / "plain.pt").object_channel is None
    model.object_channel = 1
    save_checkpoint(model, tmp_path / "named.pt")
    assert load_checkpoint(tmp_path / "named.pt").object_channel == 1


def test_an_older_amdlib_checkpoint_loads_with_the_resize_it_was_trained_with(tmp_path):
    """A checkpoint whose config predates `flow_resize_align_corners` resized with False."""
    model = AMD(AMDConfig.profile("smoke", flow_resize_align_corners=True))
    save_checkpoint(model, tmp_path / "old.pt")
    checkpoint = torch.load(tmp_path / "old.pt", weights_only=True)
    del checkpoint["config"]["flow_resize_align_corners"]
    torch.save(checkpoint, tmp_path / "old.pt")
    loaded = load_checkpoint(tmp_path / "old.pt")
    assert loaded.config.flow_resize_align_corners is False
    assert loaded.config == model.config.replace(flow_resize_align_corners=False)
