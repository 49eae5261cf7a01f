"""Training: one readable loop, from one CPU to many GPUs (docs/method.md section 5).

    result = train(profile("cpu").model, profile("cpu").train, pairs, "runs/cpu", resume=True)

The command line is `amd train` (`amdlib/cli/train.py`), also under torchrun.

What each concern costs here: Adam with a per-iteration poly schedule (`poly_lr`); AMP through
`torch.autocast` (bf16, or fp16 with a GradScaler); gradient accumulation with DDP's `no_sync`;
DDP with synchronised BatchNorm; atomic checkpoints that hold everything needed to continue
(model, optimiser, iteration, RNG states, elapsed time) so that a resumed seeded run ends with
the same weights as an uninterrupted one; a NaN/inf loss stops the run and leaves the last good
checkpoint untouched.

Determinism: the data order and every augmentation are functions of (seed, sample position),
not of worker scheduling or of where a run was resumed (`ShuffledPositions`, `MicroBatches`).
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import math
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torch.utils.data import DataLoader, Dataset, Sampler

from ..io.atomic import atomic_write
from ..io.progress import Throttle, say
from ..io.checkpoint import atomic_torch_save, checkpoint_contents
from ..config import AMDConfig, TrainConfig
from .optimizer import adam
from .distributed import ProcessInfo, all_agree, init_from_environment, mean_over_ranks, synchronise_batchnorm
from ..model.amd import AMD

AMP_DTYPES = {"none": None, "bf16": torch.bfloat16, "fp16": torch.float16}


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is left as it was."""


class TrainingTooSlowError(RuntimeError):
    """The run is projected (from its first steps) or found to exceed its time guard; a
    checkpoint at the last finished iteration is written first, so the run resumes."""


GUARD_STEPS = 20
"""Steps timed (after the first, which warms up) before the whole run is projected; sooner
when `GUARD_SECONDS` of training pass first (a slow step is slow enough to judge)."""
GUARD_SECONDS = 60.0


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.1f} min"


def guard_message(stop: int, done: int, seconds_per_step: float | None, train_seconds: float,
                  guard_seconds: float, device: torch.device, timed: int = 0) -> str:
    """Why the time guard stopped a run, and how to override it (one line)."""
    if seconds_per_step is not None:
        projected = train_seconds + seconds_per_step * (stop - done)
        what = (f"{stop:,} iterations are projected to take {_hours(projected)} on {device.type} "
                f"({seconds_per_step:.2f} s per iteration, the median of {timed} timed steps)")
    else:
        what = f"training has run {_hours(train_seconds)} and reached iteration {done:,} of {stop:,}"
    return (f"{what}, more than the time guard of {_hours(guard_seconds)}; a checkpoint at iteration {done} "
            "is kept and resumes. Run it where it fits (a GPU for the paper profile), or lift the guard: "
            "`make reproduce LIFT_TIME_GUARD=1`, `amd train --lift-time-guard`, or lift_time_guard=True in "
            "notebook 01")


def poly_lr(iteration: int, config: TrainConfig) -> float:
    """mmcv's poly schedule: (lr - min_lr) * (1 - t/T)^power + min_lr, updated every iteration."""
    progress = min(iteration / config.iterations, 1.0)
    return (config.lr - config.min_lr) * (1 - progress) ** config.poly_power + config.min_lr


@contextlib.contextmanager
def isolated_rng(seed: int | None = None) -> Iterator[None]:
    """Run a block with its own torch/numpy/python RNG state (seeded if `seed` is given) and
    restore the outer states afterwards, so that the block cannot shift the training's RNG."""
    states = torch.get_rng_state(), np.random.get_state(), random.getstate()
    try:
        if seed is not None:
            torch.manual_seed(seed)
            np.random.seed(seed % 2**32)
            random.seed(seed)
        yield
    finally:
        torch.set_rng_state(states[0])
        np.random.set_state(states[1])
        random.setstate(states[2])


class ShuffledPositions(Dataset):
    """Maps a global sample position to (a shuffled item, its own augmentation seed).

    Position p belongs to epoch p // N; each epoch is a fresh permutation drawn from the seed.
    The item is produced under an RNG seeded by (seed, p), so the same position always gives
    the same pair and crop whichever worker or process loads it, and after any resume.
    """

    def __init__(self, dataset: Dataset, seed: int) -> None:
        if len(dataset) == 0:
            raise ValueError("the training dataset is empty")
        self.dataset, self.seed = dataset, seed
        self._permutations: dict[int, list[int]] = {}

    def __len__(self) -> int:  # positions are unbounded; the sampler decides which are used
        return sys.maxsize

    def index(self, position: int) -> int:
        epoch, offset = divmod(position, len(self.dataset))
        if epoch not in self._permutations:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._permutations = {epoch: torch.randperm(len(self.dataset), generator=generator).tolist()}
        return self._permutations[epoch][offset]

    def __getitem__(self, position: int) -> Tensor:
        index = self.index(position)
        if hasattr(self.dataset, "sample"):  # YouTubeVOSPairs: seeded by (its seed, epoch, index)
            return self.dataset.sample(index, position // len(self.dataset)).frames
        with isolated_rng((self.seed * 2_654_435_761 + position) % 2**63):
            return self.dataset[index]


class MicroBatches(Sampler[list[int]]):
    """This rank's micro-batches of sample positions, iterations [start, stop).

    Iteration t consumes the positions [t*G, (t+1)*G) with G = batch * world * accumulation;
    micro-step a on rank r takes batch consecutive positions at t*G + (a*world + r)*batch. The
    union over ranks of micro-step a is exactly a single process's micro-step a with a batch
    world times larger, which is what makes distributed and single-process runs comparable.
    """

    def __init__(self, start: int, stop: int, batch_size: int, accumulation: int, info: ProcessInfo) -> None:
        self.start, self.stop = start, stop
        self.batch_size, self.accumulation, self.info = batch_size, accumulation, info

    def __iter__(self) -> Iterator[list[int]]:
        per_iteration = self.batch_size * self.info.world_size * self.accumulation
        for iteration in range(self.start, self.stop):
            for micro in range(self.accumulation):
                first = iteration * per_iteration + (micro * self.info.world_size + self.info.rank) * self.batch_size
                yield list(range(first, first + self.batch_size))

    def __len__(self) -> int:
        return (self.stop - self.start) * self.accumulation


class CsvLog:
    """Append-only CSV log; on resume, rows beyond the resumed iteration are dropped."""

    def __init__(self, path: Path, resume_from: int) -> None:
        self.path = path
        self.fields: list[str] | None = None
        if path.exists():
            with path.open(newline="") as file:
                rows = [row for row in csv.DictReader(file) if int(row["iteration"]) <= resume_from]
            if rows:
                self.fields = list(rows[0])
            write_csv_atomic(path, rows, self.fields or [])

    def append(self, row: dict[str, Any]) -> None:
        new_file = self.fields is None or not self.path.exists() or self.path.stat().st_size == 0
        if self.fields is None:
            self.fields = list(row)
        with self.path.open("a", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=self.fields, extrasaction="ignore")
            if new_file:
                writer.writeheader()
            writer.writerow(row)


def write_csv_atomic(path: Path, rows: list[dict[str, Any]], fields: list[str]) -> None:
    def write(file) -> None:
        if fields:
            writer = csv.DictWriter(file, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)

    atomic_write(path, write, binary=False)


def rng_states() -> dict[str, Any]:
    """Every RNG state, in types that `torch.load(weights_only=True)` accepts."""
    name, keys, position, has_gauss, cached = np.random.get_state()
    numpy_state = (name, torch.from_numpy(keys.astype(np.int64)), position, has_gauss, cached)
    states = {"torch": torch.get_rng_state(), "numpy": numpy_state, "python": random.getstate()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_rng_states(states: dict[str, Any]) -> None:
    torch.set_rng_state(states["torch"])
    name, keys, position, has_gauss, cached = states["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), position, has_gauss, cached))
    random.setstate(states["python"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


BOOKKEEPING_FIELDS = frozenset({"num_workers", "checkpoint_every", "log_every", "eval_every", "channels_last"})
"""TrainConfig fields that do not change the optimisation: a resume may change them freely."""


def train_config_changes(stored: dict[str, Any], config: TrainConfig) -> dict[str, tuple[Any, Any]]:
    """{field: (stored value, new value)} for every optimisation field of `config` (all but
    BOOKKEEPING_FIELDS) that differs from a checkpoint's stored train config. Fields the stored
    config predates are compared with their defaults; fields amdlib no longer has are ignored."""
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    before = TrainConfig(**{k: v for k, v in stored.items() if k in names})
    return {name: (getattr(before, name), getattr(config, name)) for name in sorted(names - BOOKKEEPING_FIELDS)
            if getattr(before, name) != getattr(config, name)}


def describe_changes(changes: dict[str, tuple[Any, Any]]) -> str:
    """'lr 0.0003 -> 0.001, batch_size 8 -> 4'."""
    return ", ".join(f"{name} {old!r} -> {new!r}" for name, (old, new) in changes.items())


def read_train_config(checkpoint: str | os.PathLike) -> dict[str, Any]:
    """The train config a training checkpoint stored (empty for a checkpoint without one)."""
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    return dict(state.get("train_config") or {})


@dataclass
class TrainResult:
    model: AMD
    """The trained model: the weight average when `TrainConfig.ema_decay` is set."""
    checkpoint: Path
    iterations: int
    train_seconds: float


def train(model_config: AMDConfig, config: TrainConfig, dataset: Dataset, out_dir: str | os.PathLike,
          resume: bool = False, evaluate: Callable[[AMD], dict[str, float]] | None = None,
          device: str | torch.device | None = None, progress: bool = True,
          stop_after: int | None = None, time_guard: float | None = None,
          on_evaluation: Callable[[int, AMD], None] | None = None,
          init_weights: dict[str, Tensor] | None = None, evaluate_raw: bool = True) -> TrainResult:
    """Train AMD on `dataset` (items: 2,3,H,W float pairs in [0,1]) and write `out_dir`:
    `checkpoint.pt` (latest), `log.csv`, `eval.csv` (if `evaluate`), TensorBoard events.

    `on_evaluation(iteration, model)` is called at every evaluation point with the evaluated
    weights (the average when there is one), e.g. to keep mask snapshots
    (`amdlib.reports.figures.MaskSnapshots`); like `evaluate`, it draws no training randomness.

    `resume` continues from `out_dir/checkpoint.pt` when there is one (else the run starts
    afresh); a train config that differs from the checkpoint's in an optimisation field
    (`train_config_changes`) is used as given, and the changes are printed. `amd train --resume`
    is stricter: no checkpoint, or a changed config without `--allow-changed-config`, is an error.
    A checkpoint trained on other videos (the dataset's `fingerprint`, when it has one) is never
    resumed: a finished run on an older dataset would otherwise pass for one on the new.

    `stop_after` ends the process's work after that many iterations of this call, as an
    interruption would (used by tests of resume); the schedule still spans `config.iterations`.
    `time_guard` (seconds of training, evaluation excluded, counted across resumes) is a guard,
    not a budget: after `GUARD_STEPS` timed steps (or a minute) the run is projected to its end
    from their median, and at the next log row a run
    projected or found past the guard writes a checkpoint and raises `TrainingTooSlowError`.
    The budget is always `config.iterations`, so the same commit gives the same weights on any
    machine of the same CPU type. Progress lines go to the main job's terminal
    (`amdlib.io.progress`).

    With a weight average, `evaluate` scores the average and, when `evaluate_raw`, the raw
    weights too (`<metric>_raw_weights`, to show what averaging does; twice the evaluation time).

    `init_weights` (a state dict, e.g. of a model trained on synthetic video) is what a fresh run
    starts from instead of the random initialisation; a tensor whose shape differs (a head with
    another c) keeps its initialisation (`load_matching`). A resumed run ignores it.
    """
    info = init_from_environment()
    device = torch.device(device or (f"cuda:{info.local_rank}" if torch.cuda.is_available() else "cpu"))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    checkpoint_path = out_dir / "checkpoint.pt"

    torch.manual_seed(config.seed)
    model = AMD(model_config).to(device)
    if config.channels_last:  # every convolution then runs in NHWC, the layout oneDNN and cuDNN prefer
        model.to(memory_format=torch.channels_last)
    if info.distributed:  # before the optimiser: the swap creates new BatchNorm parameters
        synchronise_batchnorm(model, device)
    if init_weights is not None and not (resume and checkpoint_path.exists()):
        load_matching(model, init_weights)
    optimizer = adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    ema = (AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(config.ema_decay), use_buffers=True)
           if config.ema_decay else None)
    start, train_seconds = 0, 0.0
    fingerprint = getattr(dataset, "fingerprint", None)  # YouTubeVOSPairs: which videos
    if resume and checkpoint_path.exists():
        state = torch.load(checkpoint_path, map_location=device, weights_only=True)
        stored = state.get("data_fingerprint")
        if stored is not None and fingerprint is not None and stored != fingerprint:
            raise ValueError(f"{checkpoint_path} was trained on other videos (data fingerprint {stored}, now "
                             f"{fingerprint}); move the run folder away to train afresh")
        changes = train_config_changes(state.get("train_config") or {}, config)
        if changes and info.is_main:
            print(f"{checkpoint_path}: resuming with changed settings: {describe_changes(changes)}", file=sys.stderr)
        # Compared as configs, so a checkpoint from before a new field (at its default) still resumes.
        if AMDConfig.from_dict(state["config"]) != model_config:
            raise ValueError(f"{checkpoint_path} was written with another model config; refusing to resume")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if ema is not None:
            if "ema" not in state:
                raise ValueError(f"{checkpoint_path} holds no weight average but ema_decay is {config.ema_decay}; "
                                 "refusing to resume")
            ema.load_state_dict(state["ema"])
        start, train_seconds = state["iteration"], state["train_seconds"]
        if start > config.iterations:  # the result would pass for a run of the shorter budget
            raise ValueError(f"{checkpoint_path}: the training holds {start} iterations, more than this budget's "
                             f"{config.iterations}; move it away")
        restore_rng_states(state["rng"][info.rank] if isinstance(state["rng"], list) else state["rng"])
    network: torch.nn.Module = model
    if info.distributed:
        network = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None)

    stop = config.iterations if stop_after is None else min(config.iterations, start + stop_after)
    loader = DataLoader(ShuffledPositions(dataset, config.seed),
                        batch_sampler=MicroBatches(start, stop, config.batch_size, config.accumulation, info),
                        num_workers=config.num_workers, generator=torch.Generator().manual_seed(config.seed),
                        pin_memory=device.type == "cuda")
    amp_dtype = AMP_DTYPES[config.amp]
    scaler = torch.amp.GradScaler(device.type, enabled=config.amp == "fp16")
    log = CsvLog(out_dir / "log.csv", start) if info.is_main else None
    eval_log = CsvLog(out_dir / "eval.csv", start) if info.is_main and evaluate else None
    board = _tensorboard(out_dir) if info.is_main else None
    bar = _progress_bar(config.iterations, start, enabled=progress and info.is_main)

    model.train()
    batches = iter(loader)
    throttle = Throttle(30.0)
    step_seconds: list[float] = []  # this call's step times after its first, until the projection
    projection: tuple[float, int] | None = None  # (median seconds per step, steps timed), made once
    say(f"train: {stop - start:,} iterations from {start:,} to {stop:,} -> {checkpoint_path}")
    unchecked: list[tuple[int, Tensor]] = []  # (iteration, loss) not yet read back from the device
    for iteration in range(start, stop):
        tic = time.perf_counter()
        lr = poly_lr(iteration, config)
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.zero_grad(set_to_none=True)
        loss_sum, terms_sum = None, None
        for micro in range(config.accumulation):
            frames = next(batches).to(device, non_blocking=True)
            sync = contextlib.nullcontext() if (micro == config.accumulation - 1 or not info.distributed) \
                else network.no_sync()
            with sync:
                with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                    out = network(frames)
                if device.type != "cuda":
                    # Reading a CPU scalar costs nothing, and the CPU backward of grid_sample can
                    # crash on non-finite coordinates: check before it. CUDA steps stay unsynced.
                    _check_losses([(iteration, out.loss.detach())], info, checkpoint_path)
                scaler.scale(out.loss / config.accumulation).backward()
            loss = out.loss.detach() / config.accumulation
            loss_sum = loss if loss_sum is None else loss_sum + loss
            scales = torch.stack(out.terms.photometric).detach() / config.accumulation
            terms_sum = scales if terms_sum is None else terms_sum + scales
        scaler.step(optimizer)
        scaler.update()
        if ema is not None:
            ema.update_parameters(model)
        train_seconds += time.perf_counter() - tic
        unchecked.append((iteration, loss_sum))
        done = iteration + 1
        if time_guard is not None and projection is None and done > start + 1:
            step_seconds.append(time.perf_counter() - tic)
            if len(step_seconds) >= GUARD_STEPS or sum(step_seconds) >= GUARD_SECONDS:
                projection = (float(np.median(step_seconds)), len(step_seconds))
        # The guard is judged on the log rows, where every rank reads its loss back anyway: no
        # extra collective (nor a CUDA sync) in the steps between.
        if time_guard is not None and done % config.log_every == 0 and done < stop:
            per_step, timed = projection or (None, 0)
            over = (per_step is not None and train_seconds + per_step * (stop - done) > time_guard) \
                or train_seconds > time_guard
            if all_agree(over, info):
                _check_losses(unchecked, info, checkpoint_path)
                _save_training_checkpoint(checkpoint_path, model, optimizer, done, train_seconds, config, info, ema,
                                          fingerprint)
                for closing in (bar, board):
                    if closing is not None:
                        closing.close()
                raise TrainingTooSlowError(guard_message(stop, done, per_step, train_seconds, time_guard, device,
                                                         timed))

        if bar is not None:
            bar.update(1)
        logging = done % config.log_every == 0 or done == stop
        saving = done % config.checkpoint_every == 0 or done == stop
        evaluating = (evaluate is not None or on_evaluation is not None) and bool(config.eval_every) \
            and (done % config.eval_every == 0 or done == stop)
        if not (logging or saving or evaluating):
            continue  # the step stays on the device: losses are read back (and checked) in bulk below
        loss_value = _check_losses(unchecked, info, checkpoint_path)
        unchecked = []
        loss_sum = mean_over_ranks(loss_value, info)
        if bar is not None:
            bar.set_postfix(loss=f"{loss_sum:.4f}", lr=f"{lr:.2e}")
        if throttle(force=done == stop):
            say(f"train: iteration {done:,}/{stop:,}, loss {loss_sum:.4f}, {_hours(train_seconds)} of training")
        if log is not None and logging:
            row = {"iteration": done, "loss": loss_sum, "lr": lr, "train_seconds": round(train_seconds, 3)}
            row.update({f"photometric_{s}": v for s, v in enumerate(terms_sum.tolist())})
            log.append(row)
            if board is not None:
                board.add_scalar("train/loss", loss_sum, done)
                board.add_scalar("train/lr", lr, done)
        if saving:
            _save_training_checkpoint(checkpoint_path, model, optimizer, done, train_seconds, config, info, ema,
                                      fingerprint)
        if evaluating:
            with isolated_rng():
                metrics = {}
                if evaluate is not None and info.is_main:
                    metrics = evaluate(model if ema is None else ema.module)
                    if ema is not None and evaluate_raw:  # the raw weights too, to show what averaging does
                        metrics.update({f"{name}_raw_weights": value for name, value in evaluate(model).items()})
                if on_evaluation is not None and info.is_main:
                    on_evaluation(done, model if ema is None else ema.module)
            model.train()
            if eval_log is not None:
                eval_log.append({"iteration": done, "train_seconds": round(train_seconds, 3), **metrics})
            if board is not None:
                for name, value in metrics.items():
                    board.add_scalar(f"eval/{name}", value, done)
        if done == stop:
            break
    if bar is not None:
        bar.close()
    if board is not None:
        board.close()
    return TrainResult(model if ema is None else ema.module, checkpoint_path, stop, train_seconds)


def load_matching(model: torch.nn.Module, weights: dict[str, Tensor]) -> list[str]:
    """Copy into `model` every tensor of `weights` whose name and shape it has; returns the names
    of the model's tensors that keep their own values (new or reshaped layers)."""
    own = model.state_dict()
    matched = {k: v for k, v in weights.items() if k in own and own[k].shape == v.shape}
    model.load_state_dict({**own, **matched})
    return sorted(set(own) - set(matched))


def _check_losses(unchecked: list[tuple[int, Tensor]], info: ProcessInfo, checkpoint_path: Path) -> float:
    """Read the steps' losses back in one transfer; NonFiniteLossError names the first non-finite
    one (on any rank). Returns the last step's loss. Called before every log row, checkpoint and
    evaluation (and on CPU before every backward), so no checkpoint is ever written after a
    non-finite step."""
    values = torch.stack([loss for _, loss in unchecked]).float().tolist()
    bad = next(((iteration, value) for (iteration, _), value in zip(unchecked, values)
                if not math.isfinite(value)), None)
    if not all_agree(bad is None, info):
        where = (f"loss is {bad[1]} at iteration {bad[0]}" if bad is not None
                 else f"a loss on another process is not finite by iteration {unchecked[-1][0]}")
        raise NonFiniteLossError(f"{where}; stopping. The last good checkpoint is "
                                 f"{checkpoint_path if checkpoint_path.exists() else 'none yet'}.")
    return values[-1]


def _save_training_checkpoint(path: Path, model: AMD, optimizer: torch.optim.Optimizer, iteration: int,
                              train_seconds: float, config: TrainConfig, info: ProcessInfo,
                              ema: AveragedModel | None = None, data_fingerprint: str | None = None) -> None:
    rng = rng_states()
    if info.distributed:
        gathered: list[Any] = [None] * info.world_size
        torch.distributed.all_gather_object(gathered, rng)
        rng = gathered
    if not info.is_main:
        return
    extra = {} if ema is None else {"ema": ema.state_dict(), "inference_model": ema.module.state_dict()}
    if data_fingerprint is not None:
        extra["data_fingerprint"] = data_fingerprint
    atomic_torch_save(checkpoint_contents(model, optimizer=optimizer.state_dict(), iteration=iteration,
                                          train_seconds=train_seconds, train_config=config.to_dict(), rng=rng,
                                          **extra), path)


def _tensorboard(out_dir: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is optional; the CSV log always exists
        return None
    return SummaryWriter(str(out_dir / "tensorboard"))


def _progress_bar(total: int, initial: int, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc="train", unit="it", dynamic_ncols=True)


def training_pairs(root: str | os.PathLike, split: str | os.PathLike | None, config: TrainConfig,
                   annotations: str | os.PathLike | None = None):
    """The YouTube-VOS-layout pair dataset with `config`'s sampling and augmentation (docs/method.md section 5);
    with `annotations` (a mask folder, see `YouTubeVOSPairs`) items are (frames, masks)."""
    from ..data import YouTubeVOSPairs

    return YouTubeVOSPairs(root, split, short_side=config.short_side, scale_min=config.scale_min,
                           crop=config.crop_size, flip=config.flip, gap=config.frame_gap,
                           seed=config.seed, annotations=annotations)


def footage_pairs(folder: str | os.PathLike, config: TrainConfig):
    """Pairs from a folder of your own clips (video files and frame folders, no split file:
    `amdlib.data.videos.VideoFolderPairs`) with `config`'s sampling and augmentation."""
    from ..data.videos import VideoFolderPairs

    return VideoFolderPairs(folder, gap=config.frame_gap, short_side=config.short_side, scale_min=config.scale_min,
                            crop=config.crop_size, flip=config.flip, seed=config.seed)
