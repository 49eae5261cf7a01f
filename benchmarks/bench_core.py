"""Core speed/memory benchmarks of amdlib on CPU.

Run from the repository root::

    python benchmarks/bench_core.py [--repeats N] [--threads 2] [--only correlation] [--out PATH]

Each benchmark is a *section*: a function ``bench_<name>(args) -> list[dict]`` registered in
``SECTIONS``. ``main`` runs the sections, prints one table per section and, with ``--out``,
writes all of them as Markdown (atomically: a temporary file, then ``os.replace``).

Peak memory is measured as allocator bytes, not RSS: the maximum of the running total of bytes
held by PyTorch's CPU allocator while one forward+backward runs, counted from the start of that
call (inputs and upstream gradient made beforehand are not counted; the output and the input
gradients are). It comes from ``torch.profiler``'s memory events (``profile_memory=True``),
which record every tensor allocation and free with the running total, so the number is
deterministic and free of allocator caching and page-cache noise.
"""

from __future__ import annotations

import argparse
import json
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

from amdlib.correlation import correlation, correlation_naive  # noqa: E402

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
    totals = [
        e["args"]["Total Allocated"]
        for e in events
        if e.get("name") == "[memory]" and e.get("args", {}).get("Device Type", 0) == 0
    ]
    return max(totals, default=0)


# --------------------------------------------------------------------------- sections


def bench_correlation(
    sizes: tuple[tuple[int, int], ...] = ((48, 80), (96, 160)),
    batch: int = 4,
    channels: int = 64,
    max_displacement: int = 4,
    repeats: int = 10,
) -> list[Row]:
    """Cost volume forward+backward: ``correlation`` (tiled matmuls) vs ``correlation_naive``
    (loop over the 81 shifts), float32, same inputs and upstream gradient. Timed runs
    alternate between the two so that load changes on the machine hit both alike."""
    rows: list[Row] = []
    k2 = (2 * max_displacement + 1) ** 2
    for height, width in sizes:
        torch.manual_seed(0)
        f1 = torch.randn(batch, channels, height, width, requires_grad=True)
        f2 = torch.randn(batch, channels, height, width, requires_grad=True)
        upstream = torch.randn(batch, k2, height, width)

        def step(fn: Callable[..., torch.Tensor]) -> Callable[[], None]:
            def run() -> None:
                fn(f1, f2, max_displacement).backward(upstream)
                f1.grad = f2.grad = None

            return run

        naive, fast = step(correlation_naive), step(correlation)
        with torch.no_grad():  # sanity: never report timings of a wrong result
            torch.testing.assert_close(
                correlation(f1, f2, max_displacement), correlation_naive(f1, f2, max_displacement)
            )
        naive(), fast()  # warm-up
        runs = [(seconds(naive), seconds(fast)) for _ in range(repeats)]
        t_naive = statistics.median(r[0] for r in runs)
        t_fast = statistics.median(r[1] for r in runs)
        m_naive, m_fast = peak_allocated_bytes(naive), peak_allocated_bytes(fast)
        rows.append(
            {
                "H x W": f"{height}x{width}",
                "B, C": f"{batch}, {channels}",
                "naive ms": round(t_naive * 1e3, 1),
                "fast ms": round(t_fast * 1e3, 1),
                "speed-up": f"{t_naive / t_fast:.1f}x",
                "naive peak MiB": round(m_naive / 2**20, 1),
                "fast peak MiB": round(m_fast / 2**20, 1),
                "peak fast/naive": f"{m_fast / m_naive:.2f}",
            }
        )
    return rows


def _section_correlation(args: argparse.Namespace) -> list[Row]:
    return bench_correlation(repeats=args.repeats)


# Sections in run order: name -> function(args) -> rows.
# bench_training_step (one AMD training step) goes here, as "training_step".
SECTIONS: dict[str, Callable[[argparse.Namespace], list[Row]]] = {
    "correlation": _section_correlation,
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


def environment_line(threads: int) -> str:
    """One line saying what produced the numbers."""
    return (
        f"torch {torch.__version__}, {threads} CPU thread(s) of {os.cpu_count()} "
        f"({platform.machine()}), Python {platform.python_version()}. Times: medians; peak "
        "memory: PyTorch CPU allocator bytes during one forward+backward (torch.profiler "
        "memory events), not RSS."
    )


def write_markdown(path: str, results: dict[str, list[Row]], header: str) -> None:
    """Write every section's table to ``path`` atomically (temporary file + os.replace)."""
    parts = ["# Core benchmarks", "", header, ""]
    for name, rows in results.items():
        parts += [f"## {name}", "", format_table(rows), ""]
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(parts))
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=10, help="timed runs per method (median)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument(
        "--only", action="append", choices=sorted(SECTIONS), help="run only this section"
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
