"""Does the data keep up with the GPU? Training pairs per second of one loader worker.

    python benchmarks/bench_loader.py [--frames 1280 720] [--pairs 40] [--workers 1 2]
        [--gpu-pairs-per-second 40] [--video-files] [--out PATH]

Writes a YouTube-VOS-layout folder of JPEG frames at `--frames` (YouTube-VOS is mostly 1280x720)
into a temporary directory, then times `YouTubeVOSPairs` with the `paper` profile's sampling
(short side 400 x U[0.96, 1], 384x384 crop): one worker's pairs/s split into decoding (Pillow,
against torchvision's libjpeg-turbo `decode_jpeg`) and the resize + crop, then a `DataLoader` with
each `--workers` count. "Workers per GPU" is the GPU's pairs/s (`--gpu-pairs-per-second`: the
`paper` step's rate from `benchmarks/bench_paper.py` on that GPU) over one worker's.

`--video-files` also encodes the same frames as one H.264 mp4 per video and times
`amdlib.data.videos.VideoFolderPairs` (`amd train --videos`) on them: the one-time decode into its
uint8 cache (seconds), then one worker's pairs/s, which is only the resize + crop.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torchvision
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a plain checkout too

from amdlib.config import TrainConfig  # noqa: E402
from amdlib.data.io import read_rgb  # noqa: E402
from amdlib.data.videos import VideoFolderPairs  # noqa: E402
from amdlib.data.youtube_vos import YouTubeVOSPairs  # noqa: E402
from amdlib.reports.tables import to_markdown  # noqa: E402


def write_videos(root: Path, videos: int, frames: int, width: int, height: int, seed: int = 0) -> None:
    """`videos` folders of `frames` JPEGs (quality 90) of smooth random texture, which compresses
    like a photograph rather than like noise or a flat colour."""
    rng = np.random.default_rng(seed)
    for v in range(videos):
        folder = root / "train_all_frames" / "JPEGImages" / f"video{v:03d}"
        folder.mkdir(parents=True)
        coarse = rng.integers(0, 256, (height // 16 + 2, width // 16 + 2, 3), dtype=np.uint8)
        base = np.asarray(Image.fromarray(coarse).resize((width + 64, height + 64), Image.BICUBIC))
        for f in range(frames):
            noise = rng.integers(-12, 13, (height, width, 3))
            array = np.clip(base[2 * f:2 * f + height, 3 * f:3 * f + width].astype(int) + noise, 0, 255)
            Image.fromarray(array.astype(np.uint8)).save(folder / f"{f:05d}.jpg", quality=90)


def write_clips(dataset: YouTubeVOSPairs, folder: Path) -> int:
    """Each video of `dataset` as an H.264 mp4 (yuv420p, 25 fps) in `folder`; the frames written."""
    import av

    folder.mkdir()
    written = 0
    for video in dataset.videos:
        first = read_rgb(video.frames[0])
        with av.open(str(folder / f"{video.name}.mp4"), "w") as container:
            stream = container.add_stream("libx264", rate=25)
            stream.width, stream.height, stream.pix_fmt = first.shape[1] // 2 * 2, first.shape[0] // 2 * 2, "yuv420p"
            for path in video.frames:
                array = np.ascontiguousarray(read_rgb(path)[:stream.height, :stream.width])
                container.mux(stream.encode(av.VideoFrame.from_ndarray(array, format="rgb24")))
                written += 1
            container.mux(stream.encode())
    return written


def pairs_per_second(fn, count: int) -> float:
    fn(0)
    start = time.perf_counter()
    for i in range(count):
        fn(i)
    return count / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, nargs=2, default=[1280, 720], metavar=("W", "H"))
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--pairs", type=int, default=40, help="pairs timed per row")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--gpu-pairs-per-second", type=float, default=None,
                        help="the paper step's pairs/s on the GPU (bench_paper.py) for the workers column")
    parser.add_argument("--video-files", action="store_true",
                        help="also time VideoFolderPairs (amd train --videos) on the same frames as mp4 files")
    parser.add_argument("--out", help="also write the table as Markdown here")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # as in a DataLoader worker
    train = TrainConfig.profile("paper")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_videos(root, args.videos, 12, *args.frames)
        dataset = YouTubeVOSPairs(root, gap=train.frame_gap, short_side=train.short_side,
                                  scale_min=train.scale_min, crop=train.crop_size, flip=train.flip)
        paths = [v.frames[i] for v in dataset.videos for i in range(2)]

        def pil_decode(i: int) -> None:
            for k in range(2):
                read_rgb(paths[(2 * i + k) % len(paths)])

        def turbo_decode(i: int) -> None:
            for k in range(2):
                torchvision.io.decode_jpeg(torchvision.io.read_file(str(paths[(2 * i + k) % len(paths)])))

        def transform_only(i: int, frames=torch.from_numpy(np.stack([read_rgb(p) for p in paths[:2]]))) -> None:
            dataset.transform(frames.permute(0, 3, 1, 2), dataset.generator(i))

        def whole_item(i: int) -> None:
            dataset[i % len(dataset)]

        one = {}
        for name, fn in (("decode 2 frames (Pillow, as the loader)", pil_decode),
                         ("decode 2 frames (torchvision decode_jpeg)", turbo_decode),
                         ("resize + crop (PairTransform)", transform_only),
                         ("whole item (decode + resize + crop)", whole_item)):
            rate = statistics.median(pairs_per_second(fn, args.pairs) for _ in range(3))
            one[name] = rate
            rows.append({"what": name, "workers": 1, "pairs/s": rate, "ms/pair": 1000 / rate})
        for workers in args.workers:
            loader = torch.utils.data.DataLoader(dataset, batch_size=2, num_workers=workers, shuffle=True,
                                                 persistent_workers=True)
            batches = iter(_forever(loader))
            next(batches)
            start = time.perf_counter()
            for _ in range(args.pairs // 2):
                next(batches)
            rate = 2 * (args.pairs // 2) / (time.perf_counter() - start)
            rows.append({"what": "DataLoader, batch 2", "workers": workers, "pairs/s": rate, "ms/pair": 1000 / rate})
        if args.video_files:
            clips = root / "mp4"
            frames = write_clips(dataset, clips)
            start = time.perf_counter()
            cached = VideoFolderPairs(clips, gap=train.frame_gap, short_side=train.short_side,
                                      scale_min=train.scale_min, crop=train.crop_size, flip=train.flip)
            decode_seconds = time.perf_counter() - start
            rate = statistics.median(pairs_per_second(lambda i: cached[i % len(cached)], args.pairs) for _ in range(3))
            rows.append({"what": "VideoFolderPairs item (mp4 decoded once; resize + crop)", "workers": 1,
                         "pairs/s": rate, "ms/pair": 1000 / rate})
            video_note = (f"VideoFolderPairs: decoding {len(cached)} mp4 clips ({frames} frames) once into its "
                          f"uint8 cache took {decode_seconds:.2f} s ({frames / decode_seconds:.0f} frames/s, "
                          f"{cached.cache_bytes / 1024 ** 2:.0f} MiB at short side {train.short_side}); then an item "
                          f"costs {1000 / rate:.3g} ms against {1000 / one['whole item (decode + resize + crop)']:.3g} "
                          "ms for YouTubeVOSPairs, which decodes two JPEGs per item.")
    per_worker = one["whole item (decode + resize + crop)"]
    header = (f"Frames {args.frames[0]}x{args.frames[1]} JPEG (quality 90), paper sampling (short side "
              f"{train.short_side} x U[{train.scale_min}, 1], crop {train.crop_size[0]}x{train.crop_size[1]}); "
              f"one thread per worker")
    text = header + "\n\n" + to_markdown(pd.DataFrame(rows), float_format="{:.3g}")
    if args.video_files:
        text += "\n\n" + video_note
    if args.gpu_pairs_per_second:
        needed = math.ceil(args.gpu_pairs_per_second / per_worker)
        text += (f"\n\nOne GPU at {args.gpu_pairs_per_second:g} pairs/s needs {needed} worker(s) "
                 f"({per_worker:.3g} pairs/s each).")
    print(text, flush=True)
    if args.out:
        from amdlib.io.atomic import write_text

        write_text(args.out, text + "\n")
    return rows


def _forever(loader):
    while True:
        yield from loader


if __name__ == "__main__":
    main()
