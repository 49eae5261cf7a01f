"""Test-time adaptation: keep training with the same self-supervised loss on the target videos
(docs/method.md section 6b) before segmenting them.

The paper adapts to each benchmark's unlabeled videos. Here the unit of adaptation is a
parameter: one video (`per_video`: a fresh copy of the starting weights for each video) or the
whole set. Unguarded adaptation can also destroy what was learnt, so the iterations and lr are
explicit parameters and every adaptation is seeded.
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


def adapt(model: AMD, videos: list[Tensor], config: AdaptConfig = AdaptConfig()) -> AMD:
    """A copy of `model` trained `config.iterations` steps on pairs from `videos` (T,3,H,W each).

    The input model is left untouched. Training mode as in the release (BatchNorm batch
    statistics); the returned model is in eval mode.
    """
    adapted = copy.deepcopy(model)
    if config.iterations <= 0:
        return adapted.eval()
    device = next(adapted.parameters()).device
    generator = torch.Generator().manual_seed(config.seed)
    optimizer = adam(adapted.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    adapted.train()
    with isolated_rng(config.seed):  # dropout draws are seeded too; the caller's RNG is untouched
        for _ in range(config.iterations):
            frames = sample_pairs(videos, config.batch_size, config.gap, generator).to(device)
            loss = adapted(frames).loss
            if not torch.isfinite(loss):
                raise FloatingPointError(f"test-time adaptation produced a non-finite loss ({loss.item()})")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return adapted.eval()
