"""Loading amdlib's own checkpoints and the authors' released one."""

import json

import pytest
import torch
import torchvision

from amdlib import AMD, AMDConfig, load_checkpoint, save_checkpoint
from amdlib.io.checkpoint import CheckpointError


def release_names_and_shapes(num_masks=5):
    """The release's tensor names, written out from its model definition (independently of
    amdlib's mapping): torchvision ResNet-50 names under backbone2, MMSeg FCNHead ConvModules under
    decode_head2, ARFlow's PWC-Lite under decode_head.flownet."""
    shapes = {}
    for name, tensor in torchvision.models.resnet50().state_dict().items():
        if not name.startswith("fc."):
            shapes["backbone2." + name] = tuple(tensor.shape)
    for i, c_in in enumerate((2048, 256)):
        shapes[f"decode_head2.convs.{i}.conv.weight"] = (256, c_in, 3, 3)
        for part in ("weight", "bias", "running_mean", "running_var"):
            shapes[f"decode_head2.convs.{i}.bn.{part}"] = (256,)
        shapes[f"decode_head2.convs.{i}.bn.num_batches_tracked"] = ()
    shapes["decode_head2.conv_seg.weight"] = (num_masks, 256, 1, 1)
    shapes["decode_head2.conv_seg.bias"] = (num_masks,)
    flownet = "decode_head.flownet."
    channels = (3, 16, 32, 64, 96, 128, 192)
    for i in range(6):
        for j, c_in in enumerate((channels[i], channels[i + 1])):
            shapes[f"{flownet}feature_pyramid_extractor.convs.{i}.{j}.0.weight"] = (channels[i + 1], c_in, 3, 3)
            shapes[f"{flownet}feature_pyramid_extractor.convs.{i}.{j}.0.bias"] = (channels[i + 1],)
    for n, (c_out, c_in) in enumerate(((128, 115), (128, 128), (96, 256), (64, 224), (32, 160)), start=1):
        shapes[f"{flownet}flow_estimators.conv{n}.0.weight"] = (c_out, c_in, 3, 3)
        shapes[f"{flownet}flow_estimators.conv{n}.0.bias"] = (c_out,)
    shapes[f"{flownet}flow_estimators.predict_flow1.0.weight"] = (64, 96, 1, 1)
    shapes[f"{flownet}flow_estimators.predict_flow1.0.bias"] = (64,)
    shapes[f"{flownet}flow_estimators.predict_flow2.0.weight"] = (2, 64, 1, 1)
    shapes[f"{flownet}flow_estimators.predict_flow2.0.bias"] = (2,)
    for level, c_in in enumerate((192, 128, 96, 64, 32)):
        shapes[f"{flownet}conv_1x1.{level}.0.weight"] = (32, c_in, 1, 1)
        shapes[f"{flownet}conv_1x1.{level}.0.bias"] = (32,)
    return shapes


def random_state_dict(shapes):
    return {name: (torch.randint(0, 100, shape) if name.endswith("num_batches_tracked") else torch.randn(shape))
            for name, shape in shapes.items()}


def save_release(state_dict, path):
    torch.save({"meta": {"mmcv_version": "1.2.0", "epoch": 1, "iter": 100}, "state_dict": state_dict}, path)


def test_our_release_names_match_the_published_key_file(shared_data):
    key_file = shared_data.parent / "official_checkpoint_keys.json"
    published = {k: tuple(v) for k, v in json.loads(key_file.read_text())["state_dict"].items()}
    assert release_names_and_shapes() == published


@pytest.fixture(scope="module")
def release_checkpoint(tmp_path_factory):
    state_dict = random_state_dict(release_names_and_shapes())
    path = tmp_path_factory.mktemp("release") / "amd_pretrained.pth"
    save_release(state_dict, path)
    return path, state_dict


def test_release_checkpoint_loads_every_tensor(release_checkpoint):
    path, state_dict = release_checkpoint
    model = load_checkpoint(path, flow_size=(64, 64))
    assert model.config.num_masks == 5 and model.config.backbone == "resnet50"
    assert model.config.flow_size == (64, 64)
    ours = model.state_dict()
    assert torch.equal(ours["appearance.backbone.layer4.2.conv3.weight"], state_dict["backbone2.layer4.2.conv3.weight"])
    assert torch.equal(ours["appearance.head.convs.1.1.running_var"], state_dict["decode_head2.convs.1.bn.running_var"])
    assert torch.equal(ours["appearance.head.classifier.bias"], state_dict["decode_head2.conv_seg.bias"])
    assert torch.equal(ours["motion.segment_flow_head.out.weight"],
                       state_dict["decode_head.flownet.flow_estimators.predict_flow2.0.weight"])
    assert torch.equal(ours["motion.reductions.0.0.weight"], state_dict["decode_head.flownet.conv_1x1.0.0.weight"])
    # Every release tensor landed somewhere, each exactly once.
    released = sorted(t.sum().item() for t in state_dict.values())
    loaded = sorted(t.sum().item() for t in ours.values())
    assert released == loaded


def test_released_loads_with_ddp_prefix_and_a_bare_state_dict(tmp_path, release_checkpoint):
    _, state_dict = release_checkpoint
    path = tmp_path / "bare.pth"
    torch.save({"module." + k: v for k, v in state_dict.items()}, path)
    model = load_checkpoint(path)
    assert torch.equal(model.state_dict()["appearance.backbone.conv1.weight"], state_dict["backbone2.conv1.weight"])


@pytest.mark.parametrize("damage, named", [
    (lambda sd: sd.pop("decode_head.flownet.conv_1x1.3.0.bias"), "motion.reductions.3.0.bias"),
    (lambda sd: sd.__setitem__("decode_head.flownet.conv_1x1.5.0.bias", torch.zeros(32)), "motion.reductions.5.0.bias"),
    (lambda sd: sd.__setitem__("decode_head.flownet.dense_head.weight", torch.zeros(2)), "decode_head.flownet.dense_head.weight"),
    (lambda sd: sd.__setitem__("backbone2.layer1.0.conv1.weight", torch.zeros(64, 64, 3, 3)), "appearance.backbone.layer1.0.conv1.weight"),
])
def test_a_missing_extra_or_misshaped_tensor_is_named(tmp_path, damage, named):
    state_dict = random_state_dict(release_names_and_shapes())
    damage(state_dict)
    path = tmp_path / "damaged.pth"
    save_release(state_dict, path)
    with pytest.raises(CheckpointError, match=named.replace(".", r"\.")):
        load_checkpoint(path)


def test_own_checkpoint_round_trips_exactly(tmp_path):
    config = AMDConfig.profile("smoke", num_masks=3)
    model = AMD(config)
    model(torch.rand(2, 2, 3, 32, 32))  # move BatchNorm statistics away from their initial values
    path = tmp_path / "sub" / "model.pt"
    save_checkpoint(model, path, iteration=7)
    loaded = load_checkpoint(path)
    assert loaded.config == config
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), name
    assert torch.load(path, weights_only=True)["iteration"] == 7
    assert not list(path.parent.glob(".*.tmp"))


def test_overrides_that_change_shapes_fail_loudly(tmp_path):
    path = tmp_path / "model.pt"
    save_checkpoint(AMD(AMDConfig.profile("smoke")), path)
    with pytest.raises(CheckpointError, match="appearance.head.classifier.weight"):
        load_checkpoint(path, num_masks=4)


def test_unreadable_or_foreign_files_name_the_file(tmp_path):
    corrupt = tmp_path / "corrupt.pth"
    corrupt.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="corrupt.pth"):
        load_checkpoint(corrupt)
    foreign = tmp_path / "foreign.pth"
    torch.save({"state_dict": {"encoder.weight": torch.zeros(1)}}, foreign)
    with pytest.raises(CheckpointError, match="foreign.pth"):
        load_checkpoint(foreign)
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        load_checkpoint(tmp_path / "missing.pth")
