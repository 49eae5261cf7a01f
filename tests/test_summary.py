"""amdlib.reports.summary: the headline values each notebook writes, picked from hand-made rows."""

import json

import pytest

from amdlib.reports.summary import (Headline, masks_headline, read_summaries, saliency_headline, semantic_headline,
                                    summary_path, vos_headlines, write_summary)


def _vos_row(set_name, method, rule, j, f=0.5):
    return {"set": set_name, "method": method, "channel rule": rule, "J (DAVIS mean)": j, "J (frame mean)": j,
            "F (DAVIS mean)": f}


def test_vos_headlines_pick_the_named_method_and_rule_on_each_paper_set():
    rows = [_vos_row("synthetic DAVIS", "AMD", "motion_contrast_video", 0.30),
            _vos_row("synthetic DAVIS", "AMD + TTA (100 it)", "best_fixed", 0.60),
            _vos_row("synthetic DAVIS", "AMD + TTA (100 it)", "motion_contrast_video", 0.41, f=0.2),
            _vos_row("synthetic FBMS", "AMD + TTA (100 it)", "motion_contrast_video", 0.22),
            _vos_row("synthetic FBMS", "AMD + TTA (1 it)", "motion_contrast_video", 0.99)]
    paper_sets = {"synthetic DAVIS": ("davis2016_j", "davis2016"), "synthetic FBMS": ("fbms59_j", "fbms59"),
                  "SegTrackv2": ("segtrackv2_j", "segtrackv2")}
    found = {h.key: h for h in vos_headlines(rows, "AMD + TTA (100 it)", "motion_contrast_video", paper_sets)}
    assert set(found) == {"davis2016_j", "fbms59_j"}  # no SegTrackv2 rows: no headline
    assert found["davis2016_j"].value == 0.41 and found["davis2016_j"].details == {"F (DAVIS mean)": 0.2}
    assert found["fbms59_j"].value == 0.22 and found["fbms59_j"].datasets == ("fbms59",)
    assert found["davis2016_j"].set_name == "synthetic DAVIS"


def test_saliency_semantic_and_masks_headlines():
    rows = [{"method": "AMD, fixed", "max_f": 0.9, "mae": 0.1}, {"method": "AMD, smallest_area", "max_f": 0.5, "mae": 0.25},
            {"method": "centre prior", "max_f": 0.4, "mae": 0.3}]
    saliency = saliency_headline(rows, "AMD, smallest_area", ["centre prior"], "synthetic DUTS")
    assert saliency.value is None and "max F 0.500, MAE 0.250" in saliency.text and "centre prior: max F 0.400" in saliency.text
    assert saliency.details["centre prior"] == {"max_f": 0.4, "mae": 0.3}

    semantic = semantic_headline([{"backbone": "AMD full", "mIoU": 0.25}, {"backbone": "random full", "mIoU": 0.2}],
                                 "AMD full", "random full")
    assert semantic.value == 0.25 and semantic.details == {"random full": 0.2} and "20.0" in semantic.text
    seeded = semantic_headline(
        [{"backbone": "AMD full", "seeds": 3, "mIoU": 0.25, "mIoU min": 0.24, "mIoU max": 0.26},
         {"backbone": "random full", "seeds": 3, "mIoU": 0.27, "mIoU min": 0.265, "mIoU max": 0.28}],
        "AMD full", "random full")
    assert seeded.value == 0.25 and seeded.details["verdict"] == "lower beyond the spread"
    assert seeded.text == ("AMD full, mIoU mean of 3 seeds (24.0-26.0); random full: 27.0 (26.5-28.0): "
                           "lower beyond the spread")

    import pandas as pd

    spread = pd.DataFrame([
        {"family": "masks", "variant": "c=1", "seeds": 0, "J_mean": None, "J_min": None, "J_max": None, "verdict": "not run"},
        {"family": "masks", "variant": "c=2 (default)", "seeds": 3, "J_mean": 0.55, "J_min": 0.51, "J_max": 0.60,
         "verdict": "the default"},
        {"family": "masks", "variant": "c=3", "seeds": 2, "J_mean": 0.50, "J_min": 0.47, "J_max": 0.53,
         "verdict": "within the spread"},
        {"family": "flow", "variant": "dense", "seeds": 3, "J_mean": 0.14, "J_min": 0.13, "J_max": 0.15,
         "verdict": "lower beyond the spread"}])
    masks = masks_headline(spread)
    assert masks.text.startswith("c=2 (default): J 0.550 (0.510-0.600, 3 seeds); c=3: J 0.500 (0.470-0.530, 2 seeds), "
                                 "within the spread")
    assert set(masks.details) == {"c=2 (default)", "c=3"}  # c = 1 has no runs; flow is another family
    assert masks.text.endswith("; other c not run yet")
    every_c = spread[spread["variant"] != "c=1"]
    assert masks_headline(every_c).text.endswith("within the spread")  # no c left to run: no such note
    assert masks_headline(spread[spread["variant"] != "c=3"]) is None  # the default alone ranks nothing


def test_summaries_round_trip_and_bad_files_are_skipped(tmp_path):
    headline = Headline("davis2016_j", 0.41, "AMD + TTA", "synthetic DAVIS", ("davis2016",), {"F (DAVIS mean)": 0.2})
    write_summary(tmp_path, "03_zero_shot_vos", [headline])
    write_summary(tmp_path, "04_semantic_finetune", [Headline("voc2012_miou", 0.2, "AMD init", "", ("voc2012",))])
    (tmp_path / "summaries" / "05_ablations.json").write_text("{not json")
    (tmp_path / "summaries" / "06_other.json").write_text(json.dumps({"version": 99, "headlines": []}))
    found = read_summaries(tmp_path)
    assert found == {"davis2016_j": headline, "voc2012_miou": found["voc2012_miou"]}
    assert found["voc2012_miou"].value == 0.2
    assert json.loads(summary_path(tmp_path, "03_zero_shot_vos").read_text())["notebook"] == "03_zero_shot_vos"
    assert read_summaries(tmp_path / "nowhere") == {}


def test_a_summary_of_an_unknown_shape_is_skipped(tmp_path):
    (tmp_path / "summaries").mkdir()
    (tmp_path / "summaries" / "02.json").write_text(json.dumps({"version": 1, "headlines": [{"key": "x", "oops": 1}]}))
    assert read_summaries(tmp_path) == {}


@pytest.mark.parametrize("missing", ["AMD, nope"])
def test_saliency_headline_names_a_missing_method(missing):
    with pytest.raises(KeyError, match="nope"):
        saliency_headline([{"method": "AMD, fixed", "max_f": 0.9, "mae": 0.1}], missing, [], "")
