"""Core speed/memory benchmarks of amdlib on CPU.

Run from the repository root::

    python benchmarks/bench_core.py [--repeats N] [--threads 2] [--only NAME] [--no-rss] [--out PATH]

Each benchmark is a *section*: a ``bench_<name>(...)`` function returning rows (dicts, one per
table row), registered in ``SECTIONS`` through a small adapter that takes the parsed command
line. ``main`` runs the sections in order, prints one table per section and, with ``--out``,
writes all of them as Markdown (atomically: a temporary file, then ``os.replace``).

Peak memory, two ways:

* allocator bytes (the main number): the maximum of the running total of bytes held by
  PyTorch's CPU allocator while one forward+backward runs, counted from the start of that call
  (inputs and upstream gradient made beforehand are not counted; output, saved tensors,
  temporaries and input gradients are). From ``torch.profiler``'s memory events
  (``profile_memory=True``), which record every tensor allocation and free with the running
  total: deterministic, and free of allocator caching and page-cache noise.
* peak-RSS growth (VmHWM - VmRSS) over one forward+backward in a fresh process per method:
  what the OS sees, including the C allocator's fragmentation, which for many large short-lived
  tensors can far exceed the live bytes.
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a plain checkout too

from amdlib.io.atomic import write_text  # noqa: E402
from amdlib.model.correlation import correlation, correlation_naive  # noqa: E402

Row = dict[str, object]


# --------------------------------------------------------------------------- measuring


def seconds(fn: Callable[[], object]) -> float:
    """Wall time of one ``fn()`` call."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_seconds(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` over ``repeats`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    return statistics.median(seconds(fn) for _ in range(repeats))


def peak_allocated_bytes(fn: Callable[[], object]) -> int:
    """Peak bytes held by PyTorch's CPU allocator during ``fn()``, above the level at its start
    (from torch.profiler memory events; see the module docstring)."""
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    with tempfile.TemporaryDirectory() as tmp:
        trace = os.path.join(tmp, "trace.json")
        prof.export_chrome_trace(trace)
        with open(trace, encoding="utf-8") as fh:
            events = json.load(fh)["traceEvents"]
    memory = [
        e["args"]
        for e in events
        if e.get("name") == "[memory]" and e.get("args", {}).get("Device Type", 0) == 0
    ]
    if not memory:
        return 0
    # "Total Allocated" is the allocator's running total, which also holds blocks allocated
    # before profiling (e.g. by earlier measurements); subtract the level just before the
    # first event so that only what happens during fn() counts.
    baseline = memory[0]["Total Allocated"] - memory[0]["Bytes"]
    return max(m["Total Allocated"] for m in memory) - baseline


def proc_status_bytes(field: str) -> int:
    """A memory field of /proc/self/status (VmRSS, VmHWM) in bytes (Linux)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def _rss_growth_child(make_step: Callable[[], Callable[[], object]], threads: int) -> int:
    torch.set_num_threads(threads)
    step = make_step()
    before = proc_status_bytes("VmRSS")
    with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
        fh.write("5")  # reset the peak-RSS mark (VmHWM) to the current RSS
    step()
    return proc_status_bytes("VmHWM") - before


def peak_rss_growth_bytes(make_step: Callable[[], Callable[[], object]]) -> int | None:
    """Peak resident-set growth over one ``step()`` in a fresh process, ``step = make_step()``
    (a picklable module-level factory that builds its inputs and warms up), or None where
    /proc (Linux) is unavailable. Unlike allocator bytes this includes the C allocator's
    fragmentation. (Not ``ru_maxrss``: a child inherits its parent's high-water mark.)"""
    if not os.path.exists("/proc/self/clear_refs"):
        return None
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(_rss_growth_child, (make_step, torch.get_num_threads()))


# --------------------------------------------------------------------------- sections


def _mib(nbytes: int | None) -> float | str:
    return "n/a" if nbytes is None else round(nbytes / 2**20, 1)


CORRELATION_METHODS: dict[str, Callable[..., torch.Tensor]] = {
    "naive": correlation_naive,
    "fast": correlation,
}


def correlation_step(
    method: str, batch: int, channels: int, height: int, width: int, max_displacement: int
) -> Callable[[], None]:
    """Make float32 inputs (seeded: every method gets the same) and return a closure running one
    forward+backward of ``CORRELATION_METHODS[method]``; warmed up on a tiny input first."""
    fn = CORRELATION_METHODS[method]
    tiny = torch.randn(1, 2, 3, 3, requires_grad=True)
    fn(tiny, tiny, max_displacement).sum().backward()
    torch.manual_seed(0)
    f1 = torch.randn(batch, channels, height, width, requires_grad=True)
    f2 = torch.randn(batch, channels, height, width, requires_grad=True)
    upstream = torch.randn(batch, (2 * max_displacement + 1) ** 2, height, width)

    def run() -> None:
        fn(f1, f2, max_displacement).backward(upstream)
        f1.grad = f2.grad = None

    return run


def _check_correlation(channels: int, height: int, width: int, max_displacement: int) -> None:
    """Never report timings of a wrong result: fast == naive on one benchmark-sized image."""
    f1, f2 = torch.randn(2, 1, channels, height, width).unbind()
    torch.testing.assert_close(
        correlation(f1, f2, max_displacement), correlation_naive(f1, f2, max_displacement)
    )


def bench_correlation(
    sizes: tuple[tuple[int, int], ...] = ((48, 80), (96, 160)),
    batch: int = 4,
    channels: int = 64,
    max_displacement: int = 4,
    repeats: int = 10,
    rss: bool = True,
) -> list[Row]:
    """Cost volume forward+backward: ``correlation`` (tiled matmuls) vs ``correlation_naive``
    (loop over the 81 shifts), float32, same inputs and upstream gradient. Timed runs alternate
    between the two so that load changes on the machine hit both alike. Peak memory: allocator
    bytes (main number) and, with ``rss``, peak-RSS growth in a fresh process per method."""
    rows: list[Row] = []
    for height, width in sizes:
        _check_correlation(channels, height, width, max_displacement)
        shape = (batch, channels, height, width, max_displacement)
        naive, fast = (correlation_step(m, *shape) for m in ("naive", "fast"))
        runs = [(seconds(naive), seconds(fast)) for _ in range(repeats)]
        t_naive = statistics.median(r[0] for r in runs)
        t_fast = statistics.median(r[1] for r in runs)
        m_naive, m_fast = peak_allocated_bytes(naive), peak_allocated_bytes(fast)
        row: Row = {
            "H x W": f"{height}x{width}",
            "B, C": f"{batch}, {channels}",
            "naive ms": round(t_naive * 1e3, 1),
            "fast ms": round(t_fast * 1e3, 1),
            "speed-up": f"{t_naive / t_fast:.1f}x",
            "naive peak MiB": round(m_naive / 2**20, 1),
            "fast peak MiB": round(m_fast / 2**20, 1),
            "peak fast/naive": f"{m_fast / m_naive:.2f}",
        }
        if rss:
            r_naive, r_fast = (
                peak_rss_growth_bytes(functools.partial(correlation_step, m, *shape))
                for m in ("naive", "fast")
            )
            row["naive RSS MiB"] = _mib(r_naive)
            row["fast RSS MiB"] = _mib(r_fast)
        rows.append(row)
    return rows


def _section_correlation(args: argparse.Namespace) -> list[Row]:
    return bench_correlation(repeats=args.repeats, rss=not args.no_rss)


def training_step(cost_volume: Callable[..., torch.Tensor], amp: bool, batch: int = 2,
                  frame_size: int = 128, flow_size: tuple[int, int] = (128, 192)) -> Callable[[], None]:
    """One full AMD training step (forward, backward, Adam) of the release model (ResNet-50,
    c = 5) with `cost_volume` as the motion pathway's correlation; returns the step function."""
    import amdlib.model.motion
    from amdlib import AMD, AMDConfig

    torch.manual_seed(0)
    model = AMD(AMDConfig(flow_size=flow_size)).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, weight_decay=1e-6)
    frames = torch.rand(batch, 2, 3, frame_size, frame_size)

    def run() -> None:
        original = amdlib.model.motion.correlation
        amdlib.model.motion.correlation = cost_volume
        try:
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp):
                loss = model(frames).loss
            loss.backward()
            optimizer.step()
        finally:
            amdlib.model.motion.correlation = original

    run()  # warm-up; also creates Adam's state so that every timed step is alike
    return run


def bench_training_step(repeats: int = 5, batch: int = 2) -> list[Row]:
    """Full training step at 128x128 frames, 128x192 flow input: amdlib as shipped (fast cost
    volume, fp32), the same with the naive 81-shift loop (the reference), and with bf16 autocast.
    Ratios are against the naive-loop step measured in the same run."""
    variants = {
        "naive cost volume, fp32 (reference)": (correlation_naive, False),
        "fast cost volume, fp32": (correlation, False),
        "fast cost volume, bf16 autocast": (correlation, True),
    }
    steps = {name: training_step(fn, amp, batch) for name, (fn, amp) in variants.items()}
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):  # interleaved so that load changes hit every variant alike
        for name, step in steps.items():
            times[name].append(seconds(step))
    reference = next(iter(variants))
    medians = {name: statistics.median(t) for name, t in times.items()}
    peaks = {name: peak_allocated_bytes(step) for name, step in steps.items()}
    return [
        {
            "variant": name,
            "batch": batch,
            "step ms": round(medians[name] * 1e3, 1),
            "speed-up vs reference": f"{medians[reference] / medians[name]:.2f}x",
            "peak MiB": round(peaks[name] / 2**20, 1),
            "peak vs reference": f"{peaks[name] / peaks[reference]:.2f}",
        }
        for name in steps
    ]


def _section_training_step(args: argparse.Namespace) -> list[Row]:
    return bench_training_step(repeats=max(3, args.repeats // 2))


# Sections in run order: name -> function(args) -> rows.
SECTIONS: dict[str, Callable[[argparse.Namespace], list[Row]]] = {
    "correlation": _section_correlation,
    "training_step": _section_training_step,
}


# --------------------------------------------------------------------------- output


def format_table(rows: list[Row]) -> str:
    """Markdown table of ``rows`` (columns: keys of the first row, in order)."""
    if not rows:
        return "(no rows)"
    cols = list(rows[0])
    cells = [[str(row.get(c, "")) for c in cols] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(cols)]

    def line(values: list[str]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cols), rule, *(line(r) for r in cells)])


def cpu_name() -> str:
    """The CPU model (Linux /proc/cpuinfo), else whatever ``platform`` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment_line(threads: int) -> str:
    """One line saying what produced the numbers."""
    return (
        f"torch {torch.__version__}, {threads} CPU thread(s) of {os.cpu_count()} "
        f"({cpu_name()}), Python {platform.python_version()}. Times: medians. Peak "
        "MiB: PyTorch CPU allocator bytes held at the peak of one forward+backward, counted "
        "from its start (torch.profiler memory events). RSS MiB: growth of the peak resident "
        "set over one forward+backward in a fresh process per method (includes malloc "
        "fragmentation)."
    )


def write_markdown(path: str, results: dict[str, list[Row]], header: str) -> None:
    """Write every section's table to ``path`` atomically (`amdlib.io.atomic.write_text`)."""
    parts = ["# Core benchmarks", "", header, ""]
    for name, rows in results.items():
        parts += [f"## {name}", "", format_table(rows), ""]
    write_text(path, "\n".join(parts))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=10, help="timed runs per method (median)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument(
        "--only", action="append", choices=sorted(SECTIONS), help="run only this section"
    )
    parser.add_argument(
        "--no-rss", action="store_true", help="skip the fresh-process RSS measurements"
    )
    parser.add_argument("--out", help="also write all tables as Markdown to this path")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, list[Row]]:
    """Run the selected sections, print their tables, optionally write them; return the rows."""
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    header = environment_line(args.threads)
    print(header, flush=True)
    results: dict[str, list[Row]] = {}
    for name, section in SECTIONS.items():
        if args.only and name not in args.only:
            continue
        results[name] = section(args)
        print(f"\n## {name}\n\n{format_table(results[name])}", flush=True)
    if args.out:
        write_markdown(args.out, results, header)
        print(f"\nwrote {args.out}")
    return results


if __name__ == "__main__":
    main()
