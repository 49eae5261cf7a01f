"""Seed spreads of committed runs and the table that sets a run beside them (amdlib.reports.seed_runs)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from amdlib.data.io import DatasetError
from amdlib.reports.seed_runs import (CEILING, SEED_RUN_COLUMNS, against_references, against_the_default,
                                      j_versus_time_with_references, read_eval_csv, read_seed_runs, seed_run_rows,
                                      seed_spread, spread_over_seeds, spread_verdict)
from amdlib.reports.tables import to_markdown

REPOSITORY = Path(__file__).resolve().parents[1]


def _run(folder: Path, rows: list[tuple[int, float, float]], time_column: str = "train_seconds") -> Path:
    folder.mkdir(parents=True)
    scale = 60.0 if time_column == "train_seconds" else 1.0
    pd.DataFrame([{"iteration": i, time_column: minutes * scale, "J_best_channel": j, "J_motion_contrast_video": j - 0.01}
                  for i, minutes, j in rows]).to_csv(folder / "eval.csv", index=False)
    return folder


def test_seconds_and_minutes_columns_both_read_as_minutes(tmp_path):
    seconds = read_eval_csv(_run(tmp_path / "a", [(10, 2.0, 0.5)], "train_seconds"))
    minutes = read_eval_csv(_run(tmp_path / "b", [(10, 2.0, 0.5)], "train_minutes"))
    assert seconds["train_minutes"].tolist() == pytest.approx([2.0]) == minutes["train_minutes"].tolist()


def test_a_missing_or_timeless_eval_csv_is_named(tmp_path):
    with pytest.raises(DatasetError, match="nowhere.*eval.csv"):
        read_eval_csv(tmp_path / "nowhere")
    (tmp_path / "bad").mkdir()
    pd.DataFrame({"iteration": [1], "J_best_channel": [0.1]}).to_csv(tmp_path / "bad" / "eval.csv", index=False)
    with pytest.raises(DatasetError, match="bad.*train_seconds"):
        read_eval_csv(tmp_path / "bad")


def test_spread_matches_kth_evaluations_up_to_the_shortest_run(tmp_path):
    runs = [read_eval_csv(_run(tmp_path / "s0", [(1000, 10.0, 0.4), (1700, 20.0, 0.6)])),
            read_eval_csv(_run(tmp_path / "s1", [(1000, 12.0, 0.5), (1500, 20.0, 0.5), (1600, 21.0, 0.9)]))]
    spread = seed_spread(runs)
    assert len(spread) == 2  # the third row exists in one run only
    final = spread.iloc[-1]
    assert (final["iterations"], final["train_minutes"]) == (1600.0, 20.0)  # means of 1700 / 1500 and 20 / 20
    assert (final["J_mean"], final["J_min"], final["J_max"]) == pytest.approx((0.55, 0.5, 0.6))
    assert spread.iloc[0]["J_mean"] == pytest.approx(0.45) and final["seeds"] == 2
    with pytest.raises(ValueError):
        seed_spread([])


def test_against_references_divides_by_the_ceiling(tmp_path):
    references = {"AMD": [read_eval_csv(_run(tmp_path / "a0", [(1, 20.0, 0.5)])),
                          read_eval_csv(_run(tmp_path / "a1", [(1, 20.0, 0.7)]))],
                  CEILING: [read_eval_csv(_run(tmp_path / "c0", [(1, 20.0, 0.8)]))]}
    own = {"label": "this run", "train_minutes": 20.0, "J_best_channel": 0.4, "J_motion_contrast_video": 0.39}
    table = against_references(own, references, {"centre prior": 0.32}).set_index("method")
    assert table.loc["AMD", "J_mean"] == pytest.approx(0.6) and table.loc["AMD", "of_ceiling"] == pytest.approx(0.75)
    assert table.loc["AMD", "J_label_free"] == pytest.approx(0.59)
    assert table.loc["this run", "of_ceiling"] == pytest.approx(0.5)
    assert table.loc["centre prior", "of_ceiling"] == pytest.approx(0.4)
    assert "of_ceiling" not in against_references(own, {}, {"centre prior": 0.32})  # no ceiling, no ratio
    assert against_references(None, references, {})["method"].tolist() == ["AMD", CEILING]
    markdown = to_markdown(table.reset_index()[["method", "seeds", "J_label_free"]])
    assert "| AMD | 2 | 0.590 |" in markdown and "| centre prior | - | 0.320 |" in markdown
    figure = j_versus_time_with_references(pd.DataFrame({"train_minutes": [20.0], "J": [0.4]}), "this run",
                                           {label: seed_spread(runs) for label, runs in references.items()},
                                           {"centre prior": 0.32})
    assert len(figure.axes[0].lines) == 4  # two references, this run, one level


def test_a_profile_without_a_committed_table_has_no_runs(tmp_path):
    runs = read_seed_runs(tmp_path / "smoke.csv")
    assert (runs.references, runs.ablations, runs.default, runs.default_runs) == ({}, {}, None, [])
    assert read_seed_runs(None).references == {}


def test_the_committed_table_round_trips_runs_by_group_and_kind(tmp_path):
    """Rows written with `seed_run_rows` read back as the same runs, grouped by kind; a note is
    kept per group; a malformed table is named."""
    a0 = read_eval_csv(_run(tmp_path / "a0", [(1000, 10.0, 0.4), (1611, 20.0, 0.6)]))
    a1 = read_eval_csv(_run(tmp_path / "a1", [(1000, 10.0, 0.5), (1611, 20.0, 0.7)]))
    c0 = read_eval_csv(_run(tmp_path / "c0", [(1611, 20.0, 0.8)]))
    d0 = read_eval_csv(_run(tmp_path / "d0", [(587, 5.0, 0.1)]))
    table = pd.concat([seed_run_rows("AMD", "default", "a_s0", 0, a0), seed_run_rows("AMD", "default", "a_s1", 1, a1),
                       seed_run_rows(CEILING, "reference", "c_s0", 0, c0),
                       seed_run_rows("flow/dense", "ablation", "d_s0", 0, d0, "shorter: no gradient")])
    assert tuple(table.columns) == SEED_RUN_COLUMNS
    path = tmp_path / "cpu.csv"
    table.to_csv(path, index=False)
    runs = read_seed_runs(path)
    assert runs.default == "AMD" and list(runs.references) == ["AMD", CEILING] and list(runs.ablations) == ["flow/dense"]
    assert [r["J_best_channel"].tolist() for r in runs.default_runs] == [[0.4, 0.6], [0.5, 0.7]]
    assert runs.notes == {"flow/dense": "shorter: no gradient"}
    assert seed_spread(runs.default_runs).iloc[-1]["J_mean"] == pytest.approx(0.65)
    table.drop(columns=["kind"]).to_csv(path, index=False)
    with pytest.raises(DatasetError, match="cpu.csv.*kind"):
        read_seed_runs(path)


COMMITTED = REPOSITORY / "results" / "reference_runs" / "cpu.csv"


@pytest.mark.skipif(not COMMITTED.is_file(), reason="a checkout without the committed seed runs")
def test_the_committed_reference_runs_read_and_are_the_cpu_profiles_budget():
    """The default and the ceiling: three seeds each, stopped at about the cpu profile's budget."""
    runs = read_seed_runs(COMMITTED)
    assert runs.default == "AMD, profile cpu" and CEILING in runs.references
    for label, seeds in runs.references.items():
        assert len(seeds) == 3, label
        final = seed_spread(seeds).iloc[-1]
        assert 18.0 <= final["train_minutes"] <= 20.5, label  # each stopped by the 20-minute budget (or 3,000 steps)
        assert final["J_min"] <= final["J_mean"] <= final["J_max"]


def test_variants_are_judged_against_the_defaults_seed_range(tmp_path):
    """Default seeds end at 0.5 and 0.6: a variant whose range lies above or below that range
    differs beyond the spread, one that overlaps it does not, one seed gets no verdict."""
    def runs(name: str, values: list[float]) -> list[pd.DataFrame]:
        return [read_eval_csv(_run(tmp_path / f"{name}{k}", [(500, 5.0, 0.1), (1000, 20.0, j)]))
                for k, j in enumerate(values)]

    default = runs("default", [0.5, 0.6])
    committed = {"m/up": runs("up", [0.65, 0.7]), "m/overlap": runs("overlap", [0.55, 0.9]),
                 "m/down": runs("down", [0.2, 0.45, 0.3]), "m/lone": runs("lone", [0.9])}
    variants = [("m", "base", True), ("m", "up", False), ("m", "overlap", False), ("m", "down", False),
                ("m", "lone", False), ("m", "absent", False)]
    table = against_the_default(variants, default, committed).set_index("variant")
    assert table["verdict"].to_dict() == {
        "base (default)": "the default", "up": "higher beyond the spread", "overlap": "within the spread",
        "down": "lower beyond the spread", "lone": "one seed: no verdict", "absent": "not run"}
    assert (table.loc["down", "seeds"], table.loc["absent", "seeds"]) == (3, 0)
    down = table.loc["down"]
    assert (down["J_mean"], down["J_min"], down["J_max"]) == pytest.approx((0.95 / 3, 0.2, 0.45))
    assert down["J_label_free"] == pytest.approx(0.95 / 3 - 0.01) and down["train_minutes"] == pytest.approx(20.0)
    assert table.loc["base (default)", "J_mean"] == pytest.approx(0.55)


@pytest.mark.skipif(not COMMITTED.is_file(), reason="a checkout without the committed seed runs")
def test_committed_ablation_runs_name_trainable_variants_of_their_profile():
    from amdlib.ablations import variant_names
    from amdlib.config import profile

    runs = read_seed_runs(COMMITTED)
    trainable = {f"{family}/{name}" for family, name, is_default in variant_names(profile("cpu"))
                 if not is_default and family != "tta"}
    assert runs.ablations and set(runs.ablations) <= trainable
    assert all(len(seeds) in (2, 3) for seeds in runs.ablations.values())


def test_a_shorter_budget_is_stated_in_the_table(tmp_path):
    default = [read_eval_csv(_run(tmp_path / f"d{k}", [(1611, 20.0, j)])) for k, j in enumerate([0.5, 0.6])]
    dense = [read_eval_csv(_run(tmp_path / f"n{k}", [(587, 5.0, j)])) for k, j in enumerate([0.1, 0.2])]
    table = against_the_default([("f", "segment", True), ("f", "dense", False)], default, {"f/dense": dense},
                                {"f/dense": "5 min: no gradient"}).set_index("variant")
    assert table.loc["dense", "budget"] == "5 min: no gradient" and table.loc["segment (default)", "budget"] == ""
    assert table.loc["dense", "iterations"] == 587
    assert "| 587 |" in to_markdown(table.reset_index()[["variant", "iterations"]])  # a count, not 587.000


def test_spread_over_seeds_and_the_verdict_against_a_reference_range():
    rows = pd.DataFrame({"backbone": ["a", "b", "a", "b", "a", "b"], "seed": [0, 0, 1, 1, 2, 2],
                         "mIoU": [0.20, 0.30, 0.26, 0.31, 0.23, 0.29]})
    table = spread_over_seeds(rows, "backbone", ["mIoU"]).set_index("backbone")
    assert table.loc["a", "seeds"] == 3
    assert (table.loc["a", "mIoU"], table.loc["a", "mIoU min"], table.loc["a", "mIoU max"]) == \
        pytest.approx((0.23, 0.20, 0.26))
    assert spread_verdict(0.20, 0.26, 0.29, 0.31, 3) == "lower beyond the spread"
    assert spread_verdict(0.32, 0.40, 0.29, 0.31, 3) == "higher beyond the spread"
    assert spread_verdict(0.20, 0.30, 0.29, 0.31, 3) == "within the spread"  # touching ranges overlap
    assert spread_verdict(0.9, 0.9, 0.1, 0.1, 1) == "one seed: no verdict"
