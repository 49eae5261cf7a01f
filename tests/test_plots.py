"""Figures: which curves each one draws (the pixels themselves are looked at in results/)."""

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import torch  # noqa: E402

from amdlib.reports.figures import j_versus_time, middle_frame_pairs  # noqa: E402


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


class _Video:
    """T frames whose pixels all equal their index, masks marking the frame index too."""

    def __init__(self, frames):
        self.count = frames

    def __len__(self):
        return self.count

    def frame(self, t):
        return torch.full((3, 8, 8), float(t))

    def mask(self, t):
        return torch.full((8, 8), t % 2 == 1)


def test_middle_frame_pairs_take_the_middle_frame_and_its_successor():
    frames, truths = middle_frame_pairs([_Video(5), _Video(7), _Video(3)], count=2, size=(4, 4))
    assert frames.shape == (2, 2, 3, 4, 4) and truths.shape == (2, 4, 4)
    assert frames[0, 0].unique().tolist() == [2.0] and frames[0, 1].unique().tolist() == [3.0]
    assert frames[1, 0].unique().tolist() == [3.0] and frames[1, 1].unique().tolist() == [4.0]
    assert truths[0].unique().tolist() == [0.0] and truths[1].unique().tolist() == [1.0]


def _predict_on(device: str):
    from amdlib import AMD, AMDConfig
    from amdlib.reports.figures import predict_pairs

    torch.manual_seed(0)
    model = AMD(AMDConfig.profile("smoke")).to(device)
    frames = torch.rand(2, 2, 3, 32, 32)  # on the CPU, as middle_frame_pairs makes them
    return predict_pairs(model, frames)


def test_predict_pairs_returns_frame_1s_masks_and_forward_flow_on_the_cpu():
    masks, flow = _predict_on("cpu")
    from amdlib import AMDConfig

    assert masks.shape == (2, 2, 8, 8)  # c = 2 at the small net's 1/4 of the 32x32 frames
    assert flow.shape == (2, 2, *AMDConfig.profile("smoke").flow_size)  # the flow input size
    assert masks.device.type == flow.device.type == "cpu"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_predict_pairs_with_a_model_on_cuda_matches_the_cpu():
    """emergence.py draws its figures after training on CUDA, with frames made on the CPU."""
    (masks, flow), (cpu_masks, cpu_flow) = _predict_on("cuda"), _predict_on("cpu")
    assert masks.device.type == "cpu"
    assert torch.allclose(masks, cpu_masks, atol=1e-4) and torch.allclose(flow, cpu_flow, atol=1e-3)


def test_vos_strip_draws_every_prediction_on_one_fixed_scale_with_its_j():
    """An empty prediction stays black (clim 0-1, not stretched to its own range), every
    prediction panel's title holds its J, and the figure has a colour bar."""
    from amdlib.reports.figures import vos_strip

    truth = torch.zeros(8, 8, dtype=torch.bool)
    truth[2:6, 2:6] = True  # 16 pixels
    half = torch.zeros(8, 8)
    half[2:6, 2:4] = 0.9  # 8 of the 16: J = 0.5
    empty = torch.zeros(8, 8)
    faint = torch.full((8, 8), 0.3)  # everywhere below 0.5: J = 0
    frames = [torch.rand(3, 8, 8) for _ in range(3)]
    figure = vos_strip(frames, [truth] * 3, [half, empty, faint], ["a t=0", "b t=1", "c t=2"], columns=3)
    panels = [axis for axis in figure.axes if axis.images and axis.get_title().startswith("J=")]
    assert [axis.get_title() for axis in panels] == ["J=0.50", "J=0.00", "J=0.00"]
    assert all(axis.images[0].get_clim() == (0.0, 1.0) for axis in panels)
    assert [axis.get_title() for axis in figure.axes[:3]] == ["a t=0", "b t=1", "c t=2"]
    assert any(axis.get_label() == "<colorbar>" for axis in figure.axes)
