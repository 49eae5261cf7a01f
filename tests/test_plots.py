"""Figures: which curves each one draws (the pixels themselves are looked at in results/)."""

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402

from amdlib.plots import j_versus_time  # noqa: E402


def _labels(figure):
    return [line.get_label() for line in figure.axes[0].get_lines()]


def test_j_versus_time_draws_the_raw_weights_only_for_a_weight_averaged_run():
    evaluations = pd.DataFrame({"train_seconds": [60.0, 120.0], "J_best_channel": [0.2, 0.4],
                                "J_smallest_area_video": [0.1, 0.3], "J_centre_prior": [0.3, 0.3]})
    plain = _labels(j_versus_time(evaluations))
    assert plain == ["best fixed channel", "label-free: smallest area per video", "centre prior"]
    averaged = j_versus_time(evaluations.assign(J_best_channel_raw_weights=[0.25, 0.35]))
    raw = [line for line in averaged.axes[0].get_lines() if "raw weights" in line.get_label()]
    assert len(raw) == 1 and list(raw[0].get_ydata()) == [0.25, 0.35]
    assert list(raw[0].get_xdata()) == [1.0, 2.0]  # minutes
