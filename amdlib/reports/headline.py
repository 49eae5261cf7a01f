"""The headline table of a profile's run: AMD beside the methods measured on the same data (this
run's baselines, the committed seed runs and the with-labels ceiling), never beside the paper's
numbers.

The rows are read from the tables the notebooks wrote under `results/<profile>/tables/` (and,
for real video, under `results/<profile>/real_davis2016_dev/tables/`). The results page and the
repository's README show these same lines, and a test holds the README to them, so the two pages
cannot disagree.

    print("\n".join(headline_lines(Path("results/cpu"))))
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from .summary import seeds_text

HEADER = ("| task (metric), data | AMD | beside it, on the same data |", "|---|---|---|")
VOS_RULE = "motion_contrast_video"
"""The label-free channel rule the VOS rows report."""
REAL_VIDEO = "real_davis2016_dev"
"""Sub-folder with notebook 03's tables on real DAVIS-2016 sequences, when a run made one."""


COLUMNS = {"01_against_ceiling": {"method", "J_mean", "J_min", "J_max"},
           "03_vos": {"set", "method", "channel rule", "J (DAVIS mean)"},
           "02_saliency": {"method", "max_f", "mae"}, "04_semantic": {"backbone", "mIoU"},
           "05_ablations_seed_spread": {"family", "variant", "seeds", "iterations", "J_mean", "J_min", "J_max", "verdict"},
           "06_real_video": {"method", "channel rule", "J mean", "J min", "J max", "seeds", "trained on", "scored on"}}
"""The columns each table needs; a table without them (another version's) is left out."""


def _table(folder: Path, stem: str) -> pd.DataFrame | None:
    path = folder / "tables" / f"{stem}.csv"
    if not path.is_file():
        return None
    table = pd.read_csv(path)
    return table if COLUMNS[stem] <= set(table.columns) else None


def _j(value: float) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{float(value):.3f}"


def _vos(table: pd.DataFrame, set_name: str) -> dict[str, float]:
    """J (DAVIS mean) of AMD, AMD + TTA (label-free rule), the motion baseline and the centre prior."""
    rows = table[table["set"] == set_name]
    found = {}
    for _, row in rows.iterrows():
        method, rule = str(row["method"]), str(row["channel rule"])
        if method == "AMD" and rule == VOS_RULE:
            found["AMD"] = row["J (DAVIS mean)"]
        elif method.startswith("AMD + TTA") and rule == VOS_RULE:
            found["TTA"] = row["J (DAVIS mean)"]
        elif method.startswith("motion baseline"):
            found["motion"] = row["J (DAVIS mean)"]
        elif method.startswith("centre prior"):
            found["centre"] = row["J (DAVIS mean)"]
    return found


def _vos_line(task: str, found: dict[str, float]) -> str:
    return (f"| {task} | {_j(found.get('AMD'))}; + TTA {_j(found.get('TTA'))} | "
            f"motion baseline {_j(found.get('motion'))}; centre prior {_j(found.get('centre'))} |")


def _semantic_line(by: pd.DataFrame) -> str:
    """AMD against random initialisation, full fine-tuning and the frozen-backbone probe; the
    seed range and verdict when the table has several seeds."""
    seeds = int(by["seeds"].iloc[0]) if "seeds" in by else 1

    def cell(name: str) -> str:
        value = _j(by.loc[name, "mIoU"])
        if seeds > 1:
            value += f" ({_j(by.loc[name, 'mIoU min'])}-{_j(by.loc[name, 'mIoU max'])})"
        return value

    ours, theirs = [], []
    for kind in ("full fine-tune", "frozen backbone"):
        if f"AMD init, {kind}" in by.index and f"random init, {kind}" in by.index:
            verdict = by.loc[f"AMD init, {kind}"].get("against random init", "")
            ours.append(f"{kind} {cell(f'AMD init, {kind}')}" + (f", {verdict}" if seeds > 1 and verdict else ""))
            theirs.append(f"{kind} {cell(f'random init, {kind}')}")
    what = f"{seeds} seeds" if seeds > 1 else "one seed"
    return (f"| semantic fine-tuning (mIoU), synthetic VOC layout, {what} | AMD init: {'; '.join(ours)} | "
            f"random init: {'; '.join(theirs)} |")


def _real_video_line(table: pd.DataFrame) -> str:
    """Notebook 06: AMD trained on real clips (mean and seed range, label-free rule) beside the
    motion baseline and the centre prior on the same sequences."""
    def row(method_start: str, exact: bool = False) -> pd.Series | None:
        method = table["method"] == method_start if exact else table["method"].str.startswith(method_start)
        found = table[method & table["channel rule"].isin([VOS_RULE, "-"])]
        return None if found.empty else found.iloc[0]

    def cell(found: pd.Series | None) -> str:
        if found is None:
            return "-"
        spread = f" ({_j(found['J min'])}-{_j(found['J max'])})" if int(found["seeds"]) > 1 else ""
        return _j(found["J mean"]) + spread

    first = table.iloc[0]
    amd, tta = row("AMD", exact=True), row("AMD + TTA")
    motion, centre = row("motion baseline"), row("centre prior")
    return (f"| zero-shot VOS (J, label-free channel), AMD trained on {first['trained on']}, {first['scored on']}, "
            f"{int(first['seeds'])} seeds | {cell(amd)}; + TTA {cell(tta)} | "
            f"motion baseline {_j(None if motion is None else motion['J mean'])}; "
            f"centre prior {_j(None if centre is None else centre['J mean'])} |")


def headline_lines(profile_dir: Path) -> list[str]:
    """The Markdown table (header included) of what `profile_dir`'s run measured; [] when it
    holds none of the tables."""
    profile_dir = Path(profile_dir)
    lines: list[str] = []
    ceiling = _table(profile_dir, "01_against_ceiling")
    if ceiling is not None:
        by = ceiling.set_index("method")
        own = next((m for m in by.index if m.startswith("AMD, this run")), None)
        seeds = next((m for m in by.index if m.startswith("AMD, profile")), None)
        labelled = next((m for m in by.index if m.startswith("with labels")), None)
        amd = _j(by.loc[own, "J_mean"]) if own else "-"
        if seeds:
            amd += (f" (3 committed seeds: {_j(by.loc[seeds, 'J_mean'])}, "
                    f"{_j(by.loc[seeds, 'J_min'])}-{_j(by.loc[seeds, 'J_max'])})")
        beside = []
        if labelled:
            beside.append(f"same network trained with the masks {_j(by.loc[labelled, 'J_mean'])}")
        for name in ("classical motion segmentation", "centre prior"):
            if name in by.index:
                beside.append(f"{name.replace('classical motion segmentation', 'motion baseline')} "
                              f"{_j(by.loc[name, 'J_mean'])}")
        lines.append(f"| emergence (J, best fixed channel), 50 synthetic DAVIS-layout videos | {amd} | "
                     f"{'; '.join(beside)} |")
    vos = _table(profile_dir, "03_vos")
    if vos is not None:
        for set_name in dict.fromkeys(vos["set"]):
            lines.append(_vos_line(f"zero-shot VOS (J, label-free channel), {set_name}", _vos(vos, set_name)))
    real = _table(profile_dir / REAL_VIDEO, "03_vos")
    if real is not None:
        for set_name in dict.fromkeys(real["set"]):
            if not str(set_name).startswith("synthetic"):
                lines.append(_vos_line(f"zero-shot VOS (J, label-free channel), real {set_name} samples",
                                       _vos(real, set_name)))
    trained = _table(profile_dir, "06_real_video")
    if trained is not None:
        lines.append(_real_video_line(trained))
    saliency = _table(profile_dir, "02_saliency")
    if saliency is not None:
        by = saliency.set_index("method")
        ours = next((m for m in by.index if m.endswith("smallest_area")), None)
        prior = next((m for m in by.index if m.startswith("centre prior")), None)
        if ours and prior:
            lines.append(f"| zero-shot saliency (max F / MAE), synthetic DUTS-TE layout | "
                         f"{by.loc[ours, 'max_f']:.3f} / {by.loc[ours, 'mae']:.3f} | "
                         f"centre prior {by.loc[prior, 'max_f']:.3f} / {by.loc[prior, 'mae']:.3f} |")
    semantic = _table(profile_dir, "04_semantic")
    if semantic is not None:
        by = semantic.set_index("backbone")
        if {"AMD init, full fine-tune", "random init, full fine-tune"} <= set(by.index):
            lines.append(_semantic_line(by))
    spread = _table(profile_dir, "05_ablations_seed_spread")
    if spread is not None:
        default = spread[spread["verdict"] == "the default"]
        if len(default) and ((spread["seeds"] > 0) & (spread["verdict"] != "the default")).any():
            lines.append(_ablations_line(spread, default.iloc[0]))
    return [*HEADER, *lines] if lines else []


VERDICT_ORDER = ("higher beyond the spread", "within the spread", "lower beyond the spread")


def _ablations_line(spread: pd.DataFrame, default: pd.Series) -> str:
    """The ablation table in one headline row: the measured variants grouped by verdict (a seed
    count only where it differs from the default's), then how many are not run yet."""
    seeds = int(default["seeds"])
    variants = spread[spread["verdict"] != "the default"]
    measured = variants[variants["seeds"] > 0]
    verdicts = [v for v in VERDICT_ORDER if v in set(measured["verdict"])]
    verdicts += sorted(set(measured["verdict"]) - set(VERDICT_ORDER))
    groups = []
    for verdict in verdicts:
        rows = measured[measured["verdict"] == verdict]
        groups.append(f"{verdict}: " + ", ".join(
            f"{row['family']}/{row['variant']} {_j(row['J_mean'])}"
            + ("" if int(row["seeds"]) == seeds else f" ({seeds_text(int(row['seeds']))})")
            for _, row in rows.iterrows()))
    missing = len(variants) - len(measured)
    if missing:
        groups.append(f"not run yet: {missing} of {len(variants)} variants")
    return (f"| ablations (J over {seeds_text(seeds)} at {int(default['iterations']):,} iterations, against the "
            f"default's range) | default {_j(default['J_mean'])} ({_j(default['J_min'])}-{_j(default['J_max'])}) | "
            f"{'; '.join(groups)} |")
