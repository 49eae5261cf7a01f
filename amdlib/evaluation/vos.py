"""The zero-shot video object segmentation protocol of notebook 03, as one function per step.

docs/method.md section 6b: the appearance pathway segments every annotated frame of unseen videos, with
and without test-time adaptation (TTA, `amdlib.evaluation.adapt`), and every method in the same harness is
scored with every channel rule (`amdlib.evaluation.channels.CHANNEL_RULES`):

    masks = zero_shot_vos(model, sequences, size, AdaptConfig(iterations=100))
    rows, per_sequence = vos_table({"DAVIS-2016": masks})

The notebook, the tests on real DAVIS-2016 frames and a user's own script all run this code, so
a number in results/ is reproducible from Python without the notebook.
"""

from __future__ import annotations

from .adapt import AdaptConfig, adapt, load_video
from .baselines import motion_sequence_masks
from .centre_prior import centre_prior_j, centre_prior_masks
from .channels import (CHANNEL_RULES, SequenceMasks, attach_motion_channels,
                       segment_sequences, single_channel, vos_scores)
from ..model.amd import AMD

AMD_METHOD = "AMD"
MOTION_METHOD = "motion baseline (DIS + RANSAC)"


TTA_UNITS = ("video", "dataset")


def tta_method(config: AdaptConfig, unit: str = "video") -> str:
    return f"AMD + TTA ({config.iterations} it)" + ("" if unit == "video" else " per dataset")


def amd_with_tta(model: AMD, sequences: list, size: tuple[int, int] | None,
                 config: AdaptConfig, unit: str = "video") -> list[SequenceMasks]:
    """TTA (docs/method.md section 6b), then segmentation. unit "video": a fresh copy of `model` adapts to
    each video alone; "dataset": one copy adapts to pairs from all the set's videos. The
    motion-contrast channel comes from the adapted model too."""
    if unit not in TTA_UNITS:
        raise ValueError(f"TTA unit must be one of {TTA_UNITS}, got {unit!r}")
    groups = [[s] for s in sequences] if unit == "video" else [list(sequences)]
    results = []
    for group in groups:
        tuned = adapt(model, [load_video(s, config.size or size) for s in group], config)
        masks = segment_sequences(tuned, group, size)
        results += attach_motion_channels(tuned, group, masks, size)
    return results


def zero_shot_vos(model: AMD, sequences, size: tuple[int, int] | None, tta: AdaptConfig,
                  motion_scale: float = 1.0, tta_unit: str = "video") -> dict[str, list[SequenceMasks]]:
    """Every method's masks on one VOS set: AMD, AMD + TTA (per video or per dataset,
    `tta_unit`), the classical motion baseline and the centre prior (radius fitted on the set:
    an upper bound of that prior).

    `size` (H,W) is the model's input size; `motion_scale` resizes frames for the baseline.
    """
    sequences = list(sequences)
    amd = attach_motion_channels(model, sequences, segment_sequences(model, sequences, size), size)
    methods = {AMD_METHOD: amd}
    if tta.iterations > 0:
        methods[tta_method(tta, tta_unit)] = amd_with_tta(model, sequences, size, tta, tta_unit)
    methods[MOTION_METHOD] = motion_sequence_masks(sequences, scale=motion_scale)
    radius = centre_prior_j([r.truth for r in amd])["radius"]
    methods[f"centre prior (r={radius:.2f})"] = [
        single_channel(s.name, centre_prior_masks(s, radius), r.truth) for s, r in zip(sequences, amd)]
    return methods


def vos_table(results: dict[str, dict[str, list[SequenceMasks]]], fixed_channel: int = 0,
              boundary: bool = True) -> tuple[list[dict], list[dict]]:
    """(one row per set x method x channel rule with J in both conventions and F, one row per
    sequence of each) from {set name: `zero_shot_vos` output}. Single-channel methods (the
    baselines) have no channel rule; `fixed_channel` is the release's hand-picked channel
    (`evaluate.dataset_object_channel` picks one label-free)."""
    rows, sequence_rows = [], []
    for set_name, methods in results.items():
        for method, masks in methods.items():
            rules = ["fixed"] if masks[0].masks.shape[1] == 1 else list(CHANNEL_RULES)
            for rule in rules:
                scores = vos_scores(masks, rule, fixed_channel if masks[0].masks.shape[1] > 1 else 0, boundary)
                label = rule if len(rules) > 1 else "-"
                rows.append({"set": set_name, "method": method, "channel rule": label,
                             "J (DAVIS mean)": scores.j_davis_mean, "J (frame mean)": scores.j_frame_mean,
                             "F (DAVIS mean)": scores.f_davis_mean})
                sequence_rows += [{"set": set_name, "method": method, "channel rule": label, **row}
                                  for row in scores.sequence_rows()]
    return rows, sequence_rows
