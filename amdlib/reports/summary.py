"""Headline values: what each notebook measured for the paper's results, in a small JSON file.

Each notebook ends by writing `results/<profile>/summaries/<notebook>.json`: one `Headline` per
paper result it measures (keys of `amdlib.reports.paper.PAPER_RESULTS`). The results page
(`amdlib.reports.builder`) reads these files and never parses the notebooks' tables.

    write_summary(out, "03_zero_shot_vos", [Headline("davis2016_j", 0.41, "AMD + TTA, ...", "synthetic ...",
                                                     ("davis2016",))])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..io.atomic import write_json

SUMMARY_DIR = "summaries"
"""Folder under `results/<profile>/` that holds one summary per notebook."""
SUMMARY_VERSION = 1


@dataclass(frozen=True)
class Headline:
    """This repository's number for one paper result."""

    key: str
    """The `PaperResult.key` it answers (e.g. "davis2016_j")."""
    value: float | None
    """In the unit of this repository's tables (J and mIoU as fractions in [0, 1]); None when the
    answer is not a single number (e.g. the best c names a variant)."""
    text: str
    """What was measured, in words, as the results page shows it."""
    set_name: str = ""
    """The evaluation set it was measured on, as the notebook names it."""
    datasets: tuple[str, ...] = ()
    """The datasets it depends on (keys of the run log's "data": youtube_vos, davis2016, ...)."""
    details: dict[str, Any] = field(default_factory=dict)
    """Other values behind the number (baselines beside it, the random-init mIoU, ...)."""

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "Headline":
        values = dict(values)
        values["datasets"] = tuple(values.get("datasets", ()))
        return cls(**values)


def summary_path(results_dir: str | os.PathLike, notebook: str) -> Path:
    return Path(results_dir) / SUMMARY_DIR / f"{notebook}.json"


def write_summary(results_dir: str | os.PathLike, notebook: str, headlines: list[Headline],
                  **extra: Any) -> Path:
    """Write `notebook`'s headline values atomically; `extra` holds other JSON-able values."""
    record = {"version": SUMMARY_VERSION, "notebook": notebook,
              "headlines": [asdict(h) for h in headlines], **extra}
    return write_json(summary_path(results_dir, notebook), record)


def read_summaries(results_dir: str | os.PathLike) -> dict[str, Headline]:
    """Every headline under `results_dir/summaries/`, by key (a later notebook's wins). A file
    that is not a summary of this version is skipped."""
    folder = Path(results_dir) / SUMMARY_DIR
    found: dict[str, Headline] = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(record, dict) or record.get("version") != SUMMARY_VERSION:
            continue
        for values in record.get("headlines", []):
            try:
                headline = Headline.from_dict(values)
            except TypeError:
                continue
            found[headline.key] = headline
    return found


# What each notebook reports, picked from the rows it has just computed ---------------------------


def saliency_headline(rows: list[dict[str, Any]], ours: str, baselines: list[str], set_name: str) -> Headline:
    """Notebook 02: max F and MAE of the row whose method is `ours`, beside the `baselines` rows."""
    by_method = {r["method"]: r for r in rows}

    def scores(row: dict[str, Any]) -> str:
        return f"max F {row['max_f']:.3f}, MAE {row['mae']:.3f}"

    text = f"{ours}: **{scores(by_method[ours])}**"
    text += "".join(f"; {name}: {scores(by_method[name])}" for name in baselines)
    return Headline("duts_saliency", None, text, set_name, ("duts_te",),
                    {name: {"max_f": float(by_method[name]["max_f"]), "mae": float(by_method[name]["mae"])}
                     for name in [ours, *baselines]})


def vos_headlines(rows: list[dict[str, Any]], method: str, rule: str,
                  paper_sets: dict[str, tuple[str, str]]) -> list[Headline]:
    """Notebook 03: J (DAVIS mean) of `method` under `rule` on each set of `paper_sets`
    ({set name: (paper key, dataset)}) that `rows` (`vos_table`'s first output) holds."""
    headlines = []
    for set_name, (key, dataset) in paper_sets.items():
        row = next((r for r in rows if r["set"] == set_name and r["method"] == method
                    and r["channel rule"] == rule), None)
        if row is None:
            continue
        headlines.append(Headline(key, float(row["J (DAVIS mean)"]),
                                  f"{method}, label-free channel rule `{rule}`, J mean", set_name, (dataset,),
                                  {"F (DAVIS mean)": float(row["F (DAVIS mean)"])}))
    return headlines


def semantic_headline(rows: list[dict[str, Any]], ours: str, reference: str) -> Headline:
    """Notebook 04: mean mIoU of the `ours` backbone row, with the `reference` row's beside it;
    with several seeds (`seeds`, `mIoU min`, `mIoU max`), both ranges and the verdict."""
    by_name = {r["backbone"]: r for r in rows}
    mine, theirs = by_name[ours], by_name[reference]
    value, other = float(mine["mIoU"]), float(theirs["mIoU"])
    seeds = int(mine.get("seeds", 1))
    if seeds > 1:
        from .seed_runs import spread_verdict

        verdict = spread_verdict(mine["mIoU min"], mine["mIoU max"], theirs["mIoU min"], theirs["mIoU max"], seeds)
        text = (f"{ours}, mIoU mean of {seeds} seeds ({100 * mine['mIoU min']:.1f}-{100 * mine['mIoU max']:.1f}); "
                f"{reference}: {100 * other:.1f} ({100 * theirs['mIoU min']:.1f}-{100 * theirs['mIoU max']:.1f}): "
                f"{verdict}")
        return Headline("voc2012_miou", value, text, "", ("voc2012",), {reference: other, "verdict": verdict})
    return Headline("voc2012_miou", value, f"{ours}, mIoU ({reference}: {100 * other:.1f})", "", ("voc2012",),
                    {reference: other})


def seeds_text(count: int) -> str:
    """"1 seed", "3 seeds": a count of seeds in a headline."""
    return f"{count} seed{'' if count == 1 else 's'}"


def masks_headline(spread: "pd.DataFrame") -> Headline | None:
    """Notebook 05: the number of masks c from the committed seed runs
    (`seed_runs.against_the_default`'s table): each c that has runs, its mean J over seeds and
    its verdict against the default's seed spread. None when no c other than the default has runs:
    a one-seed sweep before emergence ranks nothing, so it never makes this headline."""
    rows = spread[(spread["family"] == "masks") & (spread["seeds"] > 0)]
    others = rows[rows["verdict"] != "the default"]
    if others.empty:
        return None
    parts = []
    for _, row in rows.iterrows():
        parts.append(f"{row['variant']}: J {row['J_mean']:.3f} ({row['J_min']:.3f}-{row['J_max']:.3f}, "
                     f"{seeds_text(int(row['seeds']))})"
                     f"{'' if row['verdict'] == 'the default' else ', ' + row['verdict']}")
    unrun = (spread[spread["family"] == "masks"]["seeds"] == 0).any()
    text = "; ".join(parts) + ("; other c not run yet" if unrun else "")
    return Headline("masks_c", None, text, "", ("youtube_vos", "davis2016"),
                    {str(v): {"J_mean": float(j), "seeds": int(n), "verdict": str(d)}
                     for v, j, n, d in zip(rows["variant"], rows["J_mean"], rows["seeds"], rows["verdict"])})
