"""Ablation figures (notebook 05): one family's short-sweep rows as bars, the committed
seed runs as J per variant with the seed range as error bars, and the masks each run saved."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd


def ablation_figure(rows: pd.DataFrame, family: str, title: str = ""):
    """Bar chart of one family: J (label-free) and best-channel J per variant, the default's
    bars hatched, the centre prior as a dashed line, iterations reached under each name."""
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    part = rows[rows["family"] == family].reset_index(drop=True)
    x = np.arange(len(part))
    figure, axis = plt.subplots(figsize=(1.3 * len(part) + 2.5, 3.6))
    handles = []
    for offset, key, label, colour in ((-0.2, "J_label_free", "J (label-free: motion contrast per video)", "C0"),
                                       (0.2, "J_best_channel", "J (best fixed channel, uses labels)", "C1")):
        bars = axis.bar(x + offset, part[key], width=0.4, color=colour)
        for bar, reference in zip(bars, part["reference"]):
            if reference:
                bar.set_hatch("//")
                bar.set_edgecolor("black")
        handles.append(Patch(color=colour, label=label))
    prior = float(part["J_centre_prior"].mean())
    axis.axhline(prior, color="grey", linestyle="--")
    handles += [Line2D([], [], color="grey", linestyle="--", label=f"centre prior (J {prior:.2f})"),
                Patch(facecolor="white", edgecolor="black", hatch="//", label="default")]
    names = [f"{v}{' (default)' if r else ''}\n{i} it" for v, r, i in
             zip(part["variant"], part["reference"], part["iterations"])]
    axis.set_xticks(x, names, fontsize=8)
    top = max(0.5, float(part[["J_label_free", "J_best_channel", "J_centre_prior"]].to_numpy().max()) * 1.25)
    axis.set(ylabel="J", ylim=(0, min(1.0, top)), title=title or f"ablation: {family}")
    axis.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.tight_layout()
    return figure


def save_ablation_figure(rows: pd.DataFrame, family: str, figures_dir: str | os.PathLike) -> Path | None:
    """`ablation_figure` of `family` saved as `<figures_dir>/05_ablation_<family>.png`; None (and
    no file) when `rows` holds no variant of that family (e.g. `families` left it out)."""
    from .tables import save_figure

    if not (rows["family"] == family).any():
        return None
    return save_figure(ablation_figure(rows, family), Path(figures_dir) / f"05_ablation_{family}.png")


def seed_spread_figure(table: pd.DataFrame, title: str = ""):
    """J of the best fixed channel per variant (`seed_runs.against_the_default`'s table): the mean
    over seeds as a dot, the seed range as error bars, the default's range as a grey band;
    variants without runs are listed as "not run"."""
    import matplotlib.pyplot as plt
    import numpy as np

    rows = table.reset_index(drop=True)
    labels = [f"{f}/{v}" for f, v in zip(rows["family"], rows["variant"])]
    y = np.arange(len(rows))[::-1]
    figure, axis = plt.subplots(figsize=(6.8, 0.28 * len(rows) + 1.4))
    default = rows[rows["verdict"] == "the default"]
    if len(default):
        axis.axvspan(float(default["J_min"].iloc[0]), float(default["J_max"].iloc[0]), color="grey", alpha=0.2,
                     label="the default's seed range")
    measured = rows["seeds"] > 0
    mean, low, high = (rows[c].astype(float).to_numpy() for c in ("J_mean", "J_min", "J_max"))
    colours = ["C3" if v.startswith("lower") else "C2" if v.startswith("higher") else "C0" for v in rows["verdict"]]
    for k in np.flatnonzero(measured.to_numpy()):
        axis.errorbar(mean[k], y[k], xerr=[[mean[k] - low[k]], [high[k] - mean[k]]], fmt="o", color=colours[k],
                      capsize=3)
    for k in np.flatnonzero(~measured.to_numpy()):
        axis.text(0.01, y[k], "not run", va="center", fontsize=7, color="grey")
    axis.set_yticks(y, [f"{l} ({int(n)} seeds)" if n else l for l, n in zip(labels, rows["seeds"])], fontsize=7)
    axis.set(xlabel="J, best fixed channel (mean over seeds, seed range)", xlim=(0, 1), title=title,
             ylim=(-0.7, len(rows) - 0.3))  # room for the first and last rows' labels
    axis.legend(fontsize=7, loc="lower right")
    figure.tight_layout()
    return figure


def run_masks_figure(frames, masks, truths, best_channel: int | None = None, title: str = ""):
    """One ablation run's masks, to look at beside its J: a row per frame (N,3,H,W) with its
    ground truth (N,H,W) and the run's c soft masks (N,c,H,W); the best fixed channel is marked."""
    from .figures import masks_and_flow

    figure = masks_and_flow(frames, masks, truths=truths)
    if best_channel is not None:
        figure.axes[2 + best_channel].set_title(f"mask {best_channel} (best)", fontsize=8, fontweight="bold")
    if title:
        figure.suptitle(title, fontsize=8)
        figure.tight_layout()
    return figure


def masks_sheet(images: dict[str, str | os.PathLike], columns: int = 2, title: str = ""):
    """The runs' saved mask figures (`label -> PNG path`) side by side, one panel each, so every
    variant of the table can be looked at in one figure."""
    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt

    rows = max(1, (len(images) + columns - 1) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(6.5 * columns, 2.6 * rows), squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    for axis, (label, path) in zip(axes.flat, images.items()):
        axis.imshow(mpimg.imread(path))
        axis.set_title(label, fontsize=9)
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return figure
