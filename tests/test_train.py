"""The training loop: schedule, deterministic sampling, resume, NaN handling, 2-process DDP."""

import math
import re
import os
import socket

import pandas as pd
import pytest
import torch
import torch.multiprocessing as mp
from torch.utils.data import Dataset

from amdlib import AMDConfig
from amdlib.io.checkpoint import load_checkpoint
from amdlib.training.distributed import ProcessInfo
from amdlib.config import TrainConfig
from amdlib.model.amd import AMD
from amdlib.training.train import MicroBatches, NonFiniteLossError, ShuffledPositions, load_matching, poly_lr, train


class ShiftedPairs(Dataset):
    """Item i: a smooth random image and the same image moved by (i % 3) px; random crop offset
    drawn from the global torch RNG (so the trainer's per-position seeding is exercised)."""

    def __init__(self, length=6, size=40, nan_at=None):
        self.length, self.size, self.nan_at = length, size, nan_at

    def __len__(self):
        return self.length

    def __getitem__(self, index):
        generator = torch.Generator().manual_seed(index)
        image = torch.nn.functional.avg_pool2d(torch.rand(3, self.size + 8, self.size + 8, generator=generator), 5, 1)
        top, left = torch.randint(0, 4, (2,)).tolist()
        first = image[:, top:top + self.size - 8, left:left + self.size - 8]
        second = torch.roll(first, shifts=index % 3, dims=-1)
        pair = torch.stack((first, second))
        if self.nan_at is not None and index == self.nan_at:
            pair = pair * float("nan")
        return pair


SMOKE = AMDConfig.profile("smoke", head_dropout=0.0, per_pair_normalization=True, flow_size=(32, 32))


def test_poly_schedule_by_hand():
    config = TrainConfig(iterations=100, lr=1e-3, min_lr=1e-5, poly_power=0.9)
    assert poly_lr(0, config) == pytest.approx(1e-3)
    assert poly_lr(50, config) == pytest.approx((1e-3 - 1e-5) * 0.5**0.9 + 1e-5)
    assert poly_lr(100, config) == pytest.approx(1e-5)


def test_two_ranks_together_take_the_single_process_batch():
    single = list(MicroBatches(3, 5, batch_size=4, accumulation=2, info=ProcessInfo()))
    rank0 = list(MicroBatches(3, 5, batch_size=2, accumulation=2, info=ProcessInfo(0, 2)))
    rank1 = list(MicroBatches(3, 5, batch_size=2, accumulation=2, info=ProcessInfo(1, 2)))
    assert [a + b for a, b in zip(rank0, rank1)] == single
    assert single[0] == [24, 25, 26, 27]  # iteration 3 starts at 3 * (4 * 2)


def test_each_epoch_visits_every_item_once_and_order_depends_on_seed():
    data = ShiftedPairs(length=5)
    shuffled = ShuffledPositions(data, seed=1)
    assert sorted(shuffled.index(p) for p in range(5)) == list(range(5))
    assert sorted(shuffled.index(p) for p in range(5, 10)) == list(range(5))
    orders = {tuple(ShuffledPositions(data, seed).index(p) for p in range(5)) for seed in range(4)}
    assert len(orders) > 1
    assert torch.equal(shuffled[7], ShuffledPositions(data, seed=1)[7])


def test_training_lowers_the_loss_and_writes_logs(tmp_path):
    config = TrainConfig.profile("smoke", iterations=6, batch_size=2, lr=1e-3, log_every=1, checkpoint_every=3)
    result = train(SMOKE, config, ShiftedPairs(), tmp_path, progress=False)
    lines = (tmp_path / "log.csv").read_text().splitlines()
    assert lines[0].startswith("iteration,loss,lr,train_seconds,photometric_0")
    assert len(lines) == 7
    assert result.checkpoint.exists() and result.iterations == 6


def test_interrupted_run_resumes_to_the_same_weights(tmp_path):
    config = TrainConfig.profile("smoke", iterations=4, batch_size=2, checkpoint_every=2)
    full = train(SMOKE, config, ShiftedPairs(), tmp_path / "full", progress=False).model
    train(SMOKE, config, ShiftedPairs(), tmp_path / "cut", progress=False, stop_after=2)
    resumed = train(SMOKE, config, ShiftedPairs(), tmp_path / "cut", resume=True, progress=False)
    assert resumed.iterations == 4
    for (name, a), (_, b) in zip(full.state_dict().items(), resumed.model.state_dict().items()):
        assert torch.equal(a, b), name
    rows = (tmp_path / "cut" / "log.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["1", "2", "3", "4"]


def _weights(path, key):
    return torch.load(path, weights_only=True)[key]


def test_weight_average_is_the_hand_computed_ema_and_leaves_training_unchanged(tmp_path):
    decay = 0.75
    plain = TrainConfig.profile("smoke", iterations=3, batch_size=2, checkpoint_every=1)
    # The raw weights after each of three iterations (checkpoints every iteration, resumed).
    steps = []
    for n in (1, 2, 3):
        train(SMOKE, plain, ShiftedPairs(), tmp_path / "plain", progress=False, resume=n > 1, stop_after=1)
        steps.append(_weights(tmp_path / "plain" / "checkpoint.pt", "model"))
    averaged = TrainConfig.profile("smoke", iterations=3, batch_size=2, checkpoint_every=1, ema_decay=decay)
    result = train(SMOKE, averaged, ShiftedPairs(), tmp_path / "ema", progress=False)
    saved = torch.load(tmp_path / "ema" / "checkpoint.pt", weights_only=True)
    for name, raw in saved["model"].items():  # averaging never touches the weights being trained
        assert torch.equal(raw, steps[-1][name]), name
    for name, value in saved["inference_model"].items():
        if not value.is_floating_point():
            continue
        # The first update copies; each later one is w_ema <- d * w_ema + (1 - d) * w.
        expected = steps[0][name]
        for step in steps[1:]:
            expected = decay * expected + (1 - decay) * step[name]
        assert torch.allclose(value, expected, atol=1e-6), name
        assert torch.equal(result.model.state_dict()[name], value), name
    loaded = load_checkpoint(tmp_path / "ema" / "checkpoint.pt")  # inference gets the average
    assert torch.equal(loaded.state_dict()["appearance.head.classifier.weight"],
                       saved["inference_model"]["appearance.head.classifier.weight"])


def test_the_raw_weights_are_scored_beside_the_average_only_when_asked(tmp_path):
    config = TrainConfig.profile("smoke", iterations=2, batch_size=2, eval_every=2, ema_decay=0.9)
    scored = []

    def evaluate(model):
        scored.append(model)
        return {"J": float(len(scored))}

    train(SMOKE, config, ShiftedPairs(), tmp_path / "both", progress=False, evaluate=evaluate)
    both = pd.read_csv(tmp_path / "both" / "eval.csv")
    assert both.columns.tolist() == ["iteration", "train_seconds", "J", "J_raw_weights"] and len(scored) == 2
    scored.clear()
    train(SMOKE, config, ShiftedPairs(), tmp_path / "one", progress=False, evaluate=evaluate, evaluate_raw=False)
    one = pd.read_csv(tmp_path / "one" / "eval.csv")
    assert one.columns.tolist() == ["iteration", "train_seconds", "J"] and len(scored) == 1


def test_interrupted_run_with_a_weight_average_resumes_to_the_same_average(tmp_path):
    config = TrainConfig.profile("smoke", iterations=4, batch_size=2, checkpoint_every=2, ema_decay=0.9)
    full = train(SMOKE, config, ShiftedPairs(), tmp_path / "full", progress=False).model
    train(SMOKE, config, ShiftedPairs(), tmp_path / "cut", progress=False, stop_after=2)
    resumed = train(SMOKE, config, ShiftedPairs(), tmp_path / "cut", resume=True, progress=False).model
    for (name, a), (_, b) in zip(full.state_dict().items(), resumed.state_dict().items()):
        assert torch.equal(a, b), name
    # A checkpoint without an average cannot continue one.
    train(SMOKE, config.replace(ema_decay=0.0), ShiftedPairs(), tmp_path / "plain", progress=False, stop_after=2)
    with pytest.raises(ValueError, match="holds no weight average"):
        train(SMOKE, config, ShiftedPairs(), tmp_path / "plain", resume=True, progress=False)
    with pytest.raises(ValueError, match="ema_decay must be in"):
        TrainConfig(ema_decay=1.0)


def test_resume_compares_configs_not_dicts(tmp_path):
    """A checkpoint written before a config field existed (missing = its default) resumes; one
    written with another value of a field refuses, naming the file."""
    config = TrainConfig.profile("smoke", iterations=4, batch_size=2, checkpoint_every=2)
    train(SMOKE, config, ShiftedPairs(), tmp_path, progress=False, stop_after=2)
    path = tmp_path / "checkpoint.pt"
    state = torch.load(path, weights_only=True)
    del state["config"]["segment_flow"]  # as written before the dense-flow ablation existed
    torch.save(state, path)
    assert train(SMOKE, config, ShiftedPairs(), tmp_path, resume=True, progress=False).iterations == 4
    with pytest.raises(ValueError, match="checkpoint.pt was written with another model config"):
        train(SMOKE.replace(num_masks=SMOKE.num_masks + 1), config, ShiftedPairs(), tmp_path, resume=True,
              progress=False)


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    config = TrainConfig.profile("smoke", iterations=8, batch_size=1, checkpoint_every=1)
    # Poison the item that the third position (iteration 2) draws, so two good checkpoints precede it.
    order = [ShuffledPositions(ShiftedPairs(length=4), config.seed).index(p) for p in range(4)]
    data = ShiftedPairs(length=4, nan_at=order[2])
    with pytest.raises(NonFiniteLossError, match="iteration 2"):
        train(SMOKE, config, data, tmp_path, progress=False)
    saved = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert saved["iteration"] == 2
    assert all(torch.isfinite(v).all() for v in saved["model"].values() if v.is_floating_point())


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ddp_worker(rank, world_size, port, out_dir, config):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world_size), LOCAL_RANK=str(rank),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    try:
        train(SMOKE, config, ShiftedPairs(), out_dir, progress=False)
    finally:
        torch.distributed.destroy_process_group()


def test_two_process_gloo_run_matches_one_process(tmp_path):
    single_config = TrainConfig.profile("smoke", iterations=3, batch_size=2, checkpoint_every=3)
    single = train(SMOKE, single_config, ShiftedPairs(), tmp_path / "single", progress=False)
    ddp_config = single_config.replace(batch_size=1)
    mp.spawn(_ddp_worker, args=(2, _free_port(), str(tmp_path / "ddp"), ddp_config), nprocs=2, join=True)
    ddp_state = torch.load(tmp_path / "ddp" / "checkpoint.pt", weights_only=False)["model"]
    single_losses = [float(r.split(",")[1]) for r in (tmp_path / "single" / "log.csv").read_text().splitlines()[1:]]
    ddp_losses = [float(r.split(",")[1]) for r in (tmp_path / "ddp" / "log.csv").read_text().splitlines()[1:]]
    assert ddp_losses == pytest.approx(single_losses, rel=1e-5)
    # Adam's step is about lr * sign(gradient), so rounding-sized gradient differences flip a few
    # steps where the gradient is near zero. Weights are therefore compared in units of the step:
    # an unsynchronised BatchNorm or unaveraged gradients flip the steps of many weights.
    step = single_config.lr
    flipped = total = 0
    for name, value in single.model.state_dict().items():
        if value.is_floating_point():
            difference = (value - ddp_state[name]).abs()
            flipped += int((difference > 0.1 * step).sum())
            total += difference.numel()
    assert flipped / total < 0.01


def test_training_checkpoint_loads_safely_as_a_model(tmp_path):
    from amdlib import load_checkpoint

    config = TrainConfig.profile("smoke", iterations=1, batch_size=1)
    result = train(SMOKE, config, ShiftedPairs(), tmp_path, progress=False)
    loaded = load_checkpoint(result.checkpoint)  # weights_only loading: no pickled objects inside
    for (name, a), (_, b) in zip(result.model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), name


def test_command_line_trains_the_smoke_profile_on_generated_data(tmp_path, monkeypatch, capsys):
    from amdlib.cli.train import main
    from amdlib.session import REPO_ROOT

    monkeypatch.chdir(tmp_path)
    result = main(["--profile", "smoke", "--iterations", "2", "--out", "run"])
    assert result.iterations == 2 and (tmp_path / "run" / "checkpoint.pt").exists()
    assert (REPO_ROOT / "data" / "generated" / "smoke" / "youtube_vos" / "train.txt").exists()
    assert (tmp_path / "run" / "eval.csv").read_text().startswith("iteration,train_seconds,J_channel_0")
    said = capsys.readouterr().out
    assert re.search(r"amd train: \d+ videos, \d+ frames, \d+ frame pairs \(gap 1\) under .*youtube_vos; "
                     r"2 iterations at batch 2 -> run", said), said



def test_command_line_starts_from_given_weights_and_names_a_missing_file(tmp_path, monkeypatch, capsys):
    from amdlib.cli import main as amd
    from amdlib.cli.train import main

    monkeypatch.chdir(tmp_path)
    first = main(["--profile", "smoke", "--iterations", "1", "--out", "first"])
    second = main(["--profile", "smoke", "--iterations", "1", "--out", "second", "--lr", "1e-12",
                   "--init", str(first.checkpoint)])
    start, trained = (load_checkpoint(p).state_dict() for p in (first.checkpoint, second.checkpoint))
    assert torch.allclose(trained["appearance.head.classifier.weight"], start["appearance.head.classifier.weight"],
                          atol=1e-9)
    capsys.readouterr()
    assert amd(["train", "--profile", "smoke", "--out", "third", "--init", "nowhere.pt"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nowhere.pt" in err[0]


class FakeClock:
    """`time` for the training loop: every reading is `step` seconds after the last."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def perf_counter(self) -> float:
        self.now += self.step
        return self.now

    def strftime(self, *args):  # pragma: no cover - not used by the loop
        return ""


def test_the_time_guard_refuses_a_run_projected_past_it_and_the_run_resumes(tmp_path, monkeypatch):
    """The budget is iterations; the guard only stops a run whose first steps project it past
    the profile's time guard. It writes a checkpoint first, and `--lift-time-guard` resumes it."""
    import dataclasses

    from amdlib import config as amd_config
    from amdlib.cli.train import main
    from amdlib.training import train as training

    guarded = dataclasses.replace(amd_config.profile("smoke"), time_guard_minutes=10.0)
    monkeypatch.setitem(amd_config.PROFILES, "smoke", lambda: guarded)
    monkeypatch.setattr(training, "time", FakeClock(5.0))  # every step reads as about 10 s
    monkeypatch.setattr(training, "GUARD_STEPS", 3)
    monkeypatch.chdir(tmp_path)
    args = ["--profile", "smoke", "--iterations", "200", "--eval-every", "0", "--checkpoint-every", "100"]
    from amdlib.cli import CommandError

    with pytest.raises(CommandError) as stopped:  # the `amd` dispatcher prints it as one line
        main([*args, "--out", "slow"])
    message = str(stopped.value)
    assert message.startswith("slow: ")
    # 200 steps of about 10 s: about 33 min projected against the 10-minute guard, after 1 + 3 steps.
    assert re.search(r"200 iterations are projected to take 3\d\.\d min on cpu \(10\.00 s per iteration, the "
                     r"median of 3 timed steps\), more than the time guard of 10\.0 min; a checkpoint at "
                     r"iteration 4 is kept", message), message
    assert "LIFT_TIME_GUARD=1" in message and "--lift-time-guard" in message
    assert torch.load(tmp_path / "slow" / "checkpoint.pt", weights_only=True)["iteration"] == 4
    monkeypatch.setattr(training, "time", FakeClock(0.0))
    finished = main([*args, "--out", "slow", "--resume", "--lift-time-guard", "--iterations", "6",
                     "--allow-changed-config"])
    assert finished.iterations == 6


def test_the_time_guard_also_stops_a_run_that_slows_down_later(tmp_path, monkeypatch):
    import dataclasses

    from amdlib import config as amd_config
    from amdlib.cli.train import main
    from amdlib.training import train as training

    guarded = dataclasses.replace(amd_config.profile("smoke"), time_guard_minutes=0.5)  # 30 s
    monkeypatch.setitem(amd_config.PROFILES, "smoke", lambda: guarded)
    monkeypatch.setattr(training, "time", FakeClock(5.0))
    monkeypatch.setattr(training, "GUARD_STEPS", 100)  # no projection within this run
    monkeypatch.setattr(training, "GUARD_SECONDS", 1e9)
    monkeypatch.chdir(tmp_path)
    # 5 s of training a step: past 30 s at iteration 7.
    with pytest.raises(training.TrainingTooSlowError, match=r"training has run 0\.6 min and reached iteration 7 of 50"):
        training.train(guarded.model, guarded.train.replace(iterations=50), ShiftedPairs(8), tmp_path / "late",
                       time_guard=30.0, progress=False)


def test_a_guarded_command_ends_with_one_line(tmp_path, monkeypatch, capsys):
    import dataclasses

    from amdlib import cli
    from amdlib import config as amd_config
    from amdlib.training import train as training

    guarded = dataclasses.replace(amd_config.profile("smoke"), time_guard_minutes=0.1)
    monkeypatch.setitem(amd_config.PROFILES, "smoke", lambda: guarded)
    monkeypatch.setattr(training, "time", FakeClock(5.0))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["train", "--profile", "smoke", "--iterations", "50", "--eval-every", "0", "--out", "g"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("amd train: g: training has run") and "Traceback" not in "\n".join(err)


def test_crop_size_from_json_lists_round_trips():
    config = TrainConfig(crop_size=[128, 96])  # as read back from JSON
    assert config.crop_size == (128, 96)
    assert TrainConfig(**config.to_dict()) == config


def test_mask_snapshots_record_every_evaluation_without_changing_training(tmp_path):
    from amdlib.reports.figures import MaskSnapshots

    config = TrainConfig.profile("smoke", iterations=4, batch_size=1, eval_every=2, ema_decay=0.5)
    plain = train(SMOKE, config, ShiftedPairs(), tmp_path / "plain", progress=False)
    frames = torch.rand(3, 3, 32, 32)
    snapshots = MaskSnapshots(tmp_path / "hooked" / "snapshots.pt", frames)
    hooked = train(SMOKE, config, ShiftedPairs(), tmp_path / "hooked", progress=False, on_evaluation=snapshots)
    for (name, a), (_, b) in zip(plain.model.state_dict().items(), hooked.model.state_dict().items()):
        assert torch.equal(a, b), name  # the hook draws no training randomness
    assert sorted(snapshots.masks) == [2, 4]
    with torch.no_grad():  # the stored masks are the averaged (returned) model's
        expected = hooked.model.eval().segment(frames).half()
    assert torch.equal(snapshots.masks[4], expected)
    reread = MaskSnapshots(tmp_path / "hooked" / "snapshots.pt", frames)  # a resumed notebook reads them back
    assert sorted(reread.masks) == [2, 4] and torch.equal(reread.masks[2], snapshots.masks[2])
    figure = reread.figure(torch.zeros(3, 32, 32), columns=6)
    assert [a.get_title() for a in figure.axes[:4]] == ["frame", "ground truth", "iteration 2", "iteration 4"]
    assert len(figure.axes) == 3 * 4


def test_the_time_guard_is_judged_on_log_rows_only(tmp_path, monkeypatch):
    """Projected at iteration 4 (1 + 3 timed steps), the run stops at the next log row, 5: the
    guard adds no collective (nor CUDA sync) to the steps between log rows."""
    from amdlib import config as amd_config
    from amdlib.training import train as training

    smoke = amd_config.profile("smoke")
    monkeypatch.setattr(training, "time", FakeClock(5.0))
    monkeypatch.setattr(training, "GUARD_STEPS", 3)
    with pytest.raises(training.TrainingTooSlowError, match=r"median of 3 timed steps.*checkpoint at iteration 5 "):
        training.train(smoke.model, smoke.train.replace(iterations=200, log_every=5, eval_every=0), ShiftedPairs(8),
                       tmp_path / "run", time_guard=600.0, progress=False)
    assert torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["iteration"] == 5


def test_load_matching_copies_the_tensors_of_the_same_name_and_shape_only():
    torch.manual_seed(1)
    source = AMD(SMOKE).state_dict()
    torch.manual_seed(2)
    target = AMD(SMOKE.replace(num_masks=3))
    before = {k: v.clone() for k, v in target.state_dict().items()}
    kept = load_matching(target, source)
    after = target.state_dict()
    assert kept and all(before[k].shape != source[k].shape for k in kept)  # only the c-shaped head layer
    assert all(torch.equal(after[k], before[k]) for k in kept)
    assert all(torch.equal(after[k], source[k]) for k in after if k not in kept)


def test_a_run_starts_from_the_given_weights(tmp_path):
    torch.manual_seed(1)
    start = AMD(SMOKE).state_dict()
    # one step at lr 1e-12: Adam moves each weight by about the lr, so the result is the start
    config = TrainConfig.profile("smoke", iterations=1, batch_size=2, lr=1e-12, min_lr=1e-12, ema_decay=0.0)
    result = train(SMOKE, config, ShiftedPairs(), tmp_path, progress=False, init_weights=start)
    trained = load_checkpoint(result.checkpoint).state_dict()
    for name, value in start.items():
        if value.is_floating_point() and "running" not in name:  # BatchNorm statistics move with the batch
            assert torch.allclose(trained[name], value, atol=1e-9), name
