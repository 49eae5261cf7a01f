"""The results pages: built from what is on disk under `results/<profile>/`.

`results/README.md` covers the committed profiles (`COMMITTED_PROFILES`) that hold a run log
(`reproduce_log.json`, written by `scripts/reproduce.py`); any other profile a user runs (`smoke`,
`paper`) gets its own page, `results/<profile>/README.md`, in a folder git ignores, so running it
never changes a tracked file. A page reads, per profile:

- the log: status, times, hardware, commit, and per dataset whether the run used the real folder
  (`"source": "real"`, with its `"path"`) or the synthetic stand-in (`"used"`, `"preset"`);
- the notebooks' headline values, `summaries/<notebook>.json`, through
  `amdlib.reports.summary.read_summaries` (never the notebooks' tables);
- `tables/*.md` (+ CSV), `figures/*.png`, `notebooks/*.ipynb`, `benchmarks.md`: embedded or
  linked in the details (the notebooks' HTML renderings are not committed and not linked).

Order of the page: what ran (one table), the headline table per profile (the paper's number
beside this repository's, with the data it was measured on; anything not measured on real data
with the paper's kind of model is marked NOT comparable), then the details per profile.

    write_report(Path("results"))             # -> results/README.md
    write_report(Path("results"), "smoke")    # -> results/smoke/README.md
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, Sequence
from urllib.parse import quote

from ..io.atomic import write_text
from .headline import headline_lines
from .paper import PAPER_RESULTS, PAPER_SETUP, SOURCE, PaperResult
from .summary import SUMMARY_DIR, Headline, read_summaries

LOG_NAME = "reproduce_log.json"
"""The run log of a profile folder; a folder without one is not a profile of the page."""
REPORT_NAME = "README.md"
MAX_EMBEDDED_ROWS = 40
"""Tables with more rows than this are linked from the page instead of embedded."""
PERCENT_KEYS = frozenset({"davis2016_j", "segtrackv2_j", "fbms59_j", "voc2012_miou"})
"""Headlines whose value is a J or an mIoU: shown x 100 with one decimal, as the paper gives them."""
TEXT_KEYS = frozenset({"masks_c"})
"""Headlines shown by their text alone (the answer names a variant, not a number)."""
COMMITTED_PROFILES = ("cpu",)
"""Profiles whose results are committed and shown on results/README.md."""
NOT_COMPARABLE = "NOT comparable"


# ----------------------------------------------------------------------------------------------
# Reading


def read_log(results_dir: Path) -> dict[str, Any] | None:
    """`results_dir/reproduce_log.json`, or None when absent or unreadable."""
    try:
        log = json.loads((Path(results_dir) / LOG_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return log if isinstance(log, dict) else None


def report_profiles(results_root: Path) -> list[str]:
    """Profile folders of `results_root` that hold a log: cpu first, then by name."""
    results_root = Path(results_root)
    if not results_root.is_dir():
        return []
    names = sorted(p.name for p in results_root.iterdir() if (p / LOG_NAME).is_file())
    return sorted(names, key=lambda n: (n != "cpu", n))


# ----------------------------------------------------------------------------------------------
# Small formatting helpers


_TITLE_WORDS = {"vos": "VOS", "miou": "mIoU", "duts": "DUTS", "voc": "VOC", "davis": "DAVIS", "fbms": "FBMS",
                "tta": "TTA", "cpu": "CPU", "gpu": "GPU", "j": "J"}


def table_title(stem: str) -> str:
    """A heading from a table's file name: `03_vos_per_sequence` -> `03 · VOS per sequence`."""
    match = re.match(r"^(\d+)[_-]?(.*)$", stem)
    number, rest = (match.group(1), match.group(2)) if match else ("", stem)
    words = [_TITLE_WORDS.get(w.lower(), w) for w in re.split(r"[_\s]+", rest) if w]
    if words and words[0] == words[0].lower():
        words[0] = words[0][:1].upper() + words[0][1:]
    text = " ".join(words) or stem
    return f"{number} · {text}" if number else text


def _link(path: Path, page_dir: Path) -> str:
    """A relative, URL-quoted link target from the page in `page_dir` to `path`."""
    return quote(Path(path).relative_to(page_dir).as_posix())


def _duration(seconds: Any) -> str:
    try:
        s = float(seconds)
    except (TypeError, ValueError):
        return "?"
    if s < 60:
        return f"{s:.1f} s"
    minutes, s = divmod(round(s), 60)
    if minutes < 60:
        return f"{minutes} min {s:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _cell(text: Any) -> str:
    """`text` safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _number(value: Any) -> float | None:
    """`value` as a finite float, else None."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading (lower case, punctuation dropped, spaces to -)."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _details_heading(profile: str) -> str:
    return f"Details: profile `{profile}`"


def _headline_heading(profile: str) -> str:
    return f"Profile `{profile}`"


def _steps(log: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in log.get("steps", []) if isinstance(s, dict)]


def _data_entries(log: dict[str, Any]) -> dict[str, dict[str, Any]]:
    data = log.get("data")
    return {k: v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}


# ----------------------------------------------------------------------------------------------
# What ran


def run_seconds(log: dict[str, Any], steps: Sequence[str] | None = None, without: Sequence[str] = ()) -> float:
    """The run's total time: the sum of its steps' times (a step rerun with `--only` replaces its
    earlier time); only the named `steps` when given, and never those in `without`."""
    return sum(_number(s.get("seconds")) or 0.0 for s in _steps(log)
               if (steps is None or s.get("step") in steps) and s.get("step") not in without)


def status_text(log: dict[str, Any]) -> str:
    """`ok (N steps)`, `FAILED at <steps>`, or the log's own status when it records no steps."""
    steps = _steps(log)
    failed = [str(s.get("step")) for s in steps if s.get("status") != "ok"]
    if failed:
        return f"FAILED at {', '.join(failed)}"
    if steps:
        return f"ok ({len(steps)} steps)"
    return str(log.get("status", "?"))


def _commit(git: Any) -> str | None:
    if isinstance(git, dict) and git.get("commit"):
        return f"`{git['commit'][:12]}`" + (" with uncommitted changes" if git.get("uncommitted_changes") else "")
    return None


def commit_text(log: dict[str, Any]) -> str:
    """The commits whose code produced the steps' outputs (each step records its own; a step
    rerun alone with `--only` may come from a later commit than the others)."""
    commits = [c for c in (_commit(s.get("git")) for s in _steps(log)) if c]
    if not commits:
        return _commit(log.get("git")) or "not recorded"
    unique = list(dict.fromkeys(commits))
    return unique[0] if len(unique) == 1 else ", ".join(unique) + " (per step below)"


def hardware_text(log: dict[str, Any], short: bool = False) -> str:
    hw = log.get("hardware")
    if not isinstance(hw, dict):
        return "not recorded (older log)"
    if short:
        text = f"{hw.get('cpu', '?')}, {hw.get('cpu_cores', '?')} cores"
    else:
        text = (f"{hw.get('cpu', '?')}, {hw.get('cpu_cores', '?')} cores, torch {hw.get('torch', '?')} "
                f"with {hw.get('torch_threads', '?')} threads")
    return text + (f", GPU {hw['gpu']}" if hw.get("gpu") else ", no GPU")


def data_line(log: dict[str, Any]) -> str:
    """The data of a run in one short line: which datasets were real, which synthetic, which
    left out, and the checkpoint when one was given."""
    entries = _data_entries(log)
    if not entries:
        return "not recorded (older log); the default is the synthetic sets"
    real = [f"{name} (`{e.get('path')}`)" for name, e in entries.items() if e.get("source") == "real"]
    synthetic = [name for name, e in entries.items() if e.get("source") == "synthetic"]
    other = [name for name, e in entries.items() if e.get("source") not in ("real", "synthetic")]
    presets = sorted({str(e.get("preset")) for e in entries.values() if e.get("source") == "synthetic"
                      and e.get("preset")})
    parts = [f"real: {', '.join(real)}" if real else "real: none"]
    if synthetic:
        parts.append("synthetic" + (f" (preset {', '.join(presets)})" if presets else "") + f": {', '.join(synthetic)}")
    if other:
        parts.append(f"left out: {', '.join(other)}")
    if log.get("checkpoint"):
        parts.append(f"checkpoint `{log['checkpoint']}`")
    return "; ".join(parts)


def data_text(log: dict[str, Any]) -> str:
    """Every dataset of the run with what was used for it (and why a folder found was not)."""
    entries = _data_entries(log)
    if not entries:
        return "not recorded (older log); the default is the synthetic sets"
    parts = []
    for name, entry in entries.items():
        if entry.get("source") == "real":
            parts.append(f"{name}: **real** `{entry.get('path')}`")
        elif entry.get("source") == "synthetic":
            parts.append(f"{name}: synthetic (preset {entry.get('preset')})")
        else:
            parts.append(f"{name}: {entry.get('used', 'not used')}")
        if entry.get("note"):
            parts[-1] += f" ({entry['note']})"
    return "; ".join(parts)


def what_ran_section(results_root: Path, profiles: Sequence[str]) -> str:
    """One row per profile: status, finished, total time, hardware, commit, data."""
    lines = ["## What ran", ""]
    if not profiles:
        return "\n".join(lines + ["No profile has been run yet (`make reproduce`).", ""])
    lines += ["| profile | status | finished | total time | hardware | commit | data |",
              "|---|---|---|---|---|---|---|"]
    for profile in profiles:
        log = read_log(Path(results_root) / profile) or {}
        total = run_seconds(log)
        lines.append(" | ".join([
            f"| [`{profile}`](#{anchor(_details_heading(profile))})", _cell(status_text(log)),
            _cell(log.get("finished", "?")), _duration(total), _cell(hardware_text(log, short=True)),
            _cell(commit_text(log)), _cell(data_line(log))]) + " |")
    lines += ["", "Total time is the sum of the steps' times (a step rerun alone with `--only` replaces "
              "its earlier time)."]
    return "\n".join(lines + [""])


# ----------------------------------------------------------------------------------------------
# The headline table


def _looks_synthetic(set_name: str) -> bool:
    name = set_name.lower()
    return "synthetic" in name or "layout" in name


def data_cell(log: dict[str, Any], datasets: Sequence[str], set_name: str = "") -> str:
    """The data a headline was measured on (`Headline.datasets`, `Headline.set_name`), labelled
    NOT comparable unless every piece is real, the model included: trained here on real
    YouTube-VOS, or a checkpoint given to the run.

    A dataset is real only where the run's log records `"source": "real"` for it; a set the
    notebook names synthetic is never presented as real, whatever the log says."""
    entries = _data_entries(log)

    def real_path(name: str) -> str | None:
        entry = entries.get(name)
        return entry.get("path") if entry is not None and entry.get("source") == "real" else None

    def synthetic_label(name: str) -> str:
        entry = entries.get(name)
        used = entry.get("used") if entry is not None else None
        return str(used) if used else f"{name} (synthetic)"

    evaluated = [d for d in datasets if d != "youtube_vos"]
    synthetic = [d for d in evaluated if real_path(d) is None]
    if synthetic:
        return f"{', '.join(synthetic_label(d) for d in synthetic)} ({NOT_COMPARABLE})"
    if set_name and _looks_synthetic(set_name):
        return f"{set_name} ({NOT_COMPARABLE})"
    if not evaluated:
        return f"{set_name or 'data not recorded'} ({NOT_COMPARABLE})"
    text = ", ".join(f"real {d} (`{real_path(d)}`)" for d in evaluated)
    trained_on_real = real_path("youtube_vos") is not None
    if "youtube_vos" in datasets and not trained_on_real:
        return text + f"; trained on synthetic videos ({NOT_COMPARABLE})"
    if log.get("checkpoint"):
        return text + f"; model `{log['checkpoint']}`"
    if trained_on_real:
        return text + "; model trained here on real YouTube-VOS"
    return text + f"; model trained here on synthetic videos, not the paper's ({NOT_COMPARABLE})"


def headline_value(headline: Headline) -> str:
    """This repository's answer as the page shows it: a J or mIoU x 100 with one decimal (the
    paper's unit), the text alone for the number of masks, other values with three decimals;
    then what was measured (`Headline.text`)."""
    value = _number(headline.value)
    text = headline.text.strip()
    if headline.key in TEXT_KEYS or value is None:
        return text or "no value recorded"
    shown = f"{100 * value:.1f}" if headline.key in PERCENT_KEYS else f"{value:.3f}"
    return f"**{shown}**" + (f": {text}" if text else "")


def headline_table(log: dict[str, Any], headlines: dict[str, Headline],
                   results: Sequence[PaperResult] = PAPER_RESULTS) -> list[str]:
    """The rows task | this repository | measured on, one per paper task (the paper's own numbers
    are in `paper_table`, never in the same row)."""
    lines = ["| task | this repository | measured on |", "|---|---|---|"]
    for result in results:
        found = headlines.get(result.key)
        if found is None:
            ours, data = "not run", "-"
        else:
            ours, data = headline_value(found), data_cell(log, found.datasets, found.set_name)
        lines.append(f"| {_cell(f'{result.task}: {result.metric}')} | {_cell(ours)} | {_cell(data)} |")
    return lines


def paper_table(results: Sequence[PaperResult] = PAPER_RESULTS) -> list[str]:
    """The paper's real-data headline numbers: the targets of the `paper` profile on real data."""
    lines = [f"| task | metric | paper ({PAPER_SETUP}) | what the paper compares with |", "|---|---|---|---|"]
    lines += [f"| {_cell(r.task)} | {_cell(r.metric)} | {_cell(r.paper)} | {_cell(r.comparison)} |" for r in results]
    return lines


def headline_section(results_root: Path, profiles: Sequence[str]) -> str:
    """Per profile, AMD beside the baselines of the same run (`amdlib.reports.headline`) and this
    repository's answer per paper task; then the paper's real-data numbers in their own table."""
    lines = [
        "## Headline results", "",
        f"Ours are what each notebook wrote to `<profile>/tables/` and `<profile>/{SUMMARY_DIR}/`. A number "
        f"measured on a synthetic set, or with a model trained on synthetic videos, is marked "
        f"**{NOT_COMPARABLE}** with the paper: it measures this implementation, not the paper's real-data "
        "result. The paper's numbers are in their own table below, as targets for the `paper` profile.", "",
    ]
    if not profiles:
        lines += ["No profile has been run yet.", ""]
    for profile in profiles:
        profile_dir = Path(results_root) / profile
        log = read_log(profile_dir) or {}
        headlines = read_summaries(profile_dir)
        lines += [f"### {_headline_heading(profile)}", ""]
        beside = headline_lines(profile_dir)
        if beside:
            lines += ["AMD beside the methods measured on the same data (J as a fraction):", "", *beside, ""]
        if not headlines:
            lines += [f"not run: no headline values under `{profile}/{SUMMARY_DIR}/` (each notebook writes "
                      "its own when it finishes).", ""]
            continue
        lines += ["This repository's answer per paper task (J and mIoU x 100, the paper's unit):", "",
                  *headline_table(log, headlines), ""]
    lines += ["### The paper's numbers (real data; targets for the `paper` profile)", "",
              f"From {SOURCE}.", "", *paper_table(), ""]
    lines += ["How the `cpu` profile's settings were chosen, each against the release: docs/method.md section 9.", ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# Details per profile


def _detail_value(value: Any) -> str:
    number = _number(value)
    if number is not None and not isinstance(value, int):
        return f"{number:.3f}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def behind_section(headlines: dict[str, Headline], level: str = "###") -> str:
    """The other values each notebook recorded beside its headline numbers; "" when none."""
    tasks = {r.key: r.task for r in PAPER_RESULTS}
    rows = []
    for key in [r.key for r in PAPER_RESULTS] + sorted(set(headlines) - set(tasks)):
        headline = headlines.get(key)
        if headline is None or not isinstance(headline.details, dict) or not headline.details:
            continue
        values = "; ".join(f"{k}: {_detail_value(v)}" for k, v in headline.details.items())
        rows.append(f"- {tasks.get(key, key)}: {values}")
    if not rows:
        return ""
    return "\n".join([f"{level} Behind the headline numbers", "", *rows, ""])


def run_section(profile: str, log: dict[str, Any], level: str = "###") -> str:
    """The run in full: data, checkpoint, hardware, python, last invocation, and per-step times."""
    checkpoint = log.get("checkpoint")
    if checkpoint:
        checkpoint_text = f"`{checkpoint}` (evaluated by the notebooks that take `checkpoint`)"
    else:
        checkpoint_text = f"none given: the notebooks evaluate the model 01_train trained (runs/{profile}/)"
    rows = [
        ("status", status_text(log)),
        ("data", data_text(log)),
        ("checkpoint", checkpoint_text if "checkpoint" in log else "not recorded (older log)"),
        ("hardware", hardware_text(log)),
        ("commit", commit_text(log)),
        ("python", log.get("python") or (log.get("hardware") or {}).get("python", "?")),
    ]
    if log.get("command"):
        rows.append(("command", f"`{log['command']}`"))
    if log.get("only"):
        rows.append(("last invocation", f"`--only {log['only']}` (the other steps are from earlier runs)"))
    lines = [f"{level} Run", "", "| | |", "|---|---|"]
    lines += [f"| {key} | {_cell(value)} |" for key, value in rows]
    steps = _steps(log)
    lines += ["", "| step | status | time | commit |", "|---|---|---|---|"]
    lines += [f"| {_cell(s.get('step'))} | {_cell(s.get('status'))} | {_duration(s.get('seconds'))} | "
              f"{_cell(_commit(s.get('git')) or _commit(log.get('git')) or '-')} |" for s in steps]
    if not steps:
        lines.append("| (none recorded) | - | - | - |")
    return "\n".join(lines + [""])


def tables_section(profile_dir: Path, results_root: Path, level: str = "###") -> str:
    """Every `tables/*.md` in file order: embedded (long ones linked), each under a heading."""
    tables = sorted((profile_dir / "tables").glob("*.md")) if (profile_dir / "tables").is_dir() else []
    lines = [f"{level} Tables", ""]
    if not tables:
        return "\n".join(lines + ["No tables yet.", ""])
    for md in tables:
        csv_path = md.with_suffix(".csv")
        links = f"[Markdown]({_link(md, results_root)})"
        if csv_path.is_file():
            links += f" · [CSV]({_link(csv_path, results_root)})"
        text = md.read_text(encoding="utf-8").strip()
        rows = max(0, sum(1 for line in text.splitlines() if line.lstrip().startswith("|")) - 2)
        lines += [f"{level}# {table_title(md.stem)}", ""]
        if rows > MAX_EMBEDDED_ROWS:
            lines += [f"{rows} rows, not embedded: {links}", ""]
        else:
            lines += [links, "", text, ""]
    return "\n".join(lines)


def figures_section(profile_dir: Path, results_root: Path, level: str = "###") -> str:
    """Every `figures/*.png` as a Markdown image."""
    figures = sorted((profile_dir / "figures").glob("*.png")) if (profile_dir / "figures").is_dir() else []
    lines = [f"{level} Figures", ""]
    if not figures:
        return "\n".join(lines + ["No figures yet.", ""])
    for png in figures:
        lines += [f"**{png.stem}**", "", f"![{png.stem}]({_link(png, results_root)})", ""]
    return "\n".join(lines)


def files_section(profile_dir: Path, results_root: Path, level: str = "###") -> str:
    """Links to the executed notebooks, the benchmark and other material with a README: files a
    clone has (the HTML renderings in `html/` are not committed, so they are not linked)."""
    lines = [f"{level} Notebooks and other files", ""]
    executed = sorted((profile_dir / "notebooks").glob("*.ipynb")) if (profile_dir / "notebooks").is_dir() else []
    if executed:
        lines += ["| notebook | executed |", "|---|---|"]
        lines += [f"| {p.stem} | [{p.name}]({_link(p, results_root)}) |" for p in executed]
        lines += ["", f"HTML renderings are written to `{profile_dir.name}/html/` on the machine that ran them "
                      "(not committed).", ""]
    else:
        lines += ["No executed notebooks yet.", ""]
    extras = []
    bench = profile_dir / "benchmarks.md"
    if bench.is_file():
        extras.append(f"- core benchmark: [{bench.name}]({_link(bench, results_root)})")
    for sub in sorted(p for p in profile_dir.iterdir() if p.is_dir()):
        if (sub / "README.md").is_file():
            extras.append(f"- [{sub.name}/]({_link(sub / 'README.md', results_root)})")
    if extras:
        lines += extras + [""]
    return "\n".join(lines)


def details_section(results_root: Path, profile: str, page_dir: Path | None = None) -> str:
    """Everything else about one profile folder: the run, the values behind the headlines, the
    tables, the figures and the files (linked from the page in `page_dir`, default `results_root`)."""
    profile_dir = Path(results_root) / profile
    page_dir = Path(page_dir or results_root)
    log = read_log(profile_dir) or {}
    parts = [f"## {_details_heading(profile)}", "", run_section(profile, log)]
    behind = behind_section(read_summaries(profile_dir))
    if behind:
        parts.append(behind)
    parts += [tables_section(profile_dir, page_dir), figures_section(profile_dir, page_dir),
              files_section(profile_dir, page_dir)]
    return "\n".join(parts)


# ----------------------------------------------------------------------------------------------
# The page


def page_profiles(results_root: Path, profile: str | None = None) -> list[str]:
    """The profiles of one page: `profile` alone, or the committed ones that hold a log."""
    found = report_profiles(results_root)
    if profile is not None:
        return [profile] if profile in found else []
    return [p for p in found if p in COMMITTED_PROFILES]


def page_path(results_root: Path, profile: str | None = None) -> Path:
    """results/README.md for the committed profiles, results/<profile>/README.md for another."""
    if profile is None or profile in COMMITTED_PROFILES:
        return Path(results_root) / REPORT_NAME
    return Path(results_root) / profile / REPORT_NAME


def build_report(results_root: Path, profile: str | None = None) -> str:
    """The page `page_path(results_root, profile)`, from what is on disk under `results_root`."""
    results_root = Path(results_root)
    page_dir = page_path(results_root, profile).parent
    profiles = page_profiles(results_root, None if profile in COMMITTED_PROFILES else profile)
    lines = [
        "# Results", "",
        ("What this is: what this repository measured with the committed profile(s) "
         f"({', '.join(f'`{p}`' for p in COMMITTED_PROFILES)}: the default main job, on the **synthetic** "
         "benchmark), headline numbers first.  " if page_dir == results_root else
         f"What this is: the `{profile}` profile as run on this machine (not committed; git ignores this "
         "folder).  "),
        "_Generated by `scripts/reproduce.py` (`make reproduce`; `python scripts/reproduce.py --only report` "
        "rebuilds just this page) from `results/<profile>/`. Do not edit by hand._", "",
        what_ran_section(results_root, profiles),
        headline_section(results_root, profiles),
    ]
    lines += [details_section(results_root, p, page_dir) for p in profiles]
    return "\n".join(lines).rstrip() + "\n"


def write_report(results_root: Path, profile: str | None = None) -> Path:
    """Write the page of `profile` (None: the committed profiles' results/README.md) atomically."""
    return write_text(page_path(results_root, profile), build_report(results_root, profile))
