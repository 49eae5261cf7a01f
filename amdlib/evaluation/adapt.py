"""Test-time adaptation: keep training with the same self-supervised loss on the target videos
(docs/method.md section 6b) before segmenting them.

The paper adapts to each benchmark's unlabeled videos. Here the unit of adaptation is a
parameter: one video (`per_video`: a fresh copy of the starting weights for each video) or the
whole set. Unguarded adaptation can also destroy what was learnt (a mask shrinking to a sliver of
the frame), so the iterations and lr are explicit parameters, every adaptation is seeded, and an
optional label-free selection (`AdaptConfig.select_by_loss`) returns the checked weights that
explain the whole video best.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import Tensor

from ..data.transforms import resize_images
from ..model.amd import AMD
from ..training.optimizer import adam
from ..training.train import isolated_rng


@dataclass(frozen=True)
class AdaptConfig:
    iterations: int = 100
    lr: float = 1e-4
    weight_decay: float = 1e-6
    batch_size: int = 4
    gap: int = 1
    seed: int = 0
    select_by_loss: bool = False
    """Return the checked weights (every `check_every` iterations, the start included) whose
    self-supervised loss over every pair of the videos (`video_loss`) is lowest: a selection
    read from the adaptation's own objective, no labels (docs/method.md section 6b). False: the
    last weights (the release)."""
    check_every: int = 25
    size: tuple[int, int] | None = None
    """H,W the frames are resized to for adaptation (None: the size they are segmented at, as
    notebook 03 and the ablations do). Adapting at a smaller size is cheaper, but the gain does
    not carry across scales: a model adapted at 64x64 and segmented at 128x128 loses J where
    adapting and segmenting at one size gains it (docs/method.md section 6b)."""


def load_video(sequence, size: tuple[int, int] | None = None) -> Tensor:
    """All frames of a `VOSSequence` as T,3,H,W in [0,1], resized to `size` (H,W) if given."""
    frames = torch.stack([sequence.frame(i) for i in range(len(sequence))])
    if size is not None:
        frames = resize_images(frames, size)
    return frames


def sample_pairs(videos: list[Tensor], batch_size: int, gap: int, generator: torch.Generator) -> Tensor:
    """B,2,3,H,W pairs (frame t, frame t + gap) from randomly chosen videos of at least 2 frames."""
    usable = [v for v in videos if v.shape[0] > gap]
    if not usable:
        raise ValueError(f"test-time adaptation needs a video with more than {gap} frames")
    pairs = []
    for _ in range(batch_size):
        video = usable[int(torch.randint(len(usable), (1,), generator=generator))]
        t = int(torch.randint(video.shape[0] - gap, (1,), generator=generator))
        pairs.append(torch.stack((video[t], video[t + gap])))
    return torch.stack(pairs)


@torch.no_grad()
def channel_areas(model: AMD, videos: list[Tensor], batch_size: int = 32) -> Tensor:
    """float64 c: the mean of each mask channel over every frame of `videos` (T,3,H,W each), as
    the model in eval mode segments them at their own size."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    total, count = None, 0
    for video in videos:
        for start in range(0, len(video), batch_size):
            masks = model.segment(video[start:start + batch_size].to(device)).double()
            area = masks.sum(dim=(0, 2, 3)).cpu()
            total = area if total is None else total + area
            count += masks.shape[0] * masks.shape[2] * masks.shape[3]
    model.train(was_training)
    return total / count


@torch.no_grad()
def video_loss(model: AMD, videos: list[Tensor], gap: int = 1) -> float:
    """The self-supervised loss of the model in eval mode, averaged over EVERY pair (frame t,
    frame t + gap) of `videos` (T,3,H,W each): the adaptation's own objective on the whole video
    rather than on a sampled batch. Pairs go one at a time: the release's loss normalises by a
    batch's visible fraction, so a batched mean would depend on how pairs are grouped."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    total, count = 0.0, 0
    for video in videos:
        for t in range(video.shape[0] - gap):
            total += float(model(torch.stack((video[t], video[t + gap]))[None].to(device)).loss)
            count += 1
    model.train(was_training)
    return total / count


def adapt(model: AMD, videos: list[Tensor], config: AdaptConfig = AdaptConfig(),
          trace: list[dict] | None = None) -> AMD:
    """A copy of `model` trained `config.iterations` steps on pairs from `videos` (T,3,H,W each).

    The input model is left untouched. Training mode as in the release (BatchNorm batch
    statistics); the returned model is in eval mode. With `config.select_by_loss` the weights
    are checked every `config.check_every` iterations and the checked ones (the start included)
    with the lowest `video_loss` are returned; `trace`, if given, receives one dict per check
    (iteration, mean area of each channel `channel_areas`, video loss).
    """
    adapted = copy.deepcopy(model)
    if config.iterations <= 0:
        return adapted.eval()

    def check(iteration: int) -> dict:
        row = {"iteration": iteration, "loss": video_loss(adapted, videos, config.gap)}
        if trace is not None:  # the areas are for the record only: computed when one is kept
            row["areas"] = channel_areas(adapted, videos).tolist()
            trace.append(row)
        return row

    if config.select_by_loss:
        best, kept = check(0), copy.deepcopy(adapted.state_dict())
    device = next(adapted.parameters()).device
    generator = torch.Generator().manual_seed(config.seed)
    optimizer = adam(adapted.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    adapted.train()
    with isolated_rng(config.seed):  # dropout draws are seeded too; the caller's RNG is untouched
        for iteration in range(1, config.iterations + 1):
            frames = sample_pairs(videos, config.batch_size, config.gap, generator).to(device)
            loss = adapted(frames).loss
            if not torch.isfinite(loss):
                raise FloatingPointError(f"test-time adaptation produced a non-finite loss ({loss.item()})")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if config.select_by_loss and (iteration % config.check_every == 0 or iteration == config.iterations):
                row = check(iteration)
                if row["loss"] < best["loss"]:
                    best, kept = row, copy.deepcopy(adapted.state_dict())
    if config.select_by_loss:
        adapted.load_state_dict(kept)
    return adapted.eval()
