"""Running the appearance (and motion) pathway on evaluation data: the masks and motion
channels that `amdlib.evaluation.channels` then scores and chooses from.

- `segment_frames`, `segment_sequences`: soft masks of frames, or of every annotated frame of
  every `VOSSequence`, as `SequenceMasks` at the ground truth's size;
- `motion_contrast_channel`, `attach_motion_channels`: the label-free per-video object channel
  from the model's own motion pathway (the segment whose flow departs most from the largest,
  background segment's flow; `segment_vectors` gives each channel's mean flow);
- `dataset_object_channel_from_model`: the same rule's majority over a set, computed from scratch;
- `vos_channel_scores`: segment a VOS set and score every channel rule (`channels.channel_scores`);
- `saliency_channel_maps`: every channel's soft mask of every image of a DUTS-TE-layout set;
- `single_channel`: wrap a baseline's T,H,W foreground map as one-channel `SequenceMasks`.

This module imports `channels`, never the reverse: choosing a channel needs no model.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..data.transforms import resize_images
from ..model.amd import AMD
from ..model.segment_flow import masked_average_pool
from .channels import MIN_OBJECT_AREA, ChannelScores, SequenceMasks, channel_scores, majority_channel


@torch.no_grad()
def segment_frames(model: AMD, frames: Tensor, input_size: tuple[int, int] | None,
                   size: tuple[int, int] | None) -> Tensor:
    """float32 B,c,*size soft masks on the CPU of B,3,H,W frames resized to `input_size` (when
    given), computed on the model's device; `size` None keeps the model's output resolution
    (`AMD.segment`). The model must be in eval mode."""
    frames = frames.to(next(model.parameters()).device)
    if input_size is not None:
        frames = resize_images(frames, input_size)
    return model.segment(frames, size=size).float().cpu()


@torch.no_grad()
def segment_sequences(model: AMD, sequences, input_size: tuple[int, int] | None = None,
                      batch_size: int = 16) -> list[SequenceMasks]:
    """Run the appearance pathway on every annotated frame of every `VOSSequence`.

    Frames are resized to `input_size` (H,W) when given, and masks back to the ground truth size.
    """
    model.eval()
    results = []
    for sequence in sequences:
        truth = sequence.truth()
        masks = [segment_frames(model, frames, input_size, tuple(truth.shape[-2:]))
                 for _, frames in sequence.annotated_batches(batch_size)]
        results.append(SequenceMasks(sequence.name, torch.cat(masks), truth))
    return results


def segment_vectors(flow: Tensor, masks: Tensor) -> tuple[Tensor, Tensor]:
    """B,2,h,w segment flow and the B,c,H',W' soft masks that segmented it -> (B,c,2 mean flow
    of each channel, B,c mask area): formula (1) with the flow as the feature. Masks are resized
    to the flow's grid first."""
    masks = F.interpolate(masks.float(), size=flow.shape[-2:], mode="bilinear", align_corners=False)
    return masked_average_pool(flow.float(), masks), masks.mean((2, 3))  # formula (1) on the flow


@torch.no_grad()
def motion_contrast_channel(model: AMD, sequence, input_size: tuple[int, int] | None = None,
                            batch_size: int = 8) -> int:
    """Label-free object channel of one `VOSSequence` from the model's own motion pathway.

    Every consecutive frame pair goes through the whole model; the forward segment flow at the
    finest scale (cut by `AMDOutput.flow_masks`: the second frame's masks in the release,
    docs/method.md section 3) gives one motion vector per channel. The background is the
    channel with the largest mean area; the object is the channel, among those covering at least
    MIN_OBJECT_AREA on average, whose vector is farthest from the background's, on average over
    the pairs: the segment whose flow departs most from the dominant, background motion. With
    c = 2 this is the non-background channel.
    """
    model.eval()
    device = next(model.parameters()).device
    vectors, areas = [], []
    for start in range(0, len(sequence) - 1, batch_size):
        stop = min(start + batch_size, len(sequence) - 1)
        frames = torch.stack([sequence.frame(i) for i in range(start, stop + 1)]).to(device)
        if input_size is not None:
            frames = resize_images(frames, input_size)
        pairs = torch.stack((frames[:-1], frames[1:]), 1)  # B,2,3,H,W
        output = model(pairs)
        v, a = segment_vectors(output.flows[0][:, 0], output.flow_masks[:, 0])
        vectors.append(v.cpu())
        areas.append(a.cpu())
    if not vectors:
        raise ValueError(f"{sequence.name}: motion contrast needs at least two frames")
    vectors, area = torch.cat(vectors), torch.cat(areas).mean(0)  # P,c,2 and c
    background = int(area.argmax())
    contrast = (vectors - vectors[:, background:background + 1]).norm(dim=2).mean(0)
    contrast[area < MIN_OBJECT_AREA] = -1.0
    contrast[background] = -2.0
    return int(contrast.argmax())


def attach_motion_channels(model: AMD, sequences, results: list[SequenceMasks],
                           input_size: tuple[int, int] | None = None) -> list[SequenceMasks]:
    """Set `motion_channel` of every result (same order as `sequences`); returns `results`."""
    for sequence, result in zip(sequences, results):
        result.motion_channel = motion_contrast_channel(model, sequence, input_size)
    return results


def dataset_object_channel_from_model(model: AMD, sequences,
                                      input_size: tuple[int, int] | None = None) -> int:
    """`channels.dataset_object_channel` computed from scratch: `motion_contrast_channel` of every
    `VOSSequence` in `sequences` (frames resized to `input_size`, H,W), then the channel picked
    in the most videos (ties: the lowest index). A model with c = 1 gives 0 without running."""
    if model.config.num_masks == 1:
        return 0
    channels = [motion_contrast_channel(model, sequence, input_size) for sequence in sequences]
    if not channels:
        raise ValueError("no sequences to choose an object channel from")
    return majority_channel(channels)


def vos_channel_scores(model: AMD, sequences, input_size: tuple[int, int] | None = None,
                       motion_contrast: bool = True) -> ChannelScores:
    """Segment a VOS set with `model` (no adaptation) and score every channel rule (the
    motion-contrast rule too, unless `motion_contrast=False`: it runs the whole model on every
    consecutive pair)."""
    results = segment_sequences(model, sequences, input_size)
    if motion_contrast:
        attach_motion_channels(model, sequences, results, input_size)
    return channel_scores(results)


def single_channel(name: str, maps: Tensor, truth: Tensor) -> SequenceMasks:
    """Wrap a T,H,W foreground map (a baseline's) as one-channel masks."""
    return SequenceMasks(name, maps.unsqueeze(1).float(), truth)


@torch.no_grad()
def saliency_channel_maps(model: AMD, dataset, input_size: tuple[int, int] | None = None) -> list[tuple[Tensor, Tensor]]:
    """(c,H,W soft masks at the image's size, H,W bool truth) for every DUTS-TE-layout item."""
    model.eval()
    device = next(model.parameters()).device
    maps = []
    for index in range(len(dataset)):
        image, truth = dataset[index][:2]
        batch = image.unsqueeze(0).to(device)
        if input_size is not None:
            batch = resize_images(batch, input_size)
        maps.append((model.segment(batch, size=tuple(truth.shape[-2:]))[0].float().cpu(), truth.bool()))
    return maps
