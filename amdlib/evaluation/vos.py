"""The zero-shot video object segmentation protocol of notebook 03, as one function per step.

docs/method.md section 6b: the appearance pathway segments every annotated frame of unseen videos, with
and without test-time adaptation (TTA, `amdlib.evaluation.adapt`), and every method in the same harness is
scored with every channel rule (`amdlib.evaluation.channels.CHANNEL_RULES`):

    scores = zero_shot_vos(model, sequences, size, AdaptConfig(iterations=100))
    rows, per_sequence = vos_table({"DAVIS-2016": scores})

One sequence is segmented and scored at a time and only its scores are kept (per frame and
channel, `SequenceScores`), so memory does not grow with the number of sequences; the masks of
the sequences named in `keep_masks` are kept for figures. Rules that need the whole set (the
fixed channel chosen label-free, the best fixed channel) are resolved from the scores afterwards.

The notebook, the tests on real DAVIS-2016 frames and a user's own script all run this code, so
a number in results/ is reproducible from Python without the notebook.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Collection

import torch

from .adapt import AdaptConfig, adapt, load_video
from .baselines import segment_sequence_motion
from .centre_prior import best_centre_radius, centre_prior_masks, centre_radius_scores
from .channels import (CHANNEL_RULES, SequenceMasks, SequenceScores, dataset_object_channel, rule_scores,
                       score_channels, scores_of_masks, sequence_scores)
from ..io.progress import say
from ..model.amd import AMD
from .predict import (attach_motion_channels, motion_contrast_channel, segment_frames, segment_sequences,
                      single_channel)

AMD_METHOD = "AMD"
MOTION_METHOD = "motion baseline (DIS + RANSAC)"
TTA_UNITS = ("video", "dataset")
F_NOTE = ("With c = 2 a mask and its complement share one boundary, so F cannot tell a channel "
          "from the other: compare channel rules by J (or mIoU), not F.")
"""Where F is reported (`vos_table`, notebook 03)."""


def tta_method(config: AdaptConfig, unit: str = "video") -> str:
    return f"AMD + TTA ({config.iterations} it)" + ("" if unit == "video" else " per dataset")


def _check_unit(unit: str) -> None:
    if unit not in TTA_UNITS:
        raise ValueError(f"TTA unit must be one of {TTA_UNITS}, got {unit!r}")


def amd_with_tta(model: AMD, sequences: list, size: tuple[int, int] | None,
                 config: AdaptConfig, unit: str = "video") -> list[SequenceMasks]:
    """TTA (docs/method.md section 6b), then segmentation, keeping every mask (for small sets, e.g.
    the ablations; `zero_shot_vos` keeps scores). unit "video": a fresh copy of `model` adapts to
    each video alone; "dataset": one copy adapts to pairs from all the set's videos. The
    motion-contrast channel comes from the adapted model too."""
    _check_unit(unit)
    groups = [[s] for s in sequences] if unit == "video" else [list(sequences)]
    results = []
    for group in groups:
        tuned = adapt(model, [load_video(s, config.size or size) for s in group], config)
        masks = segment_sequences(tuned, group, size)
        results += attach_motion_channels(tuned, group, masks, size)
    return results


@torch.no_grad()
def score_sequence_amd(model: AMD, sequence, size: tuple[int, int] | None, truth: torch.Tensor,
                       boundary: bool = True, keep_masks: bool = False, batch_size: int = 16,
                       seconds: float = 0.0) -> SequenceScores:
    """Segment one `VOSSequence`'s annotated frames with `model` batch by batch (frames resized
    to `size`, masks back to the T,H,W `truth`'s size), score every channel of each batch and
    drop its masks (unless `keep_masks`), then attach the motion-contrast channel. `seconds`
    (e.g. of an adaptation) is added to the time the model takes."""
    model.eval()
    indices, chunks, kept, done = sequence.annotated, [], [], 0
    began = time.perf_counter()
    for batch, frames in sequence.annotated_batches(batch_size):
        masks = segment_frames(model, frames, size, tuple(truth.shape[-2:]))
        seconds += time.perf_counter() - began
        chunks.append(score_channels(masks, truth[done:done + len(batch)], boundary))
        done += len(batch)
        if keep_masks:
            kept.append(masks)
        began = time.perf_counter()
    motion_channel = motion_contrast_channel(model, sequence, size)
    seconds += time.perf_counter() - began
    masks = SequenceMasks(sequence.name, torch.cat(kept), truth, motion_channel) if keep_masks else None
    return sequence_scores(sequence.name, indices, chunks, truth.shape[-2] * truth.shape[-1],
                           motion_channel=motion_channel, object_channel=model.object_channel,
                           seconds=seconds, masks=masks)


def _adapted(model: AMD, sequences: list, size, config: AdaptConfig) -> tuple[AMD, float]:
    """(the adapted copy of `model`, seconds) for the videos `sequences`."""
    began = time.perf_counter()
    tuned = adapt(model, [load_video(s, config.size or size) for s in sequences], config)
    return tuned, time.perf_counter() - began


def _score_baseline(sequence, maps: Callable[[], torch.Tensor], truth: torch.Tensor, boundary: bool,
                    keep: bool) -> SequenceScores:
    """`SequenceScores` of a one-channel baseline whose T,H,W maps of the annotated frames
    `maps()` makes; its time is the method's (the truth is loaded by the caller)."""
    began = time.perf_counter()
    result = single_channel(sequence.name, maps(), truth)
    seconds = time.perf_counter() - began
    return scores_of_masks(result, sequence.annotated, boundary, seconds=seconds, masks=result if keep else None)


def zero_shot_vos(model: AMD, sequences, size: tuple[int, int] | None, tta: AdaptConfig,
                  motion_scale: float = 1.0, tta_unit: str = "video", boundary: bool = True,
                  keep_masks: Collection[str] = ()) -> dict[str, list[SequenceScores]]:
    """{method: one `SequenceScores` per sequence} on one VOS set: AMD, AMD + TTA (per video or
    per dataset, `tta_unit`), the classical motion baseline and the centre prior (radius fitted
    on the set's truth: an upper bound of that prior).

    Sequences are processed one at a time and their masks dropped after scoring, except for the
    sequences named in `keep_masks` (`SequenceScores.masks`). `size` (H,W) is the model's input
    size; `motion_scale` resizes frames for the baseline; `boundary=False` skips DAVIS F. Per-dataset
    TTA still holds every video's frames (at the adaptation size) while it adapts.
    """
    _check_unit(tta_unit)
    sequences, keep = list(sequences), set(keep_masks)
    amd_name, tta_name = AMD_METHOD, tta_method(tta, tta_unit)
    methods: dict[str, list[SequenceScores]] = {amd_name: []}
    if tta.iterations > 0:
        methods[tta_name] = []
    methods[MOTION_METHOD] = []
    radius_scores = []
    shared = _adapted(model, sequences, size, tta) if tta.iterations > 0 and tta_unit == "dataset" else None
    total_frames = sum(len(s.annotated) for s in sequences)
    for number, sequence in enumerate(sequences, start=1):
        say(f"zero-shot VOS: sequence {number}/{len(sequences)} ({sequence.name}, {len(sequence)} frames)")
        truth, kept = sequence.truth(), sequence.name in keep
        radius_scores.append(centre_radius_scores(truth))
        methods[amd_name].append(score_sequence_amd(model, sequence, size, truth, boundary, kept))
        if tta.iterations > 0:
            tuned, seconds = shared or _adapted(model, [sequence], size, tta)
            if shared:  # one adaptation for the set: its time is shared out by annotated frames
                seconds *= len(sequence.annotated) / total_frames
            methods[tta_name].append(score_sequence_amd(tuned, sequence, size, truth, boundary, kept,
                                                        seconds=seconds))
        motion = functools.partial(segment_sequence_motion, sequence, sequence.annotated, motion_scale)
        methods[MOTION_METHOD].append(_score_baseline(sequence, motion, truth, boundary, kept))
    radius = best_centre_radius(radius_scores)["radius"]
    # The truth is read again here: holding every sequence's until the radius is known would
    # make memory grow with the set.
    methods[f"centre prior (r={radius:.2f})"] = [
        _score_baseline(s, functools.partial(centre_prior_masks, s, radius), s.truth(), boundary, s.name in keep)
        for s in sequences]
    return methods


def default_fixed_channel(results: dict[str, dict[str, list[SequenceScores]]]) -> int:
    """The `fixed` rule's channel when none is given: the model's `object_channel` where it has
    one (1 for the authors' released weights), else the label-free `dataset_object_channel` of
    the first set's AMD results (notebook 03 lists the DAVIS set first)."""
    amd = next(iter(results.values()))[AMD_METHOD]
    if amd and amd[0].object_channel is not None:
        return amd[0].object_channel
    return dataset_object_channel(amd)


def seconds_per_frame(scores: list[SequenceScores]) -> float:
    """A method's seconds per annotated frame over a set (`SequenceScores.seconds`)."""
    frames = sum(len(s.frames) for s in scores)
    return sum(s.seconds for s in scores) / frames if frames else float("nan")


def vos_table(results: dict[str, dict[str, list[SequenceScores]]],
              fixed_channel: int | None = None) -> tuple[list[dict], list[dict]]:
    """(one row per set x method x channel rule, one row per sequence of each) from {set name:
    `zero_shot_vos` output}. Rows hold J in both conventions, DAVIS F, the release's pooled
    two-class mIoU and the method's seconds per annotated frame. Single-channel methods (the
    baselines) have no channel rule; `fixed_channel` is the `fixed` rule's channel (None:
    `default_fixed_channel`). F_NOTE: with c = 2, F is the same for a channel and its complement,
    so it does not rank channel rules."""
    fixed_channel = default_fixed_channel(results) if fixed_channel is None else fixed_channel
    rows, sequence_rows = [], []
    for set_name, methods in results.items():
        for method, scores in methods.items():
            single = scores[0].channels == 1
            rules = ["fixed"] if single else list(CHANNEL_RULES)
            for rule in rules:
                frames, miou = rule_scores(scores, rule, 0 if single else fixed_channel)
                label = "-" if single else rule
                rows.append({"set": set_name, "method": method, "channel rule": label,
                             "J (DAVIS mean)": frames.j_davis_mean, "J (frame mean)": frames.j_frame_mean,
                             "F (DAVIS mean)": frames.f_davis_mean, "mIoU (release, pooled)": miou,
                             "s / frame": seconds_per_frame(scores)})
                sequence_rows += [{"set": set_name, "method": method, "channel rule": label, **row}
                                  for row in frames.sequence_rows()]
    return rows, sequence_rows
