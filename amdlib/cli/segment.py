"""`amd segment`: zero-shot video object segmentation of your own video (docs/method.md section 6b).

    amd segment clip.mp4 --checkpoint runs/cpu/checkpoint.pt --out out/clip
    amd segment frames/ --checkpoint amd_pretrained.pth --tta 100 --out out/frames

Reads a video file (through PyAV) or a folder of frames (`amdlib.data.video`), optionally adapts
the model to the video (test-time adaptation, `amdlib.evaluation.adapt`), picks the object
channel (a fixed one, the checkpoint's known object channel, or label-free: the channel with the
smallest mean area over the video), and writes one mask PNG per frame (0/255) and an overlay
video.

The video is streamed: frames are decoded, segmented and written in chunks of `--chunk` frames,
so memory does not grow with the video's length. What needs the whole video is gathered in
earlier passes that keep only small things: the frames for test-time adaptation at the model's
input size (all of them up to `--tta-frames`, else that many frames as evenly spaced
consecutive pairs), and, for the label-free channel, each channel's mask area per frame (c
numbers a frame). Each pass decodes the video again.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor
from tqdm.auto import tqdm

from . import CommandError
from ..data.transforms import resize_images
from ..evaluation.adapt import AdaptConfig, adapt
from ..evaluation.channels import smallest_mean_area
from ..evaluation.predict import segment_frames
from ..io.checkpoint import CheckpointError, load_checkpoint
from ..data.video import VideoSource, open_video, to_float
from ..io.video import OverlayWriter

THRESHOLD = 0.5
"""Soft mask value above which a pixel is foreground."""
ALMOST_ALL, ALMOST_NONE = 0.95, 0.005
"""Coverage (fraction of the frame) above / below which a mask is suspicious in `coverage_warning`."""


# ----------------------------------------------------------------------------------------------
# Segmenting


def upsample(masks: Tensor, size: tuple[int, int]) -> Tensor:
    """T,c,h,w -> T,c,*size (bilinear), as `AMD.segment(images, size)` does."""
    return F.interpolate(masks, size=size, mode="bilinear", align_corners=False)


@torch.no_grad()
def segment_video(model, frames: Tensor, size: tuple[int, int], batch_size: int = 16, progress: bool = True) -> Tensor:
    """T,c,H,W soft masks at the frames' resolution for T,3,H,W frames (model input: `size`), on
    the CPU, computed on the device the model lives on. Holds the whole video: for short clips."""
    model.eval()
    out = []
    for start in tqdm(range(0, frames.shape[0], batch_size), desc="segment", unit="batch", disable=not progress):
        out.append(upsample(segment_frames(model, frames[start:start + batch_size], size, None), tuple(frames.shape[-2:])))
    return torch.cat(out)


def tta_videos(source: VideoSource, size: tuple[int, int], max_frames: int, chunk: int) -> list[Tensor]:
    """Frames for test-time adaptation at `size` (H,W): the whole video as one T,3,h,w tensor when
    it has at most `max_frames` frames, else max_frames // 2 evenly spaced consecutive pairs
    (2,3,h,w each), so memory is bounded by `max_frames` small frames."""
    keep = set(range(source.length))
    if source.length > max_frames:
        starts = np.linspace(0, source.length - 2, max(max_frames // 2, 1)).round().astype(int)
        keep = {int(t) for t in starts} | {int(t) + 1 for t in starts}
    small: dict[int, Tensor] = {}
    index = 0
    for frames in source.chunks(chunk):
        wanted = [i for i in range(frames.shape[0]) if index + i in keep]
        if wanted:
            resized = resize_images(to_float(frames[wanted]), size)
            small.update({index + i: frame for i, frame in zip(wanted, resized)})
        index += frames.shape[0]
    if source.length <= max_frames:
        return [torch.stack([small[i] for i in sorted(small)])]
    return [torch.stack((small[t], small[t + 1])) for t in sorted(starts.tolist()) if t in small and t + 1 in small]


def channel_areas(model, source: VideoSource, size: tuple[int, int], chunk: int) -> Tensor:
    """float64 T,c: the fraction of each frame that each channel covers (soft mask > THRESHOLD at
    the frame's resolution), one chunk at a time."""
    areas = []
    for frames in source.chunks(chunk):
        masks = upsample(segment_frames(model, to_float(frames), size, None), source.size)
        areas.append((masks > THRESHOLD).sum((2, 3)).double() / (source.size[0] * source.size[1]))
    return torch.cat(areas)


def foreground_chunks(model, source: VideoSource, size: tuple[int, int], channel: int,
                      chunk: int) -> Iterator[tuple[np.ndarray, Tensor]]:
    """(uint8 T,H,W,3 frames, bool T,H,W foreground of `channel`) per chunk of the video."""
    for frames in source.chunks(chunk):
        masks = segment_frames(model, to_float(frames), size, None)
        yield frames, upsample(masks[:, channel:channel + 1], source.size)[:, 0] > THRESHOLD


# ----------------------------------------------------------------------------------------------
# Writing


def overlay(frames: np.ndarray, mask: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """uint8 T,H,W,3 frames and bool T,H,W masks -> uint8 T,H,W,3 with the foreground tinted red:
    (1 - alpha) * value + alpha * tint, through one 256-entry table per colour channel."""
    values = np.arange(256, dtype=np.float64)
    tint = (255.0, 25.5, 25.5)
    out = np.empty_like(frames)
    for k in range(3):
        table = np.rint((1 - alpha) * values + alpha * tint[k]).clip(0, 255).astype(np.uint8)
        out[..., k] = np.where(mask, table[frames[..., k]], frames[..., k])
    return out



def write_masks(folder: Path, names: Iterator[str], masks: Tensor) -> None:
    """One 0/255 PNG per bool H,W mask of T,H,W `masks`, named by the next T `names`."""
    for mask in masks.numpy():
        Image.fromarray(mask.astype(np.uint8) * 255).save(folder / f"{next(names)}.png")


def coverage_warning(coverage: np.ndarray, channel: int) -> str | None:
    """One line when the channel covers almost all (> 95 %) or almost none (< 0.5 %) of most
    frames, as an untrained or mismatched model does; else None. coverage: T fractions."""
    for label, bad in (("almost all", coverage > ALMOST_ALL), ("almost none", coverage < ALMOST_NONE)):
        if bad.mean() > 0.5:
            bound = f"more than {ALMOST_ALL:.0%}" if label == "almost all" else f"less than {ALMOST_NONE:.1%}"
            return (f"amd segment: warning: channel {channel} covers {label} of the frame ({bound}) in "
                    f"{int(bad.sum())} of {len(coverage)} frames; the model may be untrained or the wrong "
                    "one, or another channel is the object (--channel)")
    return None


# ----------------------------------------------------------------------------------------------
# Command line


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="amd segment", description=__doc__.split("\n\n")[0])
    parser.add_argument("input", type=Path, help="a video file or a folder of frames")
    parser.add_argument("--checkpoint", required=True, type=Path, help="amdlib checkpoint or the release's")
    parser.add_argument("--trusted", action="store_true",
                        help="load a checkpoint that stores Python objects besides tensors; this runs the "
                             "file's pickled code, so use it only for files you trust")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--tta", type=int, default=0, help="test-time adaptation iterations (0: none)")
    parser.add_argument("--tta-lr", type=float, default=1e-4)
    parser.add_argument("--tta-frames", type=int, default=128,
                        help="frames kept for test-time adaptation: the whole video up to this many, else this "
                             "many as evenly spaced consecutive pairs (default 128)")
    parser.add_argument("--channel", type=int,
                        help="object channel (default: the checkpoint's known object channel, e.g. 1 for the "
                             "authors' release; else label-free: the smallest mean area over the video)")
    parser.add_argument("--size", type=int, nargs=2, metavar=("H", "W"),
                        help="model input size (default: the checkpoint's flow input size)")
    parser.add_argument("--chunk", type=int, default=16, help="frames decoded and segmented at a time (default 16)")
    parser.add_argument("--no-video", action="store_true", help="write the masks only")
    parser.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda if available)")
    args = parser.parse_args(argv)
    if args.chunk < 1:
        parser.error("--chunk must be at least 1")
    if args.tta_frames < 2:
        parser.error("--tta-frames must be at least 2 (one pair)")
    return args


def checkpoint_problem(error: CheckpointError) -> str:
    """The one-line reason a checkpoint did not load, with the command line's hint."""
    cause = str(error.__cause__ or "")
    if "Unsupported global" in cause:
        name = next((line.split("GLOBAL ")[1].split()[0] for line in cause.splitlines() if "GLOBAL " in line), "")
        return (f"stores Python objects besides tensors ({name or 'a pickled object'}), which safe loading "
                "refuses; if you trust the file, pass --trusted (it runs the file's pickled code)")
    if error.__cause__ is not None:
        return "cannot read it as a PyTorch checkpoint (corrupt, truncated, or another kind of file)"
    return str(error).replace(str(error.__cause__ or ""), "").strip()


def load_model(path: Path, trusted: bool, device: str | None):
    """The checkpoint's AMD on `device`; a missing or unreadable file raises CommandError."""
    if not path.is_file():
        raise CommandError(f"{path}: checkpoint not found")
    try:
        model = load_checkpoint(path, trusted=trusted)
    except CheckpointError as error:
        message = checkpoint_problem(error)
        if message.startswith(str(path)):  # "<path> is neither ..." -> "<path>: is neither ..."
            message = message[len(str(path)):].lstrip(": ")
        raise CommandError(f"{path}: {message}") from error
    return model.to(device or ("cuda" if torch.cuda.is_available() else "cpu")).eval()


def choose_channel(model, source: VideoSource, size: tuple[int, int], requested: int | None, chunk: int) -> int:
    """--channel, else the checkpoint's `object_channel`, else the label-free rule (one extra pass)."""
    if requested is not None:
        return requested
    known = getattr(model, "object_channel", None)
    if known is not None:
        return int(known)
    return smallest_mean_area(channel_areas(model, source, size, chunk))


def run(args: argparse.Namespace) -> tuple[int, int, np.ndarray]:
    """Segment `args.input` into `args.out`; returns (channel, frames written, T coverages)."""
    model = load_model(args.checkpoint, args.trusted, args.device)
    if args.channel is not None and not 0 <= args.channel < model.config.num_masks:
        raise CommandError(f"--channel {args.channel}: the model has {model.config.num_masks} channels "
                           f"(0 to {model.config.num_masks - 1})")
    source = open_video(args.input)
    size = tuple(args.size or model.config.flow_size)
    if args.tta > 0:
        videos = tta_videos(source, size, args.tta_frames, args.chunk)
        model = adapt(model, videos, AdaptConfig(iterations=args.tta, lr=args.tta_lr))
    channel = choose_channel(model, source, size, args.channel, args.chunk)
    mask_dir = args.out / "masks"
    mask_dir.mkdir(parents=True, exist_ok=True)
    writer = None if args.no_video else OverlayWriter(args.out / "overlay.mp4", source.fps, source.size)
    names, coverage = source.names(), []
    bar = tqdm(total=source.length, desc="segment", unit="frame", disable=None)  # off when not a terminal
    try:
        for frames, foreground in foreground_chunks(model, source, size, channel, args.chunk):
            write_masks(mask_dir, names, foreground)
            coverage.extend((foreground.sum((1, 2)).double() / foreground[0].numel()).tolist())
            if writer is not None:
                writer.write(overlay(frames, foreground.numpy()))
            bar.update(len(frames))
    finally:
        bar.close()
        if writer is not None:
            writer.close()
    return channel, len(coverage), np.asarray(coverage)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    channel, count, coverage = run(args)
    warning = coverage_warning(coverage, channel)
    if warning is not None:
        print(warning, file=sys.stderr)
    print(f"channel {channel}: {count} masks in {args.out / 'masks'}"
          + ("" if args.no_video else f", overlay {args.out / 'overlay.mp4'}"))
    return 0
