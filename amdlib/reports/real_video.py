"""Notebook 06's tables: AMD trained on real clips, scored per sequence over several seeds.

The rows come from `amdlib.evaluation.vos.vos_table` (its per-sequence rows), one call per seed,
each row tagged with its `seed`:

    table = over_seeds(rows)                        # method x rule, J per sequence, mean and range
    effect = tta_effect(rows, "AMD", tta_name)      # per sequence: AMD, AMD + TTA, the difference
"""

from __future__ import annotations

import pandas as pd

RULES = ("motion_contrast_video", "oracle_frame")
"""The channel rules the real-video table reports: the label-free one, and the per-frame oracle
(labels pick the channel: an upper bound of any rule)."""


def _rows(sequence_rows: list[dict], rules: tuple[str, ...]) -> pd.DataFrame:
    table = pd.DataFrame(sequence_rows)
    return table[table["channel rule"].isin([*rules, "-"])]


def over_seeds(sequence_rows: list[dict], rules: tuple[str, ...] = RULES) -> pd.DataFrame:
    """One row per method and channel rule ("-": a one-channel baseline): J (`j_mean`) of each
    sequence averaged over seeds, then `J mean` (over sequences, of the seeds' mean) and the
    range of the seeds' own means over sequences (`J min`, `J max`)."""
    table = _rows(sequence_rows, rules)
    keys = ["method", "channel rule"]
    per_sequence = table.pivot_table(index=keys, columns="sequence", values="j_mean", aggfunc="mean", sort=False)
    per_seed = table.groupby([*keys, "seed"], sort=False)["j_mean"].mean().groupby(level=keys, sort=False)
    summary = pd.DataFrame({"J mean": per_sequence.mean(axis=1), "J min": per_seed.min(), "J max": per_seed.max(),
                            "seeds": per_seed.size()})
    return per_sequence.join(summary).reset_index()


def tta_effect(sequence_rows: list[dict], amd: str, tta: str, rule: str = RULES[0]) -> pd.DataFrame:
    """Per sequence: J of `amd` and of `tta` under `rule` (mean over seeds), the difference, and
    in how many seeds adaptation kept or raised J (`TTA >= AMD`)."""
    table = _rows(sequence_rows, (rule,))
    wide = table[table["method"].isin([amd, tta])].pivot_table(index=["sequence", "seed"], columns="method",
                                                                values="j_mean", sort=False)
    wide["kept or raised"] = wide[tta] >= wide[amd]
    grouped = wide.groupby(level="sequence", sort=False)
    return pd.DataFrame({"AMD": grouped[amd].mean(), "AMD + TTA": grouped[tta].mean(),
                         "difference": grouped[tta].mean() - grouped[amd].mean(),
                         "TTA >= AMD (seeds)": grouped["kept or raised"].sum().astype(int),
                         "seeds": grouped.size()}).reset_index()
