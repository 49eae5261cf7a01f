"""Run many emergence.py runs side by side, with a deadline: a sweep of recipes and seeds.

One run per line of a runs file, `NAME: emergence.py options` (blank lines and `#` comments are
skipped), taken in file order by `--workers` worker slots. Before any run starts, the data of
every run is generated one run at a time (`emergence.py --prepare-only`), because the generator
must not write one folder from two processes. At the deadline the runs still going are stopped;
what they evaluated so far stays in their `eval.csv` (written row by row), and runs never started
are listed. Then `emergence.py --summarize` tabulates everything under `--out`.

    python research/emergence_sweep.py runs.txt --workers 2 --threads 1 --minutes 60
    python research/emergence_sweep.py runs.txt --workers 10 --minutes 7 --out sweep  # a GPU

Runs files of past sweeps are in research/sweeps/. Why: when emergence starts varies from seed to
seed by more than most settings differ (research/README.md), so a setting is only judged on several seeds, which is many
runs; on 2 CPU cores two one-thread runs at a time is the most the machine gives, and on a
lent GPU a dozen small runs share the card.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "emergence.py"
sys.path.insert(0, str(SCRIPT.parent))

from emergence import OUT, parse_args  # noqa: E402  (its option parser decides which data a run reads)


@dataclass(frozen=True)
class Run:
    name: str
    options: tuple[str, ...]


def read_runs(path: Path) -> list[Run]:
    """`NAME: options` per line -> runs, in file order; names must be unique."""
    runs: list[Run] = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, colon, options = line.partition(":")
        if not colon or not name.strip():
            raise ValueError(f"{path}:{number}: expected 'NAME: options', got {line!r}")
        runs.append(Run(name.strip(), tuple(shlex.split(options))))
    names = [run.name for run in runs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"{path}: run names used twice: {', '.join(duplicates)}")
    if not runs:
        raise ValueError(f"{path}: no runs")
    return runs


def command(run: Run, out: Path, threads: int, extra: list[str]) -> list[str]:
    return [sys.executable, str(SCRIPT), "--name", run.name, "--out", str(out), "--threads", str(threads),
            *run.options, *extra]


def data_key(run: Run) -> tuple:
    """The options that decide which data a run reads: runs with one key share their data."""
    args = parse_args(["--name", run.name, *run.options])
    return (args.data, tuple(args.scene), tuple(args.train_scene), args.train_objects, args.train_videos,
            args.warmup_data, args.val_videos)


def prepare(runs: list[Run], out: Path, extra: list[str], data_workers: int = 1) -> None:
    """Generate the data of every distinct data key, one key after the other, each with
    `data_workers` processes."""
    first_of_key = {data_key(run): run for run in reversed(runs)}
    for run in first_of_key.values():
        subprocess.run(command(run, out, 1, extra) + ["--prepare-only", "--data-workers", str(data_workers)],
                       check=True)


def sweep(runs: list[Run], out: Path, workers: int, threads: int, seconds: float, extra: list[str]) -> list[str]:
    """Run `runs` on `workers` slots until done or `seconds` have passed -> names never started."""
    deadline = time.monotonic() + seconds
    waiting = list(runs)
    going: dict[str, subprocess.Popen] = {}
    while (waiting or going) and time.monotonic() < deadline:
        for name in [name for name, process in going.items() if process.poll() is not None]:
            code = going.pop(name).returncode
            print(f"[sweep] {name} finished (exit {code})", flush=True)
        while waiting and len(going) < workers:
            run = waiting.pop(0)
            (out / run.name).mkdir(parents=True, exist_ok=True)
            with open(out / run.name / "stdout.log", "w") as log:  # the child keeps its own copy
                going[run.name] = subprocess.Popen(command(run, out, threads, extra), stdout=log,
                                                   stderr=subprocess.STDOUT)
            print(f"[sweep] {run.name} started", flush=True)
        time.sleep(1)
    for name, process in going.items():
        process.terminate()
        print(f"[sweep] {name} stopped at the deadline", flush=True)
    for process in going.values():
        process.wait()
    return [run.name for run in waiting]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", type=Path, help="runs file: one 'NAME: emergence.py options' per line")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run")
    parser.add_argument("--minutes", type=float, default=60.0, help="deadline for the whole sweep")
    parser.add_argument("--data-root", default="data/generated")
    parser.add_argument("--data-workers", type=int, default=1,
                        help="processes generating the data before the runs start (a many-core machine)")
    args = parser.parse_args(argv)
    runs = read_runs(args.runs)
    extra = ["--data-root", args.data_root]
    prepare(runs, args.out, extra, args.data_workers)
    never = sweep(runs, args.out, args.workers, args.threads, args.minutes * 60, extra)
    if never:
        print(f"[sweep] not started before the deadline: {', '.join(never)}", flush=True)
    subprocess.run([sys.executable, str(SCRIPT), "--summarize", "--out", str(args.out)], check=False)


if __name__ == "__main__":
    main()
