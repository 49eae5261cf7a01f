#!/usr/bin/env python3
"""The main job: regenerate every result of this repository for one profile.

Runs each ``notebooks/NN_*.ipynb`` (two digits, then ``_``) in name order with papermill,
injecting the parameters ``profile`` and ``results_dir``, and writes the executed notebooks to
``results/<profile>/notebooks/``. Then runs the core benchmark
(``benchmarks/bench_core.py --out results/<profile>/benchmarks.md``) when that file exists.

Each step prints one progress line. The first failing step stops the run with a message that
names it (for a notebook: papermill's failing cell, exception name and value); outputs written
by earlier steps are kept. The exit status is non-zero on any failure.

Usage::

    python scripts/reproduce.py                    # profile cpu (the default main job)
    python scripts/reproduce.py --profile smoke    # seconds; what CI-like checks use
    python scripts/reproduce.py --only 02          # a single step: notebook number/stem, or bench_core

Notebooks execute with the ``notebooks/`` folder as their working directory (as in Jupyter);
``results_dir`` is passed as an absolute path.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

REPO_ROOT: Path = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR: Path = REPO_ROOT / "notebooks"
RESULTS_ROOT: Path = REPO_ROOT / "results"
BENCH_SCRIPT: Path = REPO_ROOT / "benchmarks" / "bench_core.py"
BENCH_STEP: str = "bench_core"
PROFILES: tuple[str, ...] = ("smoke", "cpu", "paper")


class StepFailed(RuntimeError):
    """A step of the main job failed; the message says which and why."""


@dataclass
class Step:
    """One unit of the main job: a notebook or the core benchmark."""

    name: str
    run: Callable[[], str]
    """Runs the step; returns a short description of what it wrote."""
    aliases: tuple[str, ...] = field(default_factory=tuple)
    quiet: bool = True
    """True when the step prints nothing itself, so its progress fits on one line."""

    def matches(self, key: str) -> bool:
        """True when ``key`` names this step (its name, file name or number prefix)."""
        return key == self.name or key in self.aliases


def find_notebooks(notebooks_dir: Path = NOTEBOOKS_DIR) -> list[Path]:
    """Numbered notebooks (``NN_*.ipynb``) in name order."""
    if not notebooks_dir.is_dir():
        return []
    return sorted(p for p in notebooks_dir.glob("[0-9][0-9]_*.ipynb") if p.is_file())


def _papermill_failure_message(notebook: Path, output: Path, exc: BaseException) -> str:
    """A readable account of a papermill failure, with the failing cell when known."""
    lines = [f"notebook {notebook.name} failed"]
    cell_index = getattr(exc, "cell_index", None)
    if cell_index is not None:
        exec_count = getattr(exc, "exec_count", None)
        lines.append(f"  failing cell: index {cell_index}" + (f" (execution count {exec_count})" if exec_count is not None else ""))
        ename = getattr(exc, "ename", type(exc).__name__)
        evalue = getattr(exc, "evalue", "")
        lines.append(f"  error: {ename}: {evalue}")
        source = getattr(exc, "source", "") or ""
        if source:
            src_lines = source.splitlines()
            shown = src_lines[:15]
            lines.append("  cell source:")
            lines.extend("    | " + s for s in shown)
            if len(src_lines) > len(shown):
                lines.append(f"    | ... ({len(src_lines) - len(shown)} more lines)")
    else:
        lines.append(f"  error: {type(exc).__name__}: {exc}")
    lines.append(f"  partially executed notebook: {output}")
    return "\n".join(lines)


def notebook_step(notebook: Path, profile: str, results_dir: Path) -> Step:
    """A step that executes ``notebook`` with papermill into ``results_dir/notebooks``."""
    out_dir = results_dir / "notebooks"

    def run() -> str:
        try:
            import papermill as pm  # imported lazily: only notebooks need it
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise StepFailed(
                f"notebook {notebook.name}: papermill is not installed ({exc}); run `make setup`"
            ) from exc
        out_dir.mkdir(parents=True, exist_ok=True)
        output = out_dir / notebook.name
        try:
            pm.execute_notebook(
                str(notebook),
                str(output),
                parameters={"profile": profile, "results_dir": str(results_dir)},
                cwd=str(notebook.parent),
                progress_bar=False,
                log_output=False,
            )
        except Exception as exc:  # papermill.PapermillExecutionError and anything else
            raise StepFailed(_papermill_failure_message(notebook, output, exc)) from exc
        return str(output.relative_to(REPO_ROOT))

    return Step(name=notebook.stem, run=run, aliases=(notebook.name, notebook.name[:2]))


def bench_step(profile: str, results_dir: Path, bench_script: Path = BENCH_SCRIPT) -> Step:
    """A step that runs the core benchmark with this interpreter."""
    out = results_dir / "benchmarks.md"

    def run() -> str:
        out.parent.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, str(bench_script), "--out", str(out)]
        proc = subprocess.run(cmd, cwd=REPO_ROOT)
        if proc.returncode != 0:
            raise StepFailed(
                f"benchmark {bench_script.relative_to(REPO_ROOT)} failed with exit code "
                f"{proc.returncode} (command: {' '.join(cmd)})"
            )
        return str(out.relative_to(REPO_ROOT))

    return Step(name=BENCH_STEP, run=run, aliases=(bench_script.name,), quiet=False)


def plan(profile: str, results_dir: Path) -> tuple[list[Step], list[Path]]:
    """All steps of the main job for ``profile``, and the notebooks found."""
    notebooks = find_notebooks()
    steps = [notebook_step(nb, profile, results_dir) for nb in notebooks]
    if BENCH_SCRIPT.is_file():
        steps.append(bench_step(profile, results_dir))
    return steps, notebooks


def write_log(results_dir: Path, profile: str, records: list[dict[str, object]]) -> None:
    """Record what ran, for how long and how it ended, in ``results/<profile>/reproduce_log.json``."""
    results_dir.mkdir(parents=True, exist_ok=True)
    log = {
        "profile": profile,
        "python": sys.version.split()[0],
        "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
        "steps": records,
    }
    (results_dir / "reproduce_log.json").write_text(json.dumps(log, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=PROFILES, default="cpu", help="experiment profile (default: cpu)")
    parser.add_argument(
        "--only",
        metavar="NAME",
        help="run one step: a notebook's number (02), stem (02_saliency) or file name, or bench_core",
    )
    args = parser.parse_args(argv)

    results_dir = RESULTS_ROOT / args.profile
    steps, notebooks = plan(args.profile, results_dir)

    if args.only is not None:
        selected = [s for s in steps if s.matches(args.only)]
        if not selected:
            names = ", ".join(s.name for s in steps) or "none"
            print(f"reproduce: no step named {args.only!r} (available: {names})", file=sys.stderr)
            return 2
        steps = selected

    ran = ", ".join(s.name for s in steps) if steps else "nothing (no benchmarks/bench_core.py either)"
    if not notebooks:
        print(f"reproduce [{args.profile}]: no notebooks yet: nothing to regenerate; ran: {ran}")
    else:
        print(f"reproduce [{args.profile}]: {len(steps)} step(s) -> {results_dir.relative_to(REPO_ROOT)}/")
    if not steps:
        return 0

    records: list[dict[str, object]] = []
    total = len(steps)
    t_all = time.perf_counter()
    for i, step in enumerate(steps, start=1):
        prefix = f"[{i}/{total}] {step.name} ..."
        print(prefix, end=" " if step.quiet else "\n", flush=True)
        if not step.quiet:
            prefix = f"[{i}/{total}] {step.name}"
        t0 = time.perf_counter()
        try:
            wrote = step.run()
        except StepFailed as exc:
            dt = time.perf_counter() - t0
            records.append({"step": step.name, "status": "failed", "seconds": round(dt, 1)})
            write_log(results_dir, args.profile, records)
            print(f"{'' if step.quiet else prefix + ' '}FAILED after {dt:.1f}s", flush=True)
            print(f"reproduce: stopped at step {step.name}:\n{exc}", file=sys.stderr)
            if i > 1:
                print(f"reproduce: outputs of the {i - 1} earlier step(s) are kept", file=sys.stderr)
            return 1
        dt = time.perf_counter() - t0
        records.append({"step": step.name, "status": "ok", "seconds": round(dt, 1), "wrote": wrote})
        print(f"{'' if step.quiet else prefix + ' '}ok ({dt:.1f}s) -> {wrote}", flush=True)

    write_log(results_dir, args.profile, records)
    print(f"reproduce [{args.profile}]: done, {total} step(s) in {time.perf_counter() - t_all:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
