"""The `paper` training step against the release's structure, and against the hardware's limit.

    python benchmarks/bench_paper.py [--device cpu|cuda] [--batch 2 8] [--steps 3]
        [--crop 384 384] [--flow-size 384 640] [--modes reference fp32 ...] [--compile]
        [--breakdown] [--out PATH]

One training step is forward, backward and Adam of `amdlib.AMD` with the `paper` model (ResNet-50,
c = 5, 384x640 flow input) on random 384x384 frame pairs. Each mode (`MODES`) is timed against
`reference`, the release's structure measured in the same run: the 81-shift correlation loop,
fp32, NCHW, the per-tensor Adam, nothing compiled. Per mode and batch it prints the median
ms/step over `--steps` timed steps (after one untimed step whose loss is compared with the
reference's, on the same weights and frames), pairs/s, peak memory, FLOPs per step (counted once
with `torch.utils.flop_counter`: convolutions and matrix products, forward and backward),
achieved TFLOP/s and the fraction of the device's peak (CUDA: a table of dense tensor-core peaks,
`DEVICE_PEAKS`; CPU: a matrix product measured in the same run). Peak memory on CUDA is the
allocator's peak over the timed steps; on CPU it is the growth of the peak resident set from
before the first step (activations, gradients, optimiser state), in one process for all modes,
so memory an earlier mode freed and a later one reuses is not counted again.

`--breakdown [MODE ...]` adds a per-part table of each named mode (default: the last one
timed): appearance pathway, cost volume, the rest of the motion pathway, warp + occlusion, the
SSIM of the photometric loss and the optimiser, each run forward and backward in isolation on
the inputs one step gives it. The project's targets (CPU: >= 1.5x the reference in fp32 and
>= 2.5x in bf16; GPU: >= 3x, >= 35 % of the bf16 peak, the cost volume <= 10 % of the step) are
read off these tables, never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a plain checkout too

from bench_core import proc_status_bytes  # noqa: E402  (this folder, where the script runs from)
import amdlib.model.motion  # noqa: E402
from amdlib import AMD, AMDConfig  # noqa: E402
from amdlib.model import loss as loss_module  # noqa: E402
from amdlib.model.correlation import correlation, correlation_naive  # noqa: E402
from amdlib.reports.tables import to_markdown  # noqa: E402
from amdlib.training.optimizer import adam  # noqa: E402
from amdlib.training.train import AMP_DTYPES  # noqa: E402


@dataclass(frozen=True)
class Mode:
    """How one step runs. `reference` is the release's structure; the rest are amdlib's speed-ups."""

    name: str
    cost_volume: str = "fast"
    """"naive" (the release's 81-shift loop) or "fast" (`correlation`: tiled on CPU, batched on CUDA)."""
    amp: str = "none"
    channels_last: bool = False
    fused_adam: bool = True
    """amdlib's optimiser (`amdlib.training.optimizer.adam`); the release's is the per-tensor loop."""
    compile: bool = False


MODES = {mode.name: mode for mode in (
    Mode("reference", cost_volume="naive", fused_adam=False),
    Mode("fp32"),
    Mode("fp32 channels_last", channels_last=True),
    Mode("bf16", amp="bf16"),
    Mode("bf16 channels_last", amp="bf16", channels_last=True),
    Mode("bf16 channels_last compiled", amp="bf16", channels_last=True, compile=True),
)}

DEVICE_PEAKS = {  # dense TFLOP/s: (bf16/fp16 tensor cores, tf32 tensor cores); vendor data sheets
    "H200": (989.4, 494.7), "H100 80GB HBM3": (989.4, 494.7), "H100 PCIe": (756.0, 378.0),
    "A100": (312.0, 156.0), "L40S": (362.1, 181.0), "L4": (121.0, 60.0), "A10": (125.0, 62.5),
}


def peak_tflops(device: torch.device, amp: str, cpu_peaks: dict[str, float]) -> float | None:
    """The peak a mode is held against: bf16/fp16 tensor cores under AMP, else TF32 (cuDNN's
    default for fp32 convolutions); on CPU the measured matrix product of that dtype."""
    if device.type == "cpu":
        return cpu_peaks["bf16" if amp != "none" else "fp32"]
    name = torch.cuda.get_device_name(device)
    for key, (low, tf32) in DEVICE_PEAKS.items():
        if key in name:
            return low if amp != "none" else tf32
    return None


def measured_matmul_tflops(dtype: torch.dtype, size: int = 2048, repeats: int = 5) -> float:
    """TFLOP/s of a size x size matrix product on this CPU's threads (the CPU's usable peak)."""
    a, b = torch.randn(size, size).to(dtype), torch.randn(size, size).to(dtype)
    torch.mm(a, b)
    seconds = statistics.median(_timed(lambda: torch.mm(a, b), torch.device("cpu")) for _ in range(repeats))
    return 2 * size**3 / seconds / 1e12


def _timed(fn: Callable[[], object], device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


@contextlib.contextmanager
def peak_memory(device: torch.device) -> Iterator[dict[str, float | None]]:
    """Yields a dict that holds "GiB" afterwards: the CUDA allocator's peak, or on CPU the growth
    of the peak resident set over the block (Linux; None elsewhere)."""
    result: dict[str, float | None] = {"GiB": None}
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        yield result
        result["GiB"] = torch.cuda.max_memory_allocated(device) / 2**30
        return
    try:
        before = proc_status_bytes("VmRSS")
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")  # reset the peak-RSS mark to the current RSS
    except (OSError, KeyError):  # no /proc (not Linux)
        before = None
    yield result
    if before is not None:
        result["GiB"] = (proc_status_bytes("VmHWM") - before) / 2**30


@contextlib.contextmanager
def cost_volume(kind: str) -> Iterator[None]:
    """Run the motion pathway with the naive or the fast cost volume."""
    original = amdlib.model.motion.correlation
    if kind == "naive":
        amdlib.model.motion.correlation = lambda a, b, d: correlation_naive(a, b, d)
    try:
        yield
    finally:
        amdlib.model.motion.correlation = original


class Step:
    """One training step of a mode on fixed weights and frames."""

    def __init__(self, mode: Mode, config: AMDConfig, weights: dict, frames: torch.Tensor) -> None:
        self.mode, self.device = mode, frames.device
        self.model = AMD(config).to(self.device)
        self.model.load_state_dict(weights)
        self.model.train()
        if mode.channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.optimizer = (adam if mode.fused_adam else torch.optim.Adam)(self.model.parameters(), lr=1e-4,
                                                                         weight_decay=1e-6)
        self.forward = torch.compile(self.model) if mode.compile else self.model
        self.frames = frames

    def __call__(self) -> torch.Tensor:
        self.optimizer.zero_grad(set_to_none=True)
        dtype = AMP_DTYPES[self.mode.amp]
        with cost_volume(self.mode.cost_volume):
            with torch.autocast(self.device.type, dtype=dtype, enabled=dtype is not None):
                loss = self.forward(self.frames).loss
            loss.backward()
        self.optimizer.step()
        return loss.detach()


def count_flops(config: AMDConfig, weights: dict, frames: torch.Tensor) -> int:
    """FLOPs of one fp32 step (forward + backward; the optimiser's elementwise work is not counted)."""
    step = Step(MODES["fp32"], config, weights, frames)
    with FlopCounterMode(display=False) as counter:
        step()
    return counter.get_total_flops()


def measure(mode: Mode, config: AMDConfig, weights: dict, frames: torch.Tensor, steps: int) -> dict:
    step = Step(mode, config, weights, frames)
    cpu = frames.device.type == "cpu"
    # CPU: the peak counts from before the first step (activations, gradients, optimiser state);
    # CUDA: over the timed steps only, without cudnn.benchmark's trial workspaces.
    with peak_memory(frames.device) if cpu else contextlib.nullcontext() as memory:
        first_loss = float(step())  # also the warm-up (and, for `compile`, the compilation)
    with contextlib.nullcontext(memory) if cpu else peak_memory(frames.device) as memory:
        times = [_timed(step, frames.device) for _ in range(steps)]
    return {"ms/step": 1000 * statistics.median(times), "peak GiB": memory["GiB"], "first loss": first_loss}


# ----------------------------------------------------------------------------- per-part breakdown


def _forward_backward(fn: Callable[[], torch.Tensor | tuple], device: torch.device) -> float:
    """Seconds of fn() and the backward of the sum of its outputs."""
    def run() -> None:
        out = fn()
        out = out if isinstance(out, tuple) else (out,)
        torch.autograd.backward([o.float().sum() for o in out if o.requires_grad])
    run()
    return statistics.median(_timed(run, device) for _ in range(3))


def breakdown(mode: Mode, config: AMDConfig, weights: dict, frames: torch.Tensor) -> list[dict]:
    """Per-part seconds of `mode`'s step, each part forward + backward in isolation on the inputs
    one step of the whole model hands it (captured on the way)."""
    step = Step(mode, config, weights, frames)
    device, model, batch = frames.device, step.model, frames.shape[0]
    dtype = AMP_DTYPES[mode.amp]
    autocast = functools.partial(torch.autocast, device.type, dtype=dtype, enabled=dtype is not None)
    captured: dict[str, list] = {"cost volume": [], "warp": [], "occlusion": [], "ssim": []}
    original_correlation, original_warp = amdlib.model.motion.correlation, loss_module.warp
    original_ssim, original_visibility = loss_module.ssim_distance, loss_module.visibility_mask

    def grab(name: str, fn: Callable) -> Callable:
        def wrapper(*args, **kwargs):
            captured[name].append((tuple(a.detach() if torch.is_tensor(a) else a for a in args), kwargs))
            return fn(*args, **kwargs)
        return wrapper

    amdlib.model.motion.correlation = grab("cost volume", original_correlation)
    loss_module.warp, loss_module.ssim_distance = grab("warp", original_warp), grab("ssim", original_ssim)
    loss_module.visibility_mask = grab("occlusion", original_visibility)
    try:
        whole = statistics.median(_timed(step, device) for _ in range(2))
        for key in captured:
            captured[key].clear()
        step()
    finally:
        amdlib.model.motion.correlation, loss_module.warp = original_correlation, original_warp
        loss_module.ssim_distance, loss_module.visibility_mask = original_ssim, original_visibility

    images = frames.flatten(0, 1)

    def leaf(t: torch.Tensor) -> torch.Tensor:  # a fresh leaf in the captured tensor's own layout
        return t.detach().clone().requires_grad_(t.is_floating_point())

    def appearance() -> torch.Tensor:
        with autocast():
            return model.appearance(images)

    with autocast():
        masks = model.appearance(images).unflatten(0, (batch, 2)).detach()
    flow_images = F.interpolate(images, size=config.flow_size, mode="bilinear",
                                align_corners=config.flow_resize_align_corners).unflatten(0, (batch, 2))
    flow_masks = (masks.flip(1) if config.flow_masks == "source" else masks).requires_grad_()

    def motion() -> tuple:  # as AMD.forward does it
        with autocast():
            features = model.motion.features(torch.cat((flow_images[:, 0], flow_images[:, 1])))
            first, second = [f[:batch] for f in features], [f[batch:] for f in features]
            return tuple(model.motion([torch.cat(p) for p in zip(first, second)],
                                      [torch.cat(p) for p in zip(second, first)],
                                      torch.cat((flow_masks[:, 0], flow_masks[:, 1]))))

    def correlations() -> tuple:
        with autocast():
            return tuple(original_correlation(leaf(a), leaf(b), d) for (a, b, d), _ in captured["cost volume"])

    def warps_and_occlusion() -> tuple:
        for args, kwargs in captured["occlusion"]:
            original_visibility(*args, **kwargs)
        return tuple(original_warp(leaf(image), leaf(flow), *rest, **kwargs)
                     for (image, flow, *rest), kwargs in captured["warp"])

    def ssim() -> tuple:
        return tuple(original_ssim(leaf(x), leaf(y)) for (x, y), _ in captured["ssim"])

    parts = {"appearance pathway": appearance, "motion pathway (all)": motion, "cost volume": correlations,
             "warp + occlusion": warps_and_occlusion, "SSIM": ssim}
    seconds = {name: _forward_backward(fn, device) for name, fn in parts.items()}
    step()  # gradients in place for the optimiser alone
    seconds["optimiser (Adam)"] = statistics.median(_timed(step.optimizer.step, device) for _ in range(3))
    seconds["motion pathway without cost volume"] = seconds["motion pathway (all)"] - seconds["cost volume"]
    order = ["appearance pathway", "cost volume", "motion pathway without cost volume", "warp + occlusion", "SSIM",
             "optimiser (Adam)"]
    rows = [{"part": name, "ms": 1000 * seconds[name], "share of step": seconds[name] / whole} for name in order]
    rows.append({"part": "sum of the parts", "ms": 1000 * sum(seconds[n] for n in order),
                 "share of step": sum(seconds[n] for n in order) / whole})
    rows.append({"part": "whole step", "ms": 1000 * whole, "share of step": 1.0})
    return rows


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                        help="cpu, cuda, cuda:1 ... (default: cuda if available)")
    parser.add_argument("--batch", type=int, nargs="+", default=[2], help="pairs per step; several give a row each")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per mode (median)")
    parser.add_argument("--crop", type=int, nargs=2, default=[384, 384], metavar=("H", "W"),
                        help="frame size (default: the paper's 384x384 crops)")
    parser.add_argument("--flow-size", type=int, nargs=2, default=None, metavar=("H", "W"),
                        help="motion pathway input (default: the paper's 384x640)")
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=None, metavar="MODE",
                        help=f"modes after the reference, of: {', '.join(MODES)} (default: all but the compiled one)")
    parser.add_argument("--compile", action="store_true", help="also time the torch.compile'd mode")
    parser.add_argument("--breakdown", nargs="*", choices=list(MODES), default=None, metavar="MODE",
                        help="per-part tables of these modes (no names: the last mode timed)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    parser.add_argument("--out", help="also write the tables as Markdown here")
    args = parser.parse_args(argv)
    try:
        device = torch.device(args.device)
    except RuntimeError:
        parser.error(f"--device {args.device}: not a device name (cpu, cuda, cuda:1 ...)")
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error(f"--device {args.device}: this machine has no CUDA device; use --device cpu")
    if args.threads:
        torch.set_num_threads(args.threads)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    config = AMDConfig.profile("paper", **({"flow_size": tuple(args.flow_size)} if args.flow_size else {}))
    names = args.modes or [n for n in MODES if not MODES[n].compile]
    names = ["reference"] + [n for n in names if n != "reference"]
    if args.compile and "bf16 channels_last compiled" not in names:
        names.append("bf16 channels_last compiled")

    cpu_peaks = {}
    if device.type == "cpu":
        cpu_peaks = {"fp32": measured_matmul_tflops(torch.float32), "bf16": measured_matmul_tflops(torch.bfloat16)}
    torch.manual_seed(0)
    weights = AMD(config).state_dict()
    rows = []
    for batch in args.batch:
        frames = torch.rand(batch, 2, 3, *args.crop, generator=torch.Generator().manual_seed(batch)).to(device)
        flops = count_flops(config, weights, frames)
        reference = None
        for name in names:
            mode = MODES[name]
            result = measure(mode, config, weights, frames, args.steps)
            reference = reference or result
            peak = peak_tflops(device, mode.amp, cpu_peaks)
            achieved = flops / (result["ms/step"] / 1000) / 1e12
            rows.append({"mode": name, "batch": batch, "ms/step": result["ms/step"],
                         "pairs/s": batch * 1000 / result["ms/step"],
                         "speed-up vs reference": reference["ms/step"] / result["ms/step"],
                         "peak GiB": result["peak GiB"], "GFLOP/step": flops / 1e9, "TFLOP/s": achieved,
                         "fraction of peak": None if peak is None else achieved / peak,
                         "loss rel. diff vs reference": abs(result["first loss"] - reference["first loss"])
                         / abs(reference["first loss"])})
            print(f"{name}, batch {batch}: {result['ms/step']:.1f} ms/step", flush=True)
            if device.type == "cuda":
                torch.cuda.empty_cache()

    where = (torch.cuda.get_device_name(device) if device.type == "cuda"
             else f"CPU, {torch.get_num_threads()} threads (matmul peak measured here: "
                  f"fp32 {cpu_peaks['fp32']:.2f}, bf16 {cpu_peaks['bf16']:.2f} TFLOP/s)")
    header = (f"{where}, torch {torch.__version__}; paper model, crop {args.crop[0]}x{args.crop[1]}, flow input "
              f"{config.flow_size[0]}x{config.flow_size[1]}; median of {args.steps} timed steps after one untimed")
    text = header + "\n\n" + to_markdown(pd.DataFrame(rows), float_format="{:.4g}")
    if args.breakdown is not None:
        frames = torch.rand(args.batch[0], 2, 3, *args.crop, generator=torch.Generator().manual_seed(0)).to(device)
        for name in args.breakdown or names[-1:]:
            parts = breakdown(MODES[name], config, weights, frames)
            text += (f"\n\nPer part, mode `{name}`, batch {args.batch[0]} (each part forward + backward "
                     f"alone on the inputs one step gives it):\n\n"
                     + to_markdown(pd.DataFrame(parts), float_format="{:.3g}"))
    print(text, flush=True)
    if args.out:
        from amdlib.io.atomic import write_text

        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        write_text(args.out, text + "\n")
    return rows


if __name__ == "__main__":
    main()
