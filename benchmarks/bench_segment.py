"""Peak memory and speed of `amd segment` on a 720p clip at two lengths.

    .venv/bin/python benchmarks/bench_segment.py                 # 2 s and the whole clip
    .venv/bin/python benchmarks/bench_segment.py --seconds 2 3 --video my_720p.mp4

Each run is a fresh Python subprocess that calls `amdlib.cli.main(["segment", ...])` and reports
its own peak resident memory (`resource.getrusage(RUSAGE_SELF).ru_maxrss`) and wall time, so one
run's allocations never count towards another's. The model is an untrained `cpu`-profile AMD
saved with `save_checkpoint` on the fly: speed and memory do not depend on the weights.

The clip is the 720p sample video beside the checkout (`../shared/data/videos/sam2_01_dog.mp4`)
when it is there, else a generated 1280x720 clip of a moving square; each length is cut from it
(the first N seconds, re-encoded) before timing starts.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SAMPLE_VIDEO = REPO.parent / "shared" / "data" / "videos" / "sam2_01_dog.mp4"
CHILD = """
import json, resource, sys, time
from amdlib.cli import main
tic = time.perf_counter()
status = main(sys.argv[1:])
seconds = time.perf_counter() - tic
print("BENCH " + json.dumps({"status": str(status), "seconds": seconds,
                             "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def generated_clip(path: Path, seconds: float, fps: int = 30, size: tuple[int, int] = (720, 1280)) -> Path:
    """A H.264 clip of `seconds` at `fps`: a bright square crossing a noisy background (H,W = size)."""
    import imageio.v3 as iio

    height, width = size
    rng = np.random.default_rng(0)
    background = (rng.random((height, width, 3)) * 90).astype(np.uint8)
    frames = []
    for t in range(int(round(seconds * fps))):
        frame = background.copy()
        x = 100 + 8 * t
        frame[250:450, x % (width - 200): x % (width - 200) + 200] = 230
        frames.append(frame)
    iio.imwrite(path, np.stack(frames), plugin="pyav", fps=fps, codec="libx264")
    return path


def cut(source: Path, seconds: float | None, path: Path) -> tuple[Path, int]:
    """The first `seconds` of `source` (all of it for None) re-encoded to `path`; and its frame count."""
    import av

    with av.open(str(source)) as reader, av.open(str(path), "w") as writer:
        stream = reader.streams.video[0]
        fps = stream.average_rate or 25
        out = writer.add_stream("libx264", rate=fps)
        out.width, out.height, out.pix_fmt = stream.width, stream.height, "yuv420p"
        count = 0
        for frame in reader.decode(stream):
            if seconds is not None and count >= seconds * float(fps):
                break
            for packet in out.encode(frame.reformat(format="yuv420p")):
                writer.mux(packet)
            count += 1
        for packet in out.encode():
            writer.mux(packet)
    return path, count


def run_once(video: Path, checkpoint: Path, out: Path, extra: list[str]) -> dict:
    """One `amd segment` in a fresh interpreter: {"status", "seconds", "peak_rss_mb"}."""
    command = [sys.executable, "-c", CHILD, "segment", str(video), "--checkpoint", str(checkpoint),
               "--out", str(out), "--device", "cpu", *extra]
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    lines = [line for line in result.stdout.splitlines() if line.startswith("BENCH ")]
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"amd segment failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return json.loads(lines[-1][len("BENCH "):])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", type=Path, help="source clip (default: the 720p sample, else a generated one)")
    parser.add_argument("--seconds", type=float, nargs="+", default=[2.0, 0.0],
                        help="clip lengths in seconds; 0 = the whole clip (default: 2 0)")
    parser.add_argument("--tta", type=int, default=0, help="passed to amd segment --tta")
    parser.add_argument("--no-video", action="store_true", help="passed to amd segment")
    args = parser.parse_args(argv)

    from amdlib.config import profile
    from amdlib.io.checkpoint import save_checkpoint
    from amdlib.model.amd import AMD
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        torch.manual_seed(0)
        checkpoint = folder / "untrained.pt"
        save_checkpoint(AMD(profile("cpu").model), checkpoint)
        source = args.video or (SAMPLE_VIDEO if SAMPLE_VIDEO.is_file() else
                                generated_clip(folder / "generated.mp4", max(max(args.seconds), 6.0)))
        extra = ["--tta", str(args.tta)] + (["--no-video"] if args.no_video else [])
        print(f"source {source.name}; untrained cpu-profile model; extra {extra}")
        print(f"{'length':>8} {'frames':>7} {'seconds':>8} {'frames/s':>9} {'peak RSS MB':>12}")
        for seconds in args.seconds:
            clip, frames = cut(source, seconds or None, folder / f"clip_{seconds:g}.mp4")
            result = run_once(clip, checkpoint, folder / f"out_{seconds:g}", extra)
            label = f"{seconds:g} s" if seconds else "whole"
            print(f"{label:>8} {frames:>7} {result['seconds']:>8.1f} {frames / result['seconds']:>9.2f} "
                  f"{result['peak_rss_mb']:>12.0f}", flush=True)


if __name__ == "__main__":
    main()
