"""The speed options of the training step change its speed, not what it computes: channels-last
training, the fused Adam, the losses read back in bulk, and the paper-step and loader benchmarks."""

import math
import sys
from pathlib import Path

import pytest
import torch

from amdlib import AMD, AMDConfig
from amdlib.config import TrainConfig
from amdlib.training.distributed import ProcessInfo
from amdlib.training.optimizer import adam
from amdlib.training.train import NonFiniteLossError, _check_losses, train

from test_train import SMOKE, ShiftedPairs

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_first_fused_adam_step_is_the_hand_computed_update():
    # After one step from zero moments Adam's bias-corrected update is lr * g / (|g| + eps), with
    # the weight decay added to the gradient first.
    weight = torch.nn.Parameter(torch.tensor([1.0, -2.0, 0.5]))
    weight.grad = torch.tensor([0.3, 0.0, -4.0])
    optimizer = adam([weight], lr=0.1, weight_decay=0.01)
    assert optimizer.defaults["fused"]
    optimizer.step()
    grad = torch.tensor([0.3, 0.0, -4.0]) + 0.01 * torch.tensor([1.0, -2.0, 0.5])
    expected = torch.tensor([1.0, -2.0, 0.5]) - 0.1 * grad / (grad.abs() + 1e-8)
    torch.testing.assert_close(weight.detach(), expected, rtol=0, atol=1e-6)


def test_fused_adam_follows_the_per_tensor_adam():
    torch.manual_seed(0)
    model = AMD(SMOKE)
    twin = AMD(SMOKE)
    twin.load_state_dict(model.state_dict())
    fused, plain = adam(model.parameters(), 1e-3, 1e-6), torch.optim.Adam(twin.parameters(), 1e-3, weight_decay=1e-6)
    frames = torch.rand(2, 2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    for _ in range(3):
        for net, optimizer in ((model, fused), (twin, plain)):
            optimizer.zero_grad()
            net(frames).loss.backward()
            optimizer.step()
    for a, b in zip(model.parameters(), twin.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)  # rounding only: one step moves up to lr = 1e-3


def test_channels_last_training_computes_the_same_run(tmp_path):
    config = TrainConfig.profile("smoke", iterations=3, batch_size=2, checkpoint_every=3, log_every=1)
    train(SMOKE, config, ShiftedPairs(), tmp_path / "nchw", progress=False)
    nhwc = train(SMOKE, config.replace(channels_last=True), ShiftedPairs(), tmp_path / "nhwc", progress=False)
    convolutions = [m.weight for m in nhwc.model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convolutions and all(w.is_contiguous(memory_format=torch.channels_last) for w in convolutions
                                if w.shape[-1] > 1 and w.shape[1] > 1)
    losses = [(tmp_path / run / "log.csv").read_text().splitlines()[1:] for run in ("nchw", "nhwc")]
    assert len(losses[0]) == len(losses[1]) == 3
    for a, b in zip(*losses):
        assert float(a.split(",")[1]) == pytest.approx(float(b.split(",")[1]), rel=1e-4)


def test_losses_read_back_in_bulk_name_the_first_non_finite_step(tmp_path):
    losses = [(4, torch.tensor(0.5)), (5, torch.tensor(float("nan"))), (6, torch.tensor(float("inf")))]
    with pytest.raises(NonFiniteLossError, match=r"loss is nan at iteration 5; stopping.*none yet"):
        _check_losses(losses, ProcessInfo(), tmp_path / "checkpoint.pt")
    assert _check_losses(losses[:1] + [(5, torch.tensor(0.25))], ProcessInfo(), tmp_path / "c.pt") == 0.25


def test_paper_benchmark_fast_paths_compute_the_reference_loss(tmp_path, capsys):
    sys.path.insert(0, str(BENCHMARKS))
    import bench_paper

    rows = bench_paper.main(["--device", "cpu", "--crop", "64", "64", "--flow-size", "128", "128", "--steps", "1",
                             "--modes", "fp32", "fp32 channels_last", "bf16", "--breakdown",
                             "--out", str(tmp_path / "paper.md")])
    by_mode = {row["mode"]: row for row in rows}
    assert list(by_mode) == ["reference", "fp32", "fp32 channels_last", "bf16"]
    assert by_mode["reference"]["speed-up vs reference"] == 1
    for name in ("fp32", "fp32 channels_last"):  # the same arithmetic up to rounding
        assert by_mode[name]["loss rel. diff vs reference"] < 1e-5
    assert by_mode["bf16"]["loss rel. diff vs reference"] < 1e-2
    assert all(row["GFLOP/step"] > 1 and math.isfinite(row["TFLOP/s"]) for row in rows)
    table = (tmp_path / "paper.md").read_text()
    for part in ("appearance pathway", "cost volume", "warp + occlusion", "SSIM", "optimiser (Adam)", "whole step"):
        assert f"| {part} |" in table


def test_loader_benchmark_times_one_worker_and_a_data_loader(tmp_path):
    sys.path.insert(0, str(BENCHMARKS))
    import bench_loader

    rows = bench_loader.main(["--frames", "480", "400", "--videos", "2", "--pairs", "4", "--workers", "1",
                              "--gpu-pairs-per-second", "40", "--out", str(tmp_path / "loader.md")])
    assert {row["what"] for row in rows} >= {"whole item (decode + resize + crop)", "DataLoader, batch 2"}
    assert all(row["pairs/s"] > 0 for row in rows)
    assert "needs" in (tmp_path / "loader.md").read_text()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_cuda_training_step_never_waits_for_the_device():
    model = AMD(AMDConfig.profile("paper", flow_size=(128, 128))).cuda().train()
    model.to(memory_format=torch.channels_last)
    optimizer = adam(model.parameters(), 1e-4, 1e-6)
    frames = torch.rand(2, 2, 3, 64, 64, device="cuda")
    for mode in ("default", "error"):  # the first step warms up (cuDNN, allocator), the second must not sync
        torch.cuda.set_sync_debug_mode(mode)
        try:
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast("cuda", dtype=torch.bfloat16):
                loss = model(frames).loss
            loss.backward()
            optimizer.step()
        finally:
            torch.cuda.set_sync_debug_mode("default")
    assert torch.isfinite(loss).item()


def test_uint8_frames_resize_within_one_grey_level_of_the_float_path():
    from amdlib.data.transforms import PairTransform

    transform = PairTransform(short_side=100, crop=(96, 96), flip=True)
    frames = torch.randint(0, 256, (2, 3, 180, 320), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    for seed in range(3):
        fast, _ = transform(frames, torch.Generator().manual_seed(seed))
        exact, _ = transform(frames.float() / 255, torch.Generator().manual_seed(seed))
        assert fast.dtype == torch.float32 and fast.shape == exact.shape == (2, 3, 96, 96)
        assert (fast - exact).abs().max() <= 1 / 255 + 1e-6
