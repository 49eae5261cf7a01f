import pytest

from amdlib.config import PROFILES, AMDConfig


def test_defaults_are_the_release():
    config = AMDConfig()
    assert (config.backbone, config.num_masks, config.flow_size, config.search_range) == ("resnet50", 5, (384, 640), 4)
    assert config.level_strides == [64, 32, 16, 8, 4]
    assert (config.l1_weight, config.ssim_weight, config.occlusion_threshold) == (0.15, 0.85, 0.2)
    assert config.scale_weights == (1.0, 1.0, 1.0, 1.0, 0.0)
    assert config.smooth_weight == 0.0 and not config.normalized_correlation
    assert AMDConfig.profile("paper") == config


def test_profiles_exist_and_round_trip_through_dicts():
    for name in ("smoke", "cpu", "paper"):
        config = AMDConfig.profile(name)
        assert AMDConfig.from_dict(config.to_dict()) == config
    assert set(PROFILES) == {"smoke", "cpu", "paper"}


def test_lists_from_json_become_tuples():
    config = AMDConfig.from_dict({**AMDConfig().to_dict(), "flow_size": [96, 160]})
    assert config.flow_size == (96, 160) and hash(config)


@pytest.mark.parametrize("change", [{"backbone": "vgg"}, {"num_masks": 0}, {"coarsest_stride": 48},
                                    {"finest_stride": 128}, {"coarsest_stride": 8, "finest_stride": 16},
                                    {"flow_size": (0, 10)}])
def test_invalid_values_are_rejected(change):
    with pytest.raises(ValueError):
        AMDConfig(**change)


def test_unknown_profile_and_fields_name_the_problem():
    with pytest.raises(ValueError, match="gpu"):
        AMDConfig.profile("gpu")
    with pytest.raises(ValueError, match="colour"):
        AMDConfig.from_dict({"colour": 1})


def test_coarsest_stride_sets_the_levels():
    assert AMDConfig(coarsest_stride=16).level_strides == [16, 8, 4]


def test_one_profile_table_binds_every_per_profile_value():
    from amdlib.config import TrainConfig, profile

    for name in PROFILES:
        chosen = profile(name)
        assert chosen.name == name
        assert AMDConfig.profile(name) == chosen.model and TrainConfig.profile(name) == chosen.train
        assert chosen.task_size == chosen.train.crop_size  # TTA and fine-tuning train at the crop
    # The values the notebooks used to compute inline, each in one place now:
    assert (profile("smoke").tta_iterations, profile("cpu").tta_iterations, profile("paper").tta_iterations) == (2, 100, 200)
    assert (profile("smoke").finetune_iterations, profile("cpu").finetune_iterations,
            profile("paper").finetune_iterations) == (2, 300, 2000)
    assert (profile("smoke").finetune_seeds, profile("cpu").finetune_seeds, profile("paper").finetune_seeds) == (2, 3, 3)
    assert (profile("smoke").data, profile("cpu").data, profile("paper").data) == ("smoke", "cpu", "cpu")
    assert (profile("smoke").val_videos, profile("cpu").val_videos) == (4, 50)
    # Budgets are iterations; the time guard only stops a run that would take far longer.
    assert (profile("smoke").train.iterations, profile("cpu").train.iterations) == (4, 1611)
    assert profile("cpu").time_guard_minutes == 60.0 and profile("paper").time_guard_minutes == 24 * 60.0
    assert profile("paper").real_data and not profile("cpu").real_data
    assert profile("cpu").eval_size == (128, 128) and profile("paper").eval_size == profile("paper").train.crop_size
    assert TrainConfig.profile("cpu", lr=1e-3).lr == 1e-3 and profile("cpu").train.lr == 3e-4
    with pytest.raises(ValueError, match="choose from"):
        profile("gpu")


def test_retired_options_load_while_off_and_are_named_when_on():
    from amdlib.config import RETIRED_MODEL_OPTIONS

    stored = {**AMDConfig.profile("cpu").to_dict(), **RETIRED_MODEL_OPTIONS}  # an older checkpoint's config
    assert AMDConfig.from_dict(stored) == AMDConfig.profile("cpu")
    with pytest.raises(ValueError, match="head_context"):
        AMDConfig.from_dict({**stored, "head_context": True})


@pytest.mark.parametrize("change, message", [
    ({"lr": -1e-4}, "lr must be a finite number > 0, got -0.0001"),
    ({"lr": float("nan")}, "lr must be a finite number > 0, got nan"),
    ({"lr": 0.0}, "lr must be a finite number > 0"),
    ({"min_lr": float("inf")}, "min_lr must be a finite number >= 0, got inf"),
    ({"weight_decay": -1.0}, "weight_decay must be a finite number >= 0"),
    ({"poly_power": float("nan")}, "poly_power must be a finite number >= 0"),
    ({"crop_size": (0, 0)}, r"crop_size must be \(height, width\) of positive integers, got \(0, 0\)"),
    ({"crop_size": (64.5, 64)}, "crop_size must be"),
    ({"crop_size": (64,)}, "crop_size must be"),
    ({"frame_gap": 0}, "frame_gap must be an integer >= 1, got 0"),
    ({"short_side": 0}, "short_side must be an integer >= 1"),
    ({"scale_min": 0.0}, r"scale_min must be in \(0, 1\], got 0.0"),
    ({"scale_min": 1.5}, r"scale_min must be in \(0, 1\]"),
    ({"batch_size": 2.5}, "batch_size must be an integer >= 1, got 2.5"),
    ({"iterations": True}, "iterations must be an integer"),
    ({"num_workers": -1}, "num_workers must be an integer >= 0"),
    ({"eval_every": 1.0}, "eval_every must be an integer >= 0"),
    ({"ema_decay": float("nan")}, r"ema_decay must be in \[0, 1\)"),
])
def test_invalid_train_settings_are_rejected_with_their_name(change, message):
    from amdlib.config import TrainConfig

    with pytest.raises(ValueError, match=message):
        TrainConfig(**change)


def test_valid_train_settings_and_every_profile_pass():
    import numpy as np

    from amdlib.config import TrainConfig, profile

    assert TrainConfig(batch_size=np.int64(4), crop_size=[32, 48], lr=1, poly_power=0).crop_size == (32, 48)
    for name in PROFILES:
        assert profile(name).train == TrainConfig(**profile(name).train.to_dict())


@pytest.mark.parametrize("value", [2.5, 2.0, True, "2"])
def test_num_masks_must_be_an_integer(value):
    with pytest.raises(ValueError, match="num_masks must be an integer >= 1"):
        AMDConfig(num_masks=value)
