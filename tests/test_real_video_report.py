"""amdlib.reports.real_video and the real-video line of amdlib.reports.headline, on hand-made rows."""

from __future__ import annotations

import pandas as pd
import pytest

from amdlib.reports.headline import headline_lines
from amdlib.reports.real_video import over_seeds, tta_effect

TTA = "AMD + TTA (100 it)"


def rows() -> list[dict]:
    """Two seeds, two sequences; J values chosen so the means are easy to check by hand."""
    j = {("AMD", 0, "a"): 0.1, ("AMD", 0, "b"): 0.3, ("AMD", 1, "a"): 0.2, ("AMD", 1, "b"): 0.2,
         (TTA, 0, "a"): 0.4, (TTA, 0, "b"): 0.2, (TTA, 1, "a"): 0.6, (TTA, 1, "b"): 0.1}
    out = [{"set": "real", "method": m, "channel rule": "motion_contrast_video", "sequence": s, "j_mean": v,
            "seed": seed} for (m, seed, s), v in j.items()]
    out += [{"set": "real", "method": m, "channel rule": "smallest_area_video", "sequence": s, "j_mean": 0.9,
             "seed": seed} for (m, seed, s) in j]  # a rule the table leaves out
    out += [{"set": "real", "method": "centre prior (r=0.30)", "channel rule": "-", "sequence": s, "j_mean": v,
             "seed": seed} for seed in (0, 1) for s, v in (("a", 0.25), ("b", 0.35))]
    return out


def test_over_seeds_averages_each_sequence_and_gives_the_range_of_the_seeds_means():
    table = over_seeds(rows()).set_index(["method", "channel rule"])
    amd = table.loc[("AMD", "motion_contrast_video")]
    assert amd["a"] == pytest.approx(0.15) and amd["b"] == pytest.approx(0.25)
    assert amd["J mean"] == pytest.approx(0.2)
    assert (amd["J min"], amd["J max"]) == (pytest.approx(0.2), pytest.approx(0.2))  # both seeds average 0.2
    tta = table.loc[(TTA, "motion_contrast_video")]
    assert tta["J mean"] == pytest.approx(0.325)
    assert (tta["J min"], tta["J max"]) == (pytest.approx(0.3), pytest.approx(0.35))
    assert table.loc[("centre prior (r=0.30)", "-"), "J mean"] == pytest.approx(0.3)
    assert "smallest_area_video" not in table.index.get_level_values("channel rule")
    assert set(table["seeds"]) == {2}


def test_tta_effect_counts_the_seeds_where_adaptation_kept_or_raised_j():
    effect = tta_effect(rows(), "AMD", TTA).set_index("sequence")
    assert effect.loc["a", "difference"] == pytest.approx(0.5 - 0.15)
    assert effect.loc["a", "TTA >= AMD (seeds)"] == 2
    assert effect.loc["b", "difference"] == pytest.approx(0.15 - 0.25)
    assert effect.loc["b", "TTA >= AMD (seeds)"] == 0


def test_the_headline_shows_the_real_video_table_with_its_seed_range(tmp_path):
    table = over_seeds(rows())
    table["trained on"] = "15 real clips"
    table["scored on"] = "5 real DAVIS-layout sequences"
    (tmp_path / "tables").mkdir()
    table.to_csv(tmp_path / "tables" / "06_real_video.csv", index=False)
    lines = headline_lines(tmp_path)
    assert lines[2] == ("| zero-shot VOS (J, label-free channel), AMD trained on 15 real clips, 5 real DAVIS-layout "
                        "sequences, 2 seeds | 0.200 (0.200-0.200); + TTA 0.325 (0.300-0.350) | motion baseline -; "
                        "centre prior 0.300 |")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "tables" / "06_real_video.csv"), table,
                                  check_dtype=False)
