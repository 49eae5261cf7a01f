"""Writing results: tables as CSV + Markdown and figures as PNG, each written atomically.

Notebooks call these so that an interrupted run never leaves a half-written table behind and
every table exists in both forms (CSV for machines, Markdown for readers of results/).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd


def _atomic_write(path: Path, write) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    return path


def write_table(table: pd.DataFrame, stem: str | os.PathLike, float_format: str = "{:.3f}") -> tuple[Path, Path]:
    """Write `table` as `<stem>.csv` and `<stem>.md`; returns both paths."""
    stem = Path(stem)
    csv_path = _atomic_write(stem.with_suffix(".csv"), lambda tmp: table.to_csv(tmp, index=False))
    markdown = to_markdown(table, float_format)
    md_path = _atomic_write(stem.with_suffix(".md"), lambda tmp: Path(tmp).write_text(markdown + "\n"))
    return csv_path, md_path


def to_markdown(table: pd.DataFrame, float_format: str = "{:.3f}") -> str:
    """A GitHub-style Markdown table (no dependency on `tabulate`)."""
    def cell(value) -> str:
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
    return _atomic_write(path, lambda tmp: figure.savefig(tmp, dpi=dpi, format="png", bbox_inches="tight"))
