"""Saving and loading AMD weights: amdlib's own checkpoints and the authors' release.

The release (`amd_pretrained.pth`) is an mmcv checkpoint, a dict with `meta` and `state_dict`,
whose names follow the MMSegmentation fork: `backbone2` (appearance ResNet-50), `decode_head2`
(its FCN head), `decode_head.flownet` (the motion pathway). `NAME_TEMPLATES` maps each of
those names onto amdlib's modules and back; loading is strict, so a tensor that is missing, left
over or of the wrong shape stops the load with its name.

`load_checkpoint` also sets `AMD.object_channel`: 1 for the release (its test code takes softmax
channel 1 as the object, docs/method.md section 6), the stored value for an amdlib checkpoint
that has one, else None.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from .atomic import atomic_write
from ..config import AMDConfig
from ..model.amd import AMD

FORMAT = "amdlib"
FORMAT_VERSION = 1
RELEASE_OBJECT_CHANNEL = 1
"""The mask channel the release's test code exports and scores as the object (its README says 0)."""

# (release name, amdlib name) templates, tried in order: `#` stands for a number, `*` for the
# rest of the name; both directions are compiled from this one table.
NAME_TEMPLATES: list[tuple[str, str]] = [
    ("backbone2.*", "appearance.backbone.*"),
    ("decode_head2.convs.#.conv.*", "appearance.head.convs.#.0.*"),
    ("decode_head2.convs.#.bn.*", "appearance.head.convs.#.1.*"),
    ("decode_head2.conv_seg.*", "appearance.head.classifier.*"),
    ("decode_head.flownet.feature_pyramid_extractor.convs.*", "motion.pyramid.blocks.*"),
    ("decode_head.flownet.flow_estimators.conv#.*", "motion.estimator.conv#.*"),
    ("decode_head.flownet.flow_estimators.predict_flow1.0.*", "motion.segment_flow_head.hidden.*"),
    ("decode_head.flownet.flow_estimators.predict_flow2.0.*", "motion.segment_flow_head.out.*"),
    ("decode_head.flownet.conv_1x1.*", "motion.reductions.*"),
]


def _compile(source: str, target: str) -> tuple[re.Pattern[str], str]:
    """A template pair as (regex matching `source`, replacement producing `target`)."""
    pattern, replacement, group = "", "", 0
    for piece in re.split(r"([#*])", source):
        if piece in ("#", "*"):
            pattern += r"(\d+)" if piece == "#" else r"(.*)"
        else:
            pattern += re.escape(piece)
    for piece in re.split(r"([#*])", target):
        if piece in ("#", "*"):
            group += 1
            replacement += f"\\{group}"
        else:
            replacement += piece.replace("\\", "\\\\")
    return re.compile(f"^{pattern}$"), replacement


RELEASE_TO_AMDLIB = [_compile(release, ours) for release, ours in NAME_TEMPLATES]
AMDLIB_TO_RELEASE = [_compile(ours, release) for release, ours in NAME_TEMPLATES]


class CheckpointError(ValueError):
    """A checkpoint that does not fit the model it is loaded into."""


def _rename(name: str, rules: list[tuple[re.Pattern[str], str]]) -> str | None:
    for pattern, replacement in rules:
        if pattern.match(name):
            return pattern.sub(replacement, name)
    return None


def _rename_state_dict(state_dict: dict[str, Tensor], rules: list[tuple[re.Pattern[str], str]],
                       what: str) -> dict[str, Tensor]:
    converted, unmapped = {}, []
    for name, tensor in state_dict.items():
        target = _rename(name, rules)
        if target is None:
            unmapped.append(name)
        else:
            converted[target] = tensor
    if unmapped:
        raise CheckpointError(f"{what}: {unmapped[:10]}"
                              + (f" (and {len(unmapped) - 10} more)" if len(unmapped) > 10 else ""))
    return converted


def release_name_to_amdlib(name: str) -> str | None:
    """The amdlib parameter name for a release parameter name, or None if it has no place."""
    return _rename(name, RELEASE_TO_AMDLIB)


def is_release_state_dict(state_dict: dict[str, Any]) -> bool:
    return any(k.startswith(("backbone2.", "decode_head2.", "decode_head.flownet.")) for k in state_dict)


def convert_release_state_dict(state_dict: dict[str, Tensor]) -> dict[str, Tensor]:
    """Rename a release state dict to amdlib's names. Unmappable names raise CheckpointError."""
    return _rename_state_dict(state_dict, RELEASE_TO_AMDLIB, "release checkpoint has tensors amdlib has no place for")


def amdlib_state_dict_to_release(state_dict: dict[str, Tensor]) -> dict[str, Tensor]:
    """Rename an amdlib state dict (a ResNet model's) to the release's names, the inverse of
    `convert_release_state_dict`; a name with no place in the release raises CheckpointError."""
    return _rename_state_dict(state_dict, AMDLIB_TO_RELEASE, "amdlib tensors the release has no place for")


def infer_release_config(state_dict: dict[str, Tensor]) -> AMDConfig:
    """What a release state dict fixes: the number of masks and the backbone depth; every other
    field is the release's default (so `flow_resize_align_corners` is True, as its decode head)."""
    try:
        num_masks = state_dict["decode_head2.conv_seg.weight"].shape[0]
    except KeyError:
        raise CheckpointError("release checkpoint lacks decode_head2.conv_seg.weight (the mask classifier)") from None
    bottleneck = any(k.startswith("backbone2.layer1.0.conv3.") for k in state_dict)
    blocks_in_layer3 = len({k.split(".")[2] for k in state_dict if k.startswith("backbone2.layer3.")})
    backbone = "resnet50" if bottleneck else ("resnet34" if blocks_in_layer3 == 6 else "resnet18")
    return AMDConfig(backbone=backbone, num_masks=num_masks)


def load_state_dict_strict(model: AMD, state_dict: dict[str, Tensor], source: str) -> None:
    """Copy every tensor into `model`, insisting on the same names and shapes on both sides."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    mismatched = [f"{k}: checkpoint {tuple(state_dict[k].shape)} vs model {tuple(expected[k].shape)}"
                  for k in expected if k in state_dict and state_dict[k].shape != expected[k].shape]
    problems = []
    if missing:
        problems.append(f"missing tensors {missing}")
    if unexpected:
        problems.append(f"unexpected tensors {unexpected}")
    if mismatched:
        problems.append(f"shape mismatches {mismatched}")
    if problems:
        raise CheckpointError(f"{source} does not fit the model: " + "; ".join(problems))
    model.load_state_dict(state_dict, strict=True)


def _read(path: Path, trusted: bool) -> dict[str, Any]:
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=not trusted)
    except Exception as error:  # torch raises several types for corrupt or foreign pickles
        hint = "" if trusted else (" If it is a checkpoint you trust that stores other Python objects,"
                                   " pass trusted=True.")
        raise CheckpointError(f"cannot read checkpoint {path}: {error}.{hint}") from error
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f"{path} is not a checkpoint dict (got {type(checkpoint).__name__})")
    return checkpoint


def load_checkpoint(path: str | os.PathLike, trusted: bool = False, **config_overrides: Any) -> AMD:
    """An `AMD` with the weights of an amdlib checkpoint or of the authors' release.

    `config_overrides` set what a checkpoint does not store (e.g. `flow_size` for the release,
    whose 384x640 default is assumed) or change inference-time choices. Strict: any tensor that
    is missing, extra or mis-shaped raises `CheckpointError` naming it. Sets `model.object_channel`
    (module docstring): `RELEASE_OBJECT_CHANNEL` for the release, else what the checkpoint stores.
    """
    path = Path(path)
    checkpoint = _read(path, trusted)
    if checkpoint.get("format") == FORMAT:
        config = AMDConfig.from_dict(checkpoint["config"])
        # A run with a weight average (TrainConfig.ema_decay) stores it for inference.
        state_dict = checkpoint.get("inference_model", checkpoint["model"])
        object_channel = checkpoint.get("object_channel")
    else:
        state_dict = checkpoint.get("state_dict", checkpoint)
        state_dict = {k.removeprefix("module."): v for k, v in state_dict.items()}
        if not is_release_state_dict(state_dict):
            raise CheckpointError(f"{path} is neither an amdlib checkpoint nor the AMD release "
                                  f"(no backbone2/decode_head2/decode_head.flownet tensors)")
        config = infer_release_config(state_dict)
        state_dict = convert_release_state_dict(state_dict)
        object_channel = RELEASE_OBJECT_CHANNEL
    if config_overrides:
        config = config.replace(**config_overrides)
    model = AMD(config)
    load_state_dict_strict(model, state_dict, str(path))
    model.object_channel = None if object_channel is None else int(object_channel)
    return model


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> None:
    """torch.save through `atomic.atomic_write`: never a half-written checkpoint."""
    atomic_write(path, lambda file: torch.save(obj, file))


def checkpoint_contents(model: AMD, **extra: Any) -> dict[str, Any]:
    """What an amdlib checkpoint holds: format tag, config, model weights and `extra` entries
    (training adds optimiser, iteration, RNG states), and `object_channel` when the model has
    one; `load_checkpoint` reads it."""
    contents = {"format": FORMAT, "version": FORMAT_VERSION, "config": model.config.to_dict(),
                "model": model.state_dict()}
    if getattr(model, "object_channel", None) is not None:
        contents["object_channel"] = int(model.object_channel)
    return {**contents, **extra}


def save_checkpoint(model: AMD, path: str | os.PathLike, **extra: Any) -> None:
    """Write an amdlib checkpoint atomically (`checkpoint_contents`)."""
    atomic_torch_save(checkpoint_contents(model, **extra), path)
