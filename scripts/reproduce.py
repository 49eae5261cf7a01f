#!/usr/bin/env python3
"""The main job: regenerate every result of this repository for one profile, and the report.

Runs each ``notebooks/NN_*.ipynb`` (two digits, then ``_``) in name order with papermill and
writes, under ``results/<profile>/``: the executed notebooks (``notebooks/``), their HTML
renderings (``html/``), and what the notebooks themselves write (``tables/`` as CSV + Markdown,
``figures/`` as PNG, ``summaries/`` as the headline values). Then runs the core benchmark
(``benchmarks/bench_core.py --out results/<profile>/benchmarks.md``) when that file exists,
records the run in ``results/<profile>/reproduce_log.json`` (steps and times, hardware, data,
checkpoint, and per step the commit that produced it), and finally writes the profile's page
with `amdlib.reports.builder.write_report`: ``results/README.md`` for the committed ``cpu``
profile, ``results/<profile>/README.md`` for the others (``smoke``, ``paper``: folders git
ignores, so running them changes no tracked file). The HTML renderings are not committed.

Parameters: every notebook gets ``profile`` and ``results_dir`` (absolute); the others are
passed only to the notebooks whose ``parameters`` cell declares them (``papermill.inspect_notebook``):
``checkpoint`` (``--checkpoint``) and, for each real dataset found under ``--data-root`` (the
folder ``amd download`` fills; see `REAL_DATASETS`), its notebook parameters
(``train_root``/``train_split``, ``davis_root``, ``fbms_root``, ``segtrack_root``, ``duts_root``,
``voc_root``, and ``real_roots`` for 00_data). Datasets not found stay synthetic; one line says
which. A ``--data-root`` or ``--checkpoint`` that does not exist stops the run before any notebook.

Each step prints a start and an end line, and a notebook's long loops (training, test-time
adaptation, fine-tuning) print progress lines between them (`amdlib.io.progress`). A training
projected past the profile's time guard stops with one line (``--lift-time-guard`` lifts it), and
a profile meant for real data says loudly which datasets stay synthetic. The first failing step
stops the run with a message that names it (for a notebook: papermill's failing cell, exception
name and value, and the HTML of the partially executed notebook); outputs written by earlier steps are kept, and the log and the
report are still written. The exit status is non-zero on any failure. Reruns are idempotent:
the notebooks reuse generated data and finished trainings, and every file is written atomically.

Usage::

    python scripts/reproduce.py                    # profile cpu (the default main job)
    python scripts/reproduce.py --profile smoke    # every code path in about 2 minutes -> results/smoke/
    python scripts/reproduce.py --only 02          # one step: notebook number/stem, bench_core, or report
    python scripts/reproduce.py --only report      # rebuild the profile's page from what is on disk
    python scripts/reproduce.py --profile paper --data-root data/real --checkpoint data/real/amd_checkpoint/amd_pretrained.pth

Notebooks execute with their folder as working directory (as in Jupyter).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Collection, Sequence

REPO_ROOT: Path = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR: Path = REPO_ROOT / "notebooks"
RESULTS_ROOT: Path = REPO_ROOT / "results"
BENCH_SCRIPT: Path = REPO_ROOT / "benchmarks" / "bench_core.py"
BENCH_STEP: str = "bench_core"
REPORT_STEP: str = "report"

if str(REPO_ROOT) not in sys.path:  # amdlib from this checkout even without `make setup`
    sys.path.insert(0, str(REPO_ROOT))

from amdlib.config import PROFILES, Profile  # noqa: E402
from amdlib.data.io import DatasetError  # noqa: E402
from amdlib.data.real import REAL_DATASETS, DataChoice, data_summary, resolve_data  # noqa: E402,F401
from amdlib.io.progress import PROGRESS_VARIABLE  # noqa: E402
from amdlib.reports.builder import COMMITTED_PROFILES, LOG_NAME, page_path, read_log, write_report  # noqa: E402
from amdlib.session import resolve_profile, runs_folder  # noqa: E402


TRAINING_NOTEBOOK: str = "01_train"
"""Trains the model that notebooks 02-04 evaluate; skipped when --checkpoint gives one."""
REAL_VIDEO_NOTEBOOK: str = "06_real_video"
"""Trains on real clips and scores real DAVIS sequences: run when both are given (--real-videos,
and --davis-root or a real DAVIS-2016 under --data-root), on the stand-ins under `smoke` (a check
of the code paths), and otherwise skipped with one line."""


class StepFailed(RuntimeError):
    """A step of the main job failed; the message says which and why."""


class SetupError(RuntimeError):
    """The command line names something that is not there (checked before any step runs)."""


@dataclass(frozen=True)
class Layout:
    """Where the job reads and writes; tests point it at a temporary folder."""

    repo_root: Path = REPO_ROOT
    notebooks_dir: Path = NOTEBOOKS_DIR
    results_root: Path = RESULTS_ROOT
    bench_script: Path = BENCH_SCRIPT
    kernel_name: str | None = None
    """Jupyter kernel for every notebook (None: the one each notebook names)."""

    def rel(self, path: Path) -> str:
        """``path`` relative to the repository root when inside it, else as given."""
        try:
            return str(Path(path).resolve().relative_to(self.repo_root.resolve()))
        except ValueError:
            return str(path)


@dataclass
class Step:
    """One unit of the main job: a notebook or the core benchmark."""

    name: str
    run: Callable[[], str]
    """Runs the step; returns a short description of what it wrote."""
    aliases: tuple[str, ...] = field(default_factory=tuple)
    quiet: bool = True
    """True when the step prints nothing itself, so its progress fits on one line."""
    details: dict[str, Any] = field(default_factory=dict)
    """Filled by `run` (also when it fails): recorded in the log beside status and time."""

    def matches(self, key: str) -> bool:
        """True when ``key`` names this step (its name, file name or number prefix)."""
        return key == self.name or key in self.aliases


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (`amdlib.io.atomic.write_text`)."""
    from amdlib.io.atomic import write_text

    return write_text(path, text)


# ----------------------------------------------------------------------------------------------
# The checkpoint


def resolve_checkpoint(checkpoint: Path | None) -> Path | None:
    """The checkpoint as an absolute path; SetupError when it is not a file."""
    if checkpoint is None:
        return None
    path = Path(checkpoint).expanduser()
    if not path.is_file():
        raise SetupError(f"CHECKPOINT {path} is not a file")
    return path.resolve()


def notebook_parameters(declared: Collection[str], profile: str, results_dir: Path,
                        data: Sequence[DataChoice] = (), checkpoint: Path | None = None,
                        lift_time_guard: bool = False, real_video: dict[str, Path] | None = None,
                        train_ablations: bool = False) -> dict[str, Any]:
    """The parameters to inject into a notebook whose parameters cell declares ``declared``.

    ``profile`` and ``results_dir`` always (every notebook takes them); the rest only where
    declared, and real-data ones only for datasets found. ``real_video`` ({"real_videos": ...,
    "davis_root": ...}) is given to the real-video notebook alone and wins over --data-root's DAVIS.
    ``train_ablations`` sets ``train_missing``: the ablation notebook trains the seed runs its table lacks.
    """
    optional: dict[str, Any] = {}
    if lift_time_guard:
        optional["lift_time_guard"] = True
    if train_ablations:
        optional["train_missing"] = True
    if checkpoint is not None:
        optional["checkpoint"] = str(checkpoint)
    real_roots: dict[str, str] = {}
    for choice in data:
        if choice.path is None:
            continue
        for parameter, inside in choice.dataset.parameters:
            optional[parameter] = str(choice.path / inside) if inside else str(choice.path)
        if choice.dataset.real_roots_key:
            real_roots[choice.dataset.real_roots_key] = str(choice.path)
    if real_roots:
        optional["real_roots"] = real_roots
    optional.update({k: str(v) for k, v in (real_video or {}).items()})
    parameters: dict[str, Any] = {"profile": profile, "results_dir": str(results_dir)}
    parameters.update({k: v for k, v in optional.items() if k in declared})
    return parameters


# ----------------------------------------------------------------------------------------------
# Steps


def find_notebooks(notebooks_dir: Path = NOTEBOOKS_DIR) -> list[Path]:
    """Numbered notebooks (``NN_*.ipynb``) in name order."""
    if not notebooks_dir.is_dir():
        return []
    return sorted(p for p in notebooks_dir.glob("[0-9][0-9]_*.ipynb") if p.is_file())


_PAPERMILL_TAGS = ("injected-parameters", "papermill-error-cell-tag")
"""Tags of the cells papermill adds; it gives them random ids, which `stabilise_cell_ids` replaces."""


def stabilise_cell_ids(notebook: Path) -> None:
    """Give the cells papermill inserted fixed ids, so that two identical runs write identical
    notebooks and HTML (papermill's timestamps and durations in the metadata aside)."""
    import nbformat

    node = nbformat.read(str(notebook), as_version=4)
    changed = False
    for tag in _PAPERMILL_TAGS:
        tagged = [c for c in node.cells if tag in c.get("metadata", {}).get("tags", [])]
        for k, cell in enumerate(tagged):
            wanted = tag if k == 0 else f"{tag}-{k}"
            if cell.get("id") != wanted:
                cell["id"] = wanted
                changed = True
    if changed:
        write_atomic(notebook, nbformat.writes(node))


def render_html(notebook: Path, html: Path) -> Path:
    """Render a (possibly partially) executed notebook to a standalone HTML file, atomically."""
    import nbformat
    from nbconvert import HTMLExporter

    node = nbformat.read(str(notebook), as_version=4)
    body, _ = HTMLExporter().from_notebook_node(node, resources={"metadata": {"name": notebook.stem}})
    return write_atomic(html, body)


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


def trained_checkpoint(layout: Layout, profile: Profile) -> Path:
    """Where the training notebook leaves its model (`amdlib.session.runs_folder`): under this
    checkout's `runs/` ($AMD_RUNS_DIR wins), or a test layout's own `runs/`."""
    own = layout.repo_root.resolve() == REPO_ROOT.resolve()
    return runs_folder(profile, None if own else layout.repo_root / "runs") / "checkpoint.pt"


def missing_model_message(notebook: Path, path: Path) -> str:
    """Why a notebook that evaluates the trained model cannot run yet, and what to run first."""
    return (f"notebook {notebook.name} evaluates the model that {TRAINING_NOTEBOOK} trains, and {path} does "
            f"not exist yet: run `python scripts/reproduce.py --only {TRAINING_NOTEBOOK[:2]}` first (or "
            "`make reproduce`), or pass --checkpoint PATH")


KERNEL_ARGUMENTS = ("--IPKernelApp.log_level=CRITICAL",)
"""Each notebook's kernel logs only what stops it: its start-up warnings (plain-TCP transport on
a local kernel) would otherwise interleave with the progress lines; a cell's error still reaches
the executed notebook and the step's failure message."""


def notebook_step(notebook: Path, profile: str, results_dir: Path, layout: Layout | None = None,
                  data: Sequence[DataChoice] = (), checkpoint: Path | None = None,
                  needs_model: Path | None = None, lift_time_guard: bool = False,
                  real_video: dict[str, Path] | None = None, train_ablations: bool = False) -> Step:
    """A step that executes ``notebook`` with papermill into ``results_dir/notebooks`` and renders
    it to ``results_dir/html``; parameters as `notebook_parameters` says.

    ``needs_model``: the training notebook's checkpoint; a notebook that declares a ``checkpoint``
    parameter and gets none fails at once, naming the step to run first, while it is missing."""
    layout = layout or Layout()
    out_dir = results_dir / "notebooks"
    output = out_dir / notebook.name
    html = results_dir / "html" / f"{notebook.stem}.html"
    # Not quiet: the kernel prints progress lines (amdlib.io.progress) between start and end.
    step = Step(name=notebook.stem, run=lambda: "", aliases=(notebook.name, notebook.name[:2]), quiet=False)

    def run() -> str:
        try:
            import papermill as pm  # imported lazily: only notebooks need it
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise StepFailed(
                f"notebook {notebook.name}: papermill is not installed ({exc}); run `make setup`"
            ) from exc
        try:
            declared = pm.inspect_notebook(str(notebook))
        except Exception as exc:  # unreadable notebook or parameters cell
            raise StepFailed(f"notebook {notebook.name}: cannot read its parameters cell "
                             f"({type(exc).__name__}: {exc})") from exc
        if needs_model is not None and checkpoint is None and "checkpoint" in declared and not needs_model.is_file():
            raise StepFailed(missing_model_message(notebook, needs_model))
        parameters = notebook_parameters(declared, profile, results_dir, data, checkpoint, lift_time_guard,
                                         real_video, train_ablations)
        step.details["parameters"] = parameters
        out_dir.mkdir(parents=True, exist_ok=True)
        try:
            pm.execute_notebook(
                str(notebook),
                str(output),
                parameters=parameters,
                kernel_name=layout.kernel_name,
                cwd=str(notebook.parent),
                progress_bar=False,
                log_output=False,
                extra_arguments=list(KERNEL_ARGUMENTS),
            )
        except Exception as exc:  # papermill.PapermillExecutionError and anything else
            message = _papermill_failure_message(notebook, output, exc)
            if output.is_file():
                try:
                    stabilise_cell_ids(output)
                    render_html(output, html)
                    step.details["html"] = layout.rel(html)
                    message += f"\n  its HTML rendering: {html}"
                except Exception as render_exc:  # the notebook's failure is the news, not this
                    message += f"\n  (could not render it to HTML: {type(render_exc).__name__}: {render_exc})"
            raise StepFailed(message) from exc
        try:
            stabilise_cell_ids(output)
            render_html(output, html)
        except Exception as exc:
            raise StepFailed(f"notebook {notebook.name} ran, but rendering {output} to HTML failed: "
                             f"{type(exc).__name__}: {exc}") from exc
        step.details["html"] = layout.rel(html)
        return f"{layout.rel(output)} (+ html/{html.name})"

    step.run = run
    return step


QUICK_BENCH = ("--repeats", "2", "--no-rss")
"""The core benchmark's arguments under `smoke`: every section, timed twice, without the
per-process memory measurement (a check that it runs, in seconds)."""


def bench_step(profile: str, results_dir: Path, bench_script: Path = BENCH_SCRIPT,
               layout: Layout | None = None) -> Step:
    """A step that runs the core benchmark with this interpreter (quickly under `smoke`)."""
    layout = layout or Layout()
    out = results_dir / "benchmarks.md"

    def run() -> str:
        out.parent.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, str(bench_script), "--out", str(out), *(QUICK_BENCH if profile == "smoke" else ())]
        proc = subprocess.run(cmd, cwd=layout.repo_root)
        if proc.returncode != 0:
            raise StepFailed(
                f"benchmark {layout.rel(bench_script)} failed with exit code "
                f"{proc.returncode} (command: {' '.join(cmd)})"
            )
        return layout.rel(out)

    return Step(name=BENCH_STEP, run=run, aliases=(bench_script.name,), quiet=False)


def real_video_inputs(profile: Profile, data: Sequence[DataChoice], real_videos: Path | None,
                      davis_root: Path | None) -> tuple[dict[str, Path] | None, str | None]:
    """(the real-video notebook's folders, None) when it runs, or (None, why it is skipped)."""
    if profile.real_video is None:
        return None, f"profile {profile.name!r} defines no real-video run (Profile.real_video)"
    if davis_root is None:
        davis_root = next((c.path for c in data if c.dataset.name == "davis2016" and c.path is not None), None)
    if real_videos is not None and davis_root is not None:
        return {"real_videos": real_videos, "davis_root": davis_root}, None
    if profile.name == "smoke":
        return {}, None  # the synthetic stand-ins: every code path, nothing about real video
    missing = " and ".join(name for name, value in (("REAL_VIDEOS=<folder of clips>", real_videos),
                                                    ("DAVIS_ROOT=<DAVIS-2016 root>", davis_root)) if value is None)
    return None, (f"it trains on real clips and scores real DAVIS sequences; give {missing} (make reproduce) "
                  "or --real-videos/--davis-root (DAVIS-2016: `amd download fetch davis2016`; clips: any folder "
                  "of your own video files)")


def plan(profile: Profile, results_dir: Path, layout: Layout | None = None, data: Sequence[DataChoice] = (),
         checkpoint: Path | None = None, lift_time_guard: bool = False, real_videos: Path | None = None,
         davis_root: Path | None = None, train_ablations: bool = False) -> tuple[list[Step], list[Path]]:
    """All steps of the main job for ``profile`` (the report aside), and the notebooks found."""
    layout = layout or Layout()
    notebooks = find_notebooks(layout.notebooks_dir)
    real_video, skipped = real_video_inputs(profile, data, real_videos, davis_root)
    if skipped is not None and any(nb.stem == REAL_VIDEO_NOTEBOOK for nb in notebooks):
        print(f"reproduce: {REAL_VIDEO_NOTEBOOK} skipped: {skipped}")
        notebooks = [nb for nb in notebooks if nb.stem != REAL_VIDEO_NOTEBOOK]
    if checkpoint is not None:
        # A given checkpoint replaces what the training notebook would produce (the model that
        # the evaluation notebooks load); they receive it as `checkpoint`.
        training = [nb for nb in notebooks if nb.stem == TRAINING_NOTEBOOK]
        for nb in training:
            print(f"reproduce: {nb.stem} skipped: --checkpoint {checkpoint} is evaluated instead of training one")
        notebooks = [nb for nb in notebooks if nb not in training]
    trains = checkpoint is None and any(nb.stem == TRAINING_NOTEBOOK for nb in notebooks)
    model = trained_checkpoint(layout, profile) if trains else None
    steps = [notebook_step(nb, profile.name, results_dir, layout, data, checkpoint,
                           needs_model=None if nb.stem == TRAINING_NOTEBOOK else model,
                           lift_time_guard=lift_time_guard,
                           real_video=real_video if nb.stem == REAL_VIDEO_NOTEBOOK else None,
                           train_ablations=train_ablations) for nb in notebooks]
    if layout.bench_script.is_file():
        steps.append(bench_step(profile.name, results_dir, layout.bench_script, layout))
    return steps, notebooks


# ----------------------------------------------------------------------------------------------
# The log


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def hardware_info() -> dict[str, Any]:
    """CPU model, cores, torch threads and version, GPU (if torch sees one), platform."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count()
    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "cpu_cores": cores,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        info["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except Exception as exc:  # pragma: no cover - torch is a dependency
        info["torch"] = f"unavailable ({type(exc).__name__})"
    return info


def git_commit(repo_root: Path = REPO_ROOT) -> dict[str, Any] | None:
    """The checked-out commit and whether tracked files differ from it (None outside git)."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}  # read-only: never touch the index

    def git(*args: str) -> subprocess.CompletedProcess[str] | None:
        try:
            return subprocess.run(["git", *args], cwd=repo_root, env=env, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            return None

    head = git("rev-parse", "HEAD")
    if head is None or head.returncode != 0:
        return None
    status = git("status", "--porcelain", "--untracked-files=no")
    dirty = None if status is None or status.returncode != 0 else bool(status.stdout.strip())
    return {"commit": head.stdout.strip(), "uncommitted_changes": dirty}


def merge_steps(previous: Sequence[dict[str, Any]], new: Sequence[dict[str, Any]],
                order: Sequence[str]) -> list[dict[str, Any]]:
    """Records of ``previous`` with those of ``new`` replacing the steps they rerun, in ``order``."""
    by_name = {r["step"]: r for r in previous}
    by_name.update({r["step"]: r for r in new})
    merged = [by_name.pop(name) for name in order if name in by_name]
    return merged + list(by_name.values())


def write_log(results_dir: Path, log: dict[str, Any]) -> Path:
    """Write ``results_dir/reproduce_log.json`` atomically."""
    return write_atomic(results_dir / LOG_NAME, json.dumps(log, indent=2) + "\n")


# ----------------------------------------------------------------------------------------------
# Command line


def main(argv: list[str] | None = None, layout: Layout | None = None) -> int:
    """Command-line entry point; returns the process exit status."""
    layout = layout or Layout()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=list(PROFILES), default="cpu", help="experiment profile (default: cpu)")
    parser.add_argument(
        "--only",
        metavar="NAME",
        help="run one step: a notebook's number (02), stem (02_saliency) or file name, bench_core, "
             "or report (only rebuild results/README.md)",
    )
    parser.add_argument("--data-root", type=Path, metavar="DIR",
                        help="real datasets as `amd download` lays them out; those found "
                             "replace the synthetic sets (default: synthetic only)")
    parser.add_argument("--lift-time-guard", action="store_true",
                        help="let training run past the profile's time guard (it stops a run projected to take "
                             "far longer than the profile is meant to, e.g. the paper profile on a CPU)")
    parser.add_argument("--checkpoint", type=Path, metavar="PATH",
                        help="the model the evaluation notebooks use (an amdlib checkpoint or the "
                             "authors' amd_pretrained.pth; default: the one 01_train trains)")
    parser.add_argument("--real-videos", type=Path, metavar="DIR",
                        help=f"a folder of real clips (video files, frame folders) that {REAL_VIDEO_NOTEBOOK} trains on")
    parser.add_argument("--davis-root", type=Path, metavar="DIR",
                        help=f"a DAVIS-2016-layout root whose sequences {REAL_VIDEO_NOTEBOOK} scores (default: the "
                             "real DAVIS-2016 under --data-root, if any)")
    parser.add_argument("--ablations", choices=("read", "run"), default="read",
                        help="read: the ablation table draws the committed seed runs and trains nothing (default); "
                             "run: it first trains the seed runs it lacks, 5-12 minutes a training run and about "
                             "40 a TTA run on 2 cores (cpu), each resumable and written under results/ablation_runs/ as it finishes")
    args = parser.parse_args(argv)
    results_root = layout.results_root

    chosen = resolve_profile(args.profile)
    page = None if chosen.name in COMMITTED_PROFILES else chosen.name
    if args.only == REPORT_STEP:
        path = write_report(results_root, page)
        print(f"reproduce: report -> {layout.rel(path)}")
        return 0

    try:
        data = resolve_data(args.data_root)
        checkpoint = resolve_checkpoint(args.checkpoint)
        for name, folder in (("REAL_VIDEOS", args.real_videos), ("DAVIS_ROOT", args.davis_root)):
            if folder is not None and not folder.is_dir():
                raise SetupError(f"{name} {folder} is not a folder")
        real_videos = args.real_videos.resolve() if args.real_videos else None
        davis_root = args.davis_root.resolve() if args.davis_root else None
    except (SetupError, DatasetError) as exc:
        print(f"reproduce: {exc}; nothing was run", file=sys.stderr)
        return 2
    os.environ[PROGRESS_VARIABLE] = "1"  # the notebooks' kernels print progress lines here too

    results_dir = (results_root / args.profile).resolve()
    steps, notebooks = plan(chosen, results_dir, layout, data, checkpoint, args.lift_time_guard, real_videos,
                            davis_root, train_ablations=args.ablations == "run")
    order = [s.name for s in steps]

    if args.only is not None:
        selected = [s for s in steps if s.matches(args.only)]
        if not selected:
            names = ", ".join([s.name for s in steps] + [REPORT_STEP])
            print(f"reproduce: no step named {args.only!r} (available: {names})", file=sys.stderr)
            return 2
        steps = selected

    total = len(steps) + 1  # + the report
    ran = ", ".join(s.name for s in steps) if steps else "nothing (no benchmarks/bench_core.py either)"
    if not notebooks:
        print(f"reproduce [{args.profile}]: no notebooks yet: nothing to regenerate; ran: {ran}")
    else:
        print(f"reproduce [{args.profile}]: {total} step(s) -> {layout.rel(results_dir)}/ and "
              f"{layout.rel(page_path(results_root, page))}")
    print(f"reproduce [{args.profile}]: {data_summary(data)}"
          + (f"; checkpoint: {checkpoint}" if checkpoint else ""), flush=True)
    synthetic = [c.dataset.name for c in data if not c.is_real and c.dataset.name != "segtrackv2"]
    if chosen.real_data and synthetic:
        print(f"reproduce [{args.profile}]: WARNING: this profile is meant for real data, but "
              f"{', '.join(synthetic)} {'is' if len(synthetic) == 1 else 'are'} the SYNTHETIC stand-in: its numbers "
              "are not the paper's (fetch the data with `amd download`, then pass --data-root)", flush=True)

    started = time.strftime("%Y-%m-%d %H:%M:%S")
    log: dict[str, Any] = {
        "profile": args.profile,
        "status": "running",
        "started": started,
        "command": " ".join(["scripts/reproduce.py", *(argv if argv is not None else sys.argv[1:])]),
        "only": args.only,
        "data_root": str(args.data_root.expanduser().resolve()) if args.data_root else None,
        "data": {c.dataset.name: c.record(chosen.data) for c in data},
        "checkpoint": str(checkpoint) if checkpoint else None,
        "git": git_commit(layout.repo_root),
        "hardware": hardware_info(),
        "python": sys.version.split()[0],
    }
    records: list[dict[str, Any]] = []
    t_all = time.perf_counter()
    failure: tuple[Step, StepFailed, int] | None = None
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
            records.append({"step": step.name, "status": "failed", "seconds": round(dt, 1), "git": log["git"],
                            **step.details})
            print(f"{'' if step.quiet else prefix + ' '}FAILED after {dt:.1f}s", flush=True)
            failure = (step, exc, i)
            break
        dt = time.perf_counter() - t0
        records.append({"step": step.name, "status": "ok", "seconds": round(dt, 1), "wrote": wrote,
                        "git": log["git"], **step.details})
        print(f"{'' if step.quiet else prefix + ' '}ok ({dt:.1f}s) -> {wrote}", flush=True)

    previous = read_log(results_dir) if args.only is not None else None
    if previous and previous.get("profile") == args.profile:
        records = merge_steps(previous.get("steps", []), records, order)
    log.update({
        "status": "failed" if failure else "ok",
        "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
        "total_seconds": round(time.perf_counter() - t_all, 1),
        "steps": records,
    })
    if failure:
        log["failure"] = str(failure[1])
    write_log(results_dir, log)

    print(f"[{total}/{total}] {REPORT_STEP} ...", end=" ", flush=True)
    try:
        report = write_report(results_root, page)
        print(f"ok -> {layout.rel(report)}", flush=True)
    except Exception as exc:  # the report must not hide a notebook failure, nor crash silently
        print(f"FAILED ({type(exc).__name__}: {exc})", flush=True)
        if failure is None:
            return 1

    if failure:
        step, exc, i = failure
        print(f"reproduce: stopped at step {step.name}:\n{exc}", file=sys.stderr)
        if i > 1:
            print(f"reproduce: outputs of the {i - 1} earlier step(s) are kept", file=sys.stderr)
        return 1
    print(f"reproduce [{args.profile}]: done, {total} step(s) in {time.perf_counter() - t_all:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
