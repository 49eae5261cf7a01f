"""Choosing and scoring the object channel among the c masks the appearance pathway produces.

`channel_scores` measures how well each of the c mask channels segments the moving objects
of a video object segmentation set (DAVIS-2016 layout; docs/method.md section 6b without test-time
adaptation), and which channel rule gets which J:

- fixed channel k: the release's protocol (one channel chosen once for the whole dataset;
  `dataset_object_channel` picks it label-free: the motion-contrast channel of most videos);
- best fixed channel: the fixed channel with the highest J (the channel is chosen with labels);
- smallest-area channel, per frame or per video: label-free (objects are usually smaller than
  the background), among channels covering at least 2 % of the frame (per video:
  the channel with the smallest mean area over the video's frames);
- motion contrast, per video: label-free, from the model's own motion pathway: the channel
  whose segment flow departs most from the largest (background) segment's flow, averaged over
  the video's consecutive frame pairs (`amdlib.evaluation.predict.motion_contrast_channel`;
  needs the frames, not only the masks, so it is attached by `predict.attach_motion_channels`);
- per-frame oracle: the best channel in every frame (uses labels; an upper bound only).

Every number is reported beside the centre prior on the same frames: on object-centric data a
centred disk is a strong baseline that looks at no pixel.

The rules work on masks held whole (`SequenceMasks`, `foreground`) or on per-frame, per-channel
scores (`SequenceScores`, `picked_channels`, `rule_scores`), which pick the same channels without
keeping any mask: what the set-sized protocol of `amdlib.evaluation.vos` uses. Nothing here runs
the model: `amdlib.evaluation.predict` makes the masks (`segment_sequences`, `vos_channel_scores`)
and imports this module, never the reverse.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from .centre_prior import centre_prior_j
from .saliency_metrics import SaliencyMetrics
from .vos_metrics import VOSScores, boundary_f, foreground_counts, jaccard, pooled_two_class_miou

MIN_OBJECT_AREA = 0.02


@dataclass
class SequenceMasks:
    """One sequence's c soft masks and its ground truth, as the channel rules read them; made by
    `predict.segment_sequences` (AMD), `predict.single_channel` or the baselines."""

    name: str
    masks: Tensor
    """T,c,H,W soft masks at ground-truth resolution, annotated frames only."""
    truth: Tensor
    """T,H,W bool ground truth."""
    motion_channel: int | None = None
    """The label-free motion-contrast channel of this video, once `attach_motion_channels` ran."""

    @property
    def channels(self) -> int:
        return self.masks.shape[1]






@dataclass
class ChannelScores:
    per_channel: list[float]
    """J of each fixed channel, mean over frames of a sequence then over sequences."""
    best_channel: int
    best_channel_j: float
    smallest_area_j: float
    smallest_area_video_j: float
    oracle_j: float
    centre_prior_j: float
    per_sequence: dict[str, list[float]] = field(default_factory=dict)
    motion_contrast_j: float | None = None
    """J of the per-video motion-contrast channel, when every result has one attached."""

    def as_row(self) -> dict[str, float]:
        row = {f"J_channel_{k}": j for k, j in enumerate(self.per_channel)}
        row.update(J_best_channel=self.best_channel_j, best_channel=self.best_channel,
                   J_smallest_area=self.smallest_area_j, J_smallest_area_video=self.smallest_area_video_j)
        if self.motion_contrast_j is not None:
            row["J_motion_contrast_video"] = self.motion_contrast_j
        row.update(J_oracle_frame=self.oracle_j, J_centre_prior=self.centre_prior_j)
        return row


def smallest_area_channel(area: Tensor) -> Tensor:
    """N,c mask areas (fractions of the frame) -> N chosen channels: the smallest area among
    channels covering at least MIN_OBJECT_AREA (a nearly empty channel is not an object)."""
    return torch.where(area >= MIN_OBJECT_AREA, area, torch.full_like(area, 2.0)).argmin(1)


def smallest_mean_area(area: Tensor) -> int:
    """Label-free object channel of a whole video (or image set) from its N,c per-frame channel
    areas: the channel with the smallest mean area over the N frames (`smallest_area_channel`)."""
    return int(smallest_area_channel(area.mean(0, keepdim=True).float())[0])


def smallest_mean_area_channel(masks: Tensor, threshold: float = 0.5) -> int:
    """`smallest_mean_area` of N,c,H,W soft masks (> `threshold` is foreground)."""
    return smallest_mean_area((masks > threshold).float().mean((2, 3)))








def majority_channel(channels: Sequence[int]) -> int:
    """The channel that occurs most often in `channels`; a tie goes to the lowest index."""
    if not channels:
        raise ValueError("no channels to choose from")
    counts = Counter(channels)
    return min(counts, key=lambda k: (-counts[k], k))


def dataset_object_channel(results: Sequence[SequenceMasks] | Sequence["SequenceScores"]) -> int:
    """One object channel for a whole set, label-free, from results that carry `motion_channel`
    (`attach_motion_channels`, or `SequenceScores` from `amdlib.evaluation.vos`): the channel the per-video motion-contrast rule picks in the most
    videos; a tie goes to the lowest channel index.

    Why: the release's protocol fixes one hand-picked channel per trained model (docs/method.md section 6;
    the `fixed` rule of CHANNEL_RULES), but with c >= 3 no index is the object a priori: which
    channel ends up holding it depends on the training run. This picks that channel without
    labels. Single-channel results (c = 1) give 0 and need no motion channel.
    """
    if not results:
        raise ValueError("no results to choose an object channel from")
    if results[0].channels == 1:
        return 0
    for result in results:
        if result.motion_channel is None:
            raise ValueError(f"{result.name}: no motion channel; call attach_motion_channels first")
    return majority_channel([result.motion_channel for result in results])




def channel_scores(results: list[SequenceMasks], threshold: float = 0.5) -> ChannelScores:
    """J of every channel rule (module docstring) for masks from `predict.segment_sequences`."""
    per_sequence, smallest, smallest_video, oracle, motion = {}, [], [], [], []
    for result in results:
        j = jaccard(result.masks > threshold, result.truth.unsqueeze(1))  # T,c
        per_sequence[result.name] = j.mean(0).tolist()
        if result.motion_channel is not None:
            motion.append(j[:, result.motion_channel].mean())
        area = (result.masks > threshold).float().mean((2, 3))  # T,c
        smallest.append(j.gather(1, smallest_area_channel(area).view(-1, 1)).mean())
        smallest_video.append(j[:, smallest_mean_area_channel(result.masks, threshold)].mean())
        oracle.append(j.max(1).values.mean())
    per_channel = torch.tensor(list(per_sequence.values())).mean(0)
    best = int(per_channel.argmax())
    motion_j = torch.stack(motion).mean().item() if len(motion) == len(results) else None
    return ChannelScores(per_channel.tolist(), best, per_channel[best].item(), torch.stack(smallest).mean().item(),
                         torch.stack(smallest_video).mean().item(), torch.stack(oracle).mean().item(),
                         centre_prior_j([r.truth for r in results])["J"], per_sequence, motion_j)


# ----------------------------------------------------------------------------------------------
# Foreground from c channels, by rule (docs/method.md section 6: which channel is "the object").

CHANNEL_RULES = {
    "fixed": "one channel, chosen by hand for the whole set (the release's protocol)",
    "best_fixed": "the fixed channel with the best J on the set (chosen with labels)",
    "smallest_area_video": "label-free: per video, the channel with the smallest mean area",
    "smallest_area_frame": "label-free: per frame, the channel with the smallest area",
    "motion_contrast_video": "label-free: per video, the segment moving most unlike the background",
    "oracle_frame": "per frame, the best channel (uses labels: an upper bound only)",
}


def rule_picks(rule: str, name: str, area: Tensor, j: Tensor | None = None,
               motion_channel: int | None = None, channel: int = 0) -> Tensor:
    """T channels `rule` (one of CHANNEL_RULES) picks in each frame of sequence `name`, from its
    T,c channel areas (fractions > 0.5), its T,c J (needed by `oracle_frame` only) and its motion
    channel (`motion_contrast_video` only). `channel`: the fixed one (`fixed`, `best_fixed`)."""
    frames = torch.arange(area.shape[0])
    if rule in ("fixed", "best_fixed"):
        return torch.full_like(frames, channel)
    if rule == "smallest_area_video":
        return torch.full_like(frames, smallest_mean_area(area))
    if rule == "smallest_area_frame":
        return smallest_area_channel(area)
    if rule == "motion_contrast_video":
        if motion_channel is None:
            raise ValueError(f"{name}: no motion channel; call attach_motion_channels first")
        return torch.full_like(frames, motion_channel)
    if rule == "oracle_frame":
        return j.argmax(1)
    raise ValueError(f"unknown channel rule {rule!r}; choose from {sorted(CHANNEL_RULES)}")


def foreground(results: list[SequenceMasks], rule: str, channel: int = 0, threshold: float = 0.5) -> list[Tensor]:
    """T,H,W foreground probability per sequence, picking a channel of each frame by `rule`
    (one of CHANNEL_RULES; `channel` is the hand-picked one for `fixed`)."""
    if rule not in CHANNEL_RULES:
        raise ValueError(f"unknown channel rule {rule!r}; choose from {sorted(CHANNEL_RULES)}")
    if rule == "best_fixed":
        channel = channel_scores(results, threshold).best_channel
    chosen = []
    for result in results:
        masks = result.masks
        area = (masks > threshold).float().mean((2, 3))
        j = jaccard(masks > threshold, result.truth.unsqueeze(1)) if rule == "oracle_frame" else None
        pick = rule_picks(rule, result.name, area, j, result.motion_channel, channel)
        chosen.append(masks[torch.arange(masks.shape[0]), pick])
    return chosen


def vos_scores(results: list[SequenceMasks], rule: str = "fixed", channel: int = 0, boundary: bool = True):
    """`vos_metrics.VOSScores` (J and DAVIS F per frame, both set conventions) of one channel rule."""
    scores = VOSScores()
    for result, prediction in zip(results, foreground(results, rule, channel)):
        scores.add(result.name, prediction.numpy() > 0.5, result.truth.numpy(), boundary=boundary)
    return scores


@dataclass
class SequenceScores:
    """What every channel rule needs from one method on one sequence, without the masks:
    per frame and channel J, DAVIS F, area and pixel counts, so a rule's channel can be picked
    after a whole set was scored (`foreground_scores`) while memory holds one sequence at a time.
    """

    name: str
    frames: list[int]
    """The T annotated frame indices."""
    j: Tensor
    """T,c float32 J of each channel (> 0.5) against the truth."""
    f: Tensor
    """T,c float64 DAVIS boundary F of each channel (NaN when boundaries were not computed)."""
    area: Tensor
    """T,c float32 fraction of the frame each channel covers (> 0.5)."""
    counts: Tensor
    """T,c,3 int64 (TP, FP, FN) pixels of each channel, for the pooled mIoU."""
    pixels: int
    """H*W of the frames."""
    motion_channel: int | None = None
    object_channel: int | None = None
    """The model's `AMD.object_channel` (1 for released weights), None for baselines."""
    seconds: float = 0.0
    """Time the method took on this sequence (adaptation, segmentation, motion channel), not the scoring."""
    masks: SequenceMasks | None = None
    """The masks themselves, kept only for the sequences asked for (figures)."""

    @property
    def channels(self) -> int:
        return self.j.shape[1]


def score_channels(masks: Tensor, truth: Tensor, boundary: bool = True,
                   threshold: float = 0.5) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(J, F, area, counts) of every channel: T,c,H,W soft masks and T,H,W bool truth -> T,c
    J (float32), T,c F (NaN unless `boundary`), T,c area and T,c,3 (TP, FP, FN) counts."""
    binary, truth_np = masks > threshold, truth.numpy()
    j = jaccard(binary, truth.unsqueeze(1))
    area = binary.float().mean((2, 3))
    binary_np = binary.numpy()
    f = torch.tensor([[boundary_f(frame[k], t) if boundary else float("nan") for k in range(frame.shape[0])]
                      for frame, t in zip(binary_np, truth_np)], dtype=torch.float64).view(j.shape)
    counts = torch.from_numpy(foreground_counts(binary_np, np.broadcast_to(truth_np[:, None], binary_np.shape)))
    return j, f, area, counts


def sequence_scores(name: str, frames: list[int], chunks: list[tuple[Tensor, Tensor, Tensor, Tensor]],
                    pixels: int, **fields) -> SequenceScores:
    """`SequenceScores` from the `score_channels` of consecutive chunks of one sequence's frames."""
    j, f, area, counts = (torch.cat(parts) for parts in zip(*chunks))
    return SequenceScores(name, list(frames), j, f, area, counts, pixels, **fields)


def scores_of_masks(result: SequenceMasks, frames: list[int] | None = None, boundary: bool = True,
                    **fields) -> SequenceScores:
    """`SequenceScores` of masks held whole (`SequenceMasks`), e.g. a baseline's."""
    frames = list(range(len(result.truth))) if frames is None else frames
    pixels = result.truth.shape[-2] * result.truth.shape[-1]
    return sequence_scores(result.name, frames, [score_channels(result.masks, result.truth, boundary)], pixels,
                           motion_channel=result.motion_channel, **fields)


def best_fixed_channel(results: Sequence[SequenceScores]) -> int:
    """The channel with the best J (mean over frames, then over sequences; as `channel_scores`)."""
    per_channel = torch.tensor([r.j.mean(0).tolist() for r in results]).mean(0)
    return int(per_channel.argmax())


def picked_channels(result: SequenceScores, rule: str, channel: int = 0) -> Tensor:
    """T channels `rule` (one of CHANNEL_RULES) picks in each frame from per-channel scores; the
    same picks as `foreground` on the masks. `channel`: the fixed one (`fixed`, `best_fixed`)."""
    return rule_picks(rule, result.name, result.area, result.j, result.motion_channel, channel)


def rule_scores(results: Sequence[SequenceScores], rule: str = "fixed", channel: int = 0):
    """(`vos_metrics.VOSScores`, pooled two-class mIoU) of one channel rule over a set scored one
    sequence at a time; equals `vos_scores` (and the mIoU) on the masks themselves."""
    if rule == "best_fixed":
        channel = best_fixed_channel(results)
    scores, counts, pixels = VOSScores(), [], []
    for result in results:
        pick = picked_channels(result, rule, channel)
        frames = torch.arange(len(pick))
        scores.add_frames(result.name, result.frames, result.j[frames, pick].tolist(), result.f[frames, pick].tolist())
        counts.append(result.counts[frames, pick])
        pixels += [result.pixels] * len(pick)
    miou = pooled_two_class_miou(torch.cat(counts), torch.tensor(pixels)) if counts else float("nan")
    return scores, miou


# ----------------------------------------------------------------------------------------------
# Zero-shot saliency (docs/method.md section 6a).


def saliency_scores(channel_maps: list[tuple[Tensor, Tensor]], rule: str = "fixed", channel: int = 0) -> dict:
    """Saliency metrics (max F-beta, MAE, S, E; `saliency_metrics.SaliencyMetrics`) of one channel rule.

    Rules: `fixed` (hand-picked), `smallest_area` (label-free: the channel with the smallest mean
    area over the set), `best_fixed` (the channel with the best max F; uses labels).
    """
    def score(k: int):
        metrics = SaliencyMetrics()
        for maps, truth in channel_maps:
            metrics.update(maps[k].numpy(), truth.numpy())
        return metrics.scores()

    if rule == "fixed":
        chosen = channel
    elif rule == "smallest_area":
        area = torch.stack([(maps > 0.5).float().mean((1, 2)) for maps, _ in channel_maps]).mean(0, keepdim=True)
        chosen = int(smallest_area_channel(area)[0])
    elif rule == "best_fixed":
        channels = channel_maps[0][0].shape[0]
        chosen = max(range(channels), key=lambda k: score(k).max_f)
    else:
        raise ValueError(f"unknown saliency channel rule {rule!r}; choose fixed, smallest_area or best_fixed")
    return {"channel": chosen, **vars(score(chosen))}
