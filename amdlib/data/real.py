"""The real datasets the notebooks can take, where `amd download` puts them under DATA_ROOT,
and which of them a DATA_ROOT holds (`resolve_data`); the rest stay synthetic.

    choices = resolve_data("data/real"); print(data_summary(choices))
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from .davis import davis_root_problem
from .io import DatasetError


@dataclass(frozen=True)
class RealDataset:
    """A real dataset as ``amd download`` leaves it, and the notebooks' names for it."""

    name: str
    """Key in the log (and in the report's data lines)."""
    title: str
    resource: str
    """The `amdlib.io.resources.RESOURCES` entry that fetches it (its target folder is the base)."""
    inner: str
    """The folder the loaders read, relative to the resource's target folder ("" = the target)."""
    required: tuple[str, ...]
    """Paths inside that folder that must exist for it to be used."""
    parameters: tuple[tuple[str, str], ...]
    """(notebook parameter, path inside the folder: "" for the folder itself)."""
    real_roots_key: str | None
    """Key of 00_data's ``real_roots`` dict (None: 00_data does not show it)."""
    synthetic: str
    """What the notebooks use when it is absent."""
    hint: str = ""
    """What to do when the folder exists but lacks a required path."""
    problem: Callable[[Path], str | None] | None = None
    """The loader's own check of a root, used instead of `required` (which is then empty), so that
    the main job accepts exactly the folders the notebook's loader reads."""


REAL_DATASETS: tuple[RealDataset, ...] = (
    RealDataset("youtube_vos", "YouTube-VOS 2019 train (training videos)", "youtube_vos_split", "",
                ("ytb_2019.txt",), (("train_root", ""), ("train_split", "ytb_2019.txt")), None,
                "synthetic YouTube-VOS-layout training videos",
                "put the frames and the split file there: amd download youtube-vos"),
    RealDataset("davis2016", "DAVIS-2016", "davis2016", "DAVIS", (), (("davis_root", ""),), "davis2016",
                "synthetic DAVIS-2016-layout set", problem=davis_root_problem),
    RealDataset("fbms59", "FBMS-59", "fbms59", "", ("JPEGImages", "Annotations"), (("fbms_root", ""),),
                "fbms_sparse", "synthetic FBMS-layout set (sparse)",
                "rearrange it into JPEGImages/<seq>/ + Annotations/<seq>/ (amd download list)"),
    RealDataset("segtrackv2", "SegTrackv2", "segtrackv2", "SegTrackv2", ("JPEGImages", "Annotations"),
                (("segtrack_root", ""),), None, "left out (no synthetic SegTrackv2 set)",
                "merge its GroundTruth/ into Annotations/<seq>/ (amd download list)"),
    RealDataset("duts_te", "DUTS-TE", "duts_te", "DUTS-TE", ("DUTS-TE-Image", "DUTS-TE-Mask"),
                (("duts_root", ""),), "duts_te", "synthetic DUTS-TE-layout set"),
    RealDataset("voc2012", "PASCAL VOC 2012", "voc2012", "", ("VOCdevkit/VOC2012",), (("voc_root", ""),),
                "voc2012", "synthetic VOC-2012-layout set"),
)
"""Every real dataset the notebooks can take, in the order the pipeline uses them."""


def _resource_folder(resource: str) -> str:
    """The target folder of an `amd download` resource, relative to DATA_ROOT."""
    from ..io.resources import RESOURCES

    return RESOURCES[resource].subfolder


@dataclass(frozen=True)
class DataChoice:
    """What one dataset of the run is: a real folder, or the synthetic stand-in."""

    dataset: RealDataset
    path: Path | None
    """The real folder used; None when synthetic."""
    note: str = ""
    """Why a folder that exists is not used (a required path is missing)."""

    @property
    def is_real(self) -> bool:
        return self.path is not None

    def record(self, preset: str) -> dict[str, Any]:
        """How the log records it."""
        if self.path is not None:
            return {"source": "real", "title": self.dataset.title, "path": str(self.path)}
        if self.dataset.name == "segtrackv2":
            entry: dict[str, Any] = {"source": "none", "title": self.dataset.title, "used": self.dataset.synthetic}
        else:
            entry = {"source": "synthetic", "title": self.dataset.title, "used": self.dataset.synthetic,
                     "preset": preset}
        if self.note:
            entry["note"] = self.note
        return entry


def resolve_data(data_root: Path | None) -> list[DataChoice]:
    """One `DataChoice` per `REAL_DATASETS` entry: real where its folder is complete under ``data_root``."""
    if data_root is None:
        return [DataChoice(d, None) for d in REAL_DATASETS]
    data_root = Path(data_root).expanduser()
    if not data_root.is_dir():
        raise DatasetError(f"DATA_ROOT {data_root} is not a folder (fill it with `amd download`)")
    data_root = data_root.resolve()
    choices = []
    for dataset in REAL_DATASETS:
        folder = data_root / _resource_folder(dataset.resource)
        if dataset.inner:
            folder = folder / dataset.inner
        if not folder.is_dir():
            choices.append(DataChoice(dataset, None))
            continue
        missing = [r for r in dataset.required if not (folder / r).exists()]
        problem = dataset.problem(folder) if dataset.problem else None
        if missing or problem:
            note = (problem or f"{folder} lacks {', '.join(missing)}") + (f": {dataset.hint}" if dataset.hint else "")
            choices.append(DataChoice(dataset, None, note))
        else:
            choices.append(DataChoice(dataset, folder))
    return choices


def data_summary(choices: Sequence[DataChoice]) -> str:
    """One line: which real datasets were found, which stay synthetic, which are left out."""
    real = [f"{c.dataset.name} ({c.path})" for c in choices if c.is_real]
    synthetic = [c.dataset.name + (f" [{c.note}]" if c.note else "") for c in choices
                 if not c.is_real and c.dataset.name != "segtrackv2"]
    left_out = [c.dataset.name + (f" [{c.note}]" if c.note else "") for c in choices
                if not c.is_real and c.dataset.name == "segtrackv2"]
    parts = [f"real: {', '.join(real) if real else 'none'}", f"synthetic: {', '.join(synthetic) or 'none'}"]
    if left_out:
        parts.append(f"left out: {', '.join(left_out)}")
    return "data: " + "; ".join(parts)
