"""The paper's headline numbers, as data, with where they come from.

From the paper (docs/method.md section 7): Liu, Wu, Yu, Lin, "The Emergence of Objectness:
Learning Zero-Shot Segmentation from Videos", NeurIPS 2021. Nothing here is measured by this
repository, and nothing is added that the paper does not give: where it states no number (DUTS
saliency), `value` is None and `paper` holds its words. Video and VOC numbers are percentages
(J mean x 100, mIoU x 100).

`amdlib.reports.builder` puts these beside this repository's headline values
(`amdlib.reports.summary`) in `results/README.md`; this repository's tables and summaries hold
fractions in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

SOURCE = ("Liu, Wu, Yu, Lin, \"The Emergence of Objectness: Learning Zero-Shot Segmentation from "
          "Videos\", NeurIPS 2021 (docs/method.md section 7)")
"""Where every number of `PAPER_RESULTS` comes from."""

PAPER_SETUP = "real data, ResNet-50, GPU"
"""How the paper's numbers were obtained (docs/method.md sections 2, 5 and 7): the column heading."""


@dataclass(frozen=True)
class PaperResult:
    """One headline result of the paper."""

    key: str
    """Stable identifier, used to match this repository's measurement."""
    task: str
    metric: str
    paper: str
    """The paper's result as the paper (docs/method.md section 7) states it (text, so that
    nothing is rounded)."""
    value: float | None
    """The headline number (percent where a J or mIoU), or None where the paper gives none."""
    comparison: str
    """What the paper (docs/method.md section 7) lists beside it ("-" for nothing)."""
    dataset: str
    """The real dataset the number is measured on (an `amdlib.io.download` resource name; "" where
    the paper does not say)."""
    source: str = SOURCE


PAPER_RESULTS: tuple[PaperResult, ...] = (
    PaperResult(
        "davis2016_j", "zero-shot video object segmentation, DAVIS-16",
        "J mean (with test-time adaptation)", "57.8", 57.8,
        "CIS 59.2 (71.5 with post-processing); Motion Grouping 68.3 (uses RAFT optical flow)",
        "davis2016"),
    PaperResult(
        "segtrackv2_j", "zero-shot video object segmentation, SegTrackv2",
        "J mean (with test-time adaptation)", "57.0", 57.0,
        "CIS 45.6 (62.0 with post-processing); Motion Grouping 58.6 (uses RAFT optical flow)",
        "segtrackv2"),
    PaperResult(
        "fbms59_j", "zero-shot video object segmentation, FBMS-59",
        "J mean (with test-time adaptation)", "47.5", 47.5,
        "CIS 36.8 (63.5 with post-processing); Motion Grouping 53.1 (uses RAFT optical flow)",
        "fbms59"),
    PaperResult(
        "voc2012_miou", "semantic segmentation, VOC 2012, after fine-tuning", "mIoU",
        "62.0 (62.1 with heavy augmentation)", 62.0,
        "MoCo-v2 on the same videos 61.5 (62.8); TimeCycle about 52.8", "voc2012"),
    PaperResult(
        "duts_saliency", "zero-shot saliency, DUTS", "max F and MAE",
        "beats the low-level-cue baselines on max F and MAE", None, "-", "duts_te"),
    PaperResult(
        "masks_c", "number of masks c", "J per c over seeds, against the default's spread",
        "5 was best in the sweep", 5.0, "-", ""),
)
"""Every headline result of the paper (docs/method.md section 7), in its order."""


def paper_result(key: str) -> PaperResult:
    """The entry of `PAPER_RESULTS` with this key (KeyError if there is none)."""
    for result in PAPER_RESULTS:
        if result.key == key:
            return result
    raise KeyError(key)
