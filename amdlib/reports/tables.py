"""Writing results: tables as CSV + Markdown and figures as PNG, each written atomically.

Notebooks call these so that an interrupted run never leaves a half-written table behind and
every table exists in both forms (CSV for machines, Markdown for readers of results/).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..io.atomic import atomic_write, write_text


def write_table(table: pd.DataFrame, stem: str | os.PathLike, float_format: str = "{:.3f}") -> tuple[Path, Path]:
    """Write `table` as `<stem>.csv` and `<stem>.md`; returns both paths."""
    stem = Path(stem)
    csv_path = atomic_write(stem.with_suffix(".csv"), lambda file: table.to_csv(file, index=False), binary=False)
    md_path = write_text(stem.with_suffix(".md"), to_markdown(table, float_format) + "\n")
    return csv_path, md_path


def to_markdown(table: pd.DataFrame, float_format: str = "{:.3f}") -> str:
    """A GitHub-style Markdown table (no dependency on `tabulate`); a missing value (None, NaN,
    pd.NA) is written `-`."""
    def cell(value) -> str:
        if value is None or value is pd.NA or (isinstance(value, float) and value != value):
            return "-"
        if isinstance(value, float):
            return float_format.format(value)
        return str(value).replace("|", "\\|")

    header = "| " + " | ".join(str(c) for c in table.columns) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def save_figure(figure, path: str | os.PathLike, dpi: int = 100) -> Path:
    """Save a matplotlib figure as PNG atomically."""
    path = Path(path)
    return atomic_write(path, lambda file: figure.savefig(file, dpi=dpi, format="png", bbox_inches="tight"))
