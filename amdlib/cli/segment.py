"""`amd segment`: zero-shot video object segmentation of your own video (docs/method.md section 6b).

    amd segment clip.mp4 --checkpoint runs/cpu/checkpoint.pt --out out/clip
    amd segment frames/ --checkpoint amd_pretrained.pth --tta 100 --out out/frames

Reads a video file (through PyAV) or a folder of frames, optionally adapts the model to the video
(test-time adaptation, `amdlib.evaluation.adapt`), picks the object channel (a fixed one, or label-free: the
channel with the smallest mean area over the video), and writes one mask PNG per frame (0/255)
and an overlay video.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from ..evaluation.adapt import AdaptConfig, adapt
from ..io.checkpoint import load_checkpoint
from ..data.io import list_images, read_rgb
from ..data.transforms import resize_images
from ..evaluation.channels import smallest_mean_area_channel


class VideoReadError(ValueError):
    """The input is neither a readable video file nor a folder of frames."""


def read_video(path: Path) -> tuple[Tensor, list[str], float]:
    """T,3,H,W float frames in [0,1], a name per frame, and frames per second (25 for folders)."""
    if path.is_dir():
        files = list_images(path)
        if not files:
            raise VideoReadError(f"{path}: folder holds no images")
        frames = np.stack([read_rgb(f) for f in files])
        names, fps = [f.stem for f in files], 25.0
    elif path.is_file():
        import imageio.v3 as iio

        try:
            frames = np.asarray(iio.imread(path, plugin="pyav"))
            fps = float(iio.immeta(path, plugin="pyav").get("fps", 25.0) or 25.0)
        except Exception as error:  # PyAV raises several types for broken or foreign files
            raise VideoReadError(f"{path}: cannot read as a video ({error})") from error
        if frames.ndim != 4 or frames.shape[0] == 0:
            raise VideoReadError(f"{path}: no frames decoded")
        names = [f"{i:05d}" for i in range(frames.shape[0])]
    else:
        raise VideoReadError(f"{path}: no such file or folder")
    return torch.from_numpy(frames[..., :3]).permute(0, 3, 1, 2).float() / 255, names, fps


@torch.no_grad()
def segment_video(model, frames: Tensor, size: tuple[int, int], batch_size: int = 16, progress: bool = True) -> Tensor:
    """T,c,H,W soft masks at the frames' resolution for T,3,H,W frames (model input: `size`), on
    the CPU, computed on the device the model lives on."""
    from tqdm.auto import tqdm

    model.eval()
    device = next(model.parameters()).device
    out = []
    for start in tqdm(range(0, frames.shape[0], batch_size), desc="segment", unit="batch", disable=not progress):
        batch = resize_images(frames[start:start + batch_size], size).to(device)
        out.append(model.segment(batch, size=tuple(frames.shape[-2:])).cpu())
    return torch.cat(out)


def overlay(frames: Tensor, mask: Tensor, alpha: float = 0.5) -> np.ndarray:
    """T,H,W,3 uint8: the foreground tinted red."""
    tint = torch.tensor([1.0, 0.1, 0.1]).view(1, 3, 1, 1)
    blended = torch.where(mask.unsqueeze(1), (1 - alpha) * frames + alpha * tint, frames)
    return (blended.clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).numpy()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="amd segment", description=__doc__.split("\n\n")[0])
    parser.add_argument("input", type=Path, help="a video file or a folder of frames")
    parser.add_argument("--checkpoint", required=True, type=Path, help="amdlib checkpoint or the release's")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--tta", type=int, default=0, help="test-time adaptation iterations (0: none)")
    parser.add_argument("--tta-lr", type=float, default=1e-4)
    parser.add_argument("--channel", type=int, help="object channel (default: label-free smallest mean area)")
    parser.add_argument("--size", type=int, nargs=2, metavar=("H", "W"),
                        help="model input size (default: the checkpoint's flow input size)")
    parser.add_argument("--no-video", action="store_true", help="write the masks only")
    parser.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda if available)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> Path:
    args = parse_args(argv)
    model = load_checkpoint(args.checkpoint).to(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    frames, names, fps = read_video(args.input)
    size = tuple(args.size or model.config.flow_size)
    if args.tta > 0:
        small = resize_images(frames, size)
        model = adapt(model, [small], AdaptConfig(iterations=args.tta, lr=args.tta_lr))
    masks = segment_video(model, frames, size)
    if args.channel is not None and not 0 <= args.channel < masks.shape[1]:
        raise ValueError(f"--channel {args.channel}: the model has {masks.shape[1]} channels")
    channel = args.channel if args.channel is not None else smallest_mean_area_channel(masks)
    foreground = masks[:, channel] > 0.5
    mask_dir = args.out / "masks"
    mask_dir.mkdir(parents=True, exist_ok=True)
    for name, mask in zip(names, foreground):
        Image.fromarray(mask.numpy().astype(np.uint8) * 255).save(mask_dir / f"{name}.png")
    if not args.no_video:
        import imageio.v3 as iio

        video = overlay(frames, foreground)
        even = video[:, : video.shape[1] // 2 * 2, : video.shape[2] // 2 * 2]  # H.264 needs even sizes
        iio.imwrite(args.out / "overlay.mp4", even, plugin="pyav", fps=fps, codec="libx264")
    print(f"channel {channel}: {len(names)} masks in {mask_dir}" + ("" if args.no_video else f", overlay {args.out / 'overlay.mp4'}"))
    return args.out
