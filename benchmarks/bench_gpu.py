"""Training speed, memory and AMP agreement of a profile on a CUDA GPU.

    python benchmarks/bench_gpu.py --profile paper --batch 2 8 [--steps 30] [--out PATH]
        [--cost-volume tiled batched]

For each cost-volume method, batch size and AMP mode (none, bf16, fp16): one training step of `amdlib.AMD` (forward,
backward, Adam) on random frames at the profile's crop size, timed with CUDA events (median over
`--steps` steps after warm-up), with the peak of GPU memory held by PyTorch's allocator. Each AMP
mode's loss on the first step is compared with fp32's on the same weights and frames, so a mode
that runs fast but computes something else shows up here. Ratios are against fp32 in the same
run. What only a GPU shows: the CPU profiles never use AMP (docs/method.md section 5: the release trains
in fp32), and the paper's 384x384 step does not fit a CPU's time.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
from pathlib import Path

import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a plain checkout too

import amdlib.model.motion  # noqa: E402
from amdlib import AMD, AMDConfig  # noqa: E402
from amdlib.model.correlation import correlation  # noqa: E402
from amdlib.reports.tables import to_markdown  # noqa: E402
from amdlib.training.train import AMP_DTYPES, TrainConfig  # noqa: E402


def measure(model_config: AMDConfig, crop: tuple[int, int], batch: int, amp: str, steps: int,
            seed: int = 0) -> dict:
    """One row: ms per step, pairs per second, peak GiB and the first step's loss."""
    device = torch.device("cuda")
    torch.manual_seed(seed)
    model = AMD(model_config).to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    scaler = torch.amp.GradScaler("cuda", enabled=amp == "fp16")
    dtype = AMP_DTYPES[amp]
    frames = torch.rand(batch, 2, 3, *crop, generator=torch.Generator().manual_seed(seed)).to(device)

    def step() -> float:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=dtype, enabled=dtype is not None):
            loss = model(frames).loss
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        return loss

    first_loss = float(step().detach())
    for _ in range(3):  # warm-up; also keeps cudnn.benchmark's trial workspaces out of the peak
        step()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(steps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        step()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    milliseconds = statistics.median(times)
    return {"batch": batch, "amp": amp, "ms/step": round(milliseconds, 2),
            "pairs/s": round(batch * 1000 / milliseconds, 1),
            "peak GiB (timed steps)": round(torch.cuda.max_memory_allocated() / 2**30, 2),
            "first loss": first_loss, "finite": bool(torch.isfinite(torch.tensor(first_loss)))}


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="paper")
    parser.add_argument("--batch", type=int, nargs="+", default=[2, 8])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--out", help="also write the table as Markdown here")
    parser.add_argument("--cost-volume", nargs="+", choices=["tiled", "batched"], default=["tiled", "batched"],
                        help="cost-volume methods to time (the first is the reference of the last column)")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        raise SystemExit("bench_gpu.py needs a CUDA device")
    torch.backends.cudnn.benchmark = True
    model_config = AMDConfig.profile(args.profile)
    crop = TrainConfig.profile(args.profile).crop_size
    rows = []
    reference: dict[int, float] = {}
    for method in args.cost_volume:
        amdlib.model.motion.correlation = functools.partial(correlation, method=method)
        try:
            for batch in args.batch:
                fp32 = None
                for amp in ("none", "bf16", "fp16"):
                    row = {"cost volume": method, **measure(model_config, crop, batch, amp, args.steps)}
                    fp32 = row if amp == "none" else fp32
                    reference.setdefault(batch, fp32["ms/step"])
                    row["speed-up vs fp32"] = round(fp32["ms/step"] / row["ms/step"], 2)
                    row[f"speed-up vs {args.cost_volume[0]} fp32"] = round(reference[batch] / row["ms/step"], 2)
                    row["loss rel. diff vs fp32"] = abs(row["first loss"] - fp32["first loss"]) / abs(fp32["first loss"])
                    rows.append(row)
                    torch.cuda.empty_cache()
        finally:
            amdlib.model.motion.correlation = correlation
    header = (f"{torch.cuda.get_device_name()}, torch {torch.__version__}, profile {args.profile}, "
              f"crop {crop[0]}x{crop[1]}, {args.steps} timed steps (median)")
    table = to_markdown(pd.DataFrame(rows), float_format="{:.6g}")
    print(header + "\n\n" + table, flush=True)
    if args.out:
        from amdlib.io.atomic import write_text

        write_text(args.out, f"{header}\n\n{table}\n")
    return rows


if __name__ == "__main__":
    main()
