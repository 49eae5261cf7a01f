import pytest
import torch

from amdlib import AMD, AMDConfig
from amdlib.evaluation.finetune import FinetuneConfig, evaluate_segmentation, finetune, from_amd, from_scratch, resize_pair


class TwoClassSquares:
    """Images with a bright square of class 1 on a dark background, void (255) on its border."""

    def __init__(self, count=4, size=32):
        self.items = []
        generator = torch.Generator().manual_seed(0)
        for _ in range(count):
            image = torch.rand(3, size, size, generator=generator) * 0.2
            label = torch.zeros(size, size, dtype=torch.long)
            top, left = torch.randint(0, size - 12, (2,), generator=generator).tolist()
            image[:, top:top + 12, left:left + 12] += 0.7
            label[top:top + 12, left:left + 12] = 1
            label[top, left:left + 12] = 255
            self.items.append((image, label, f"img{len(self.items)}"))

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        return self.items[index]


CONFIG = AMDConfig(backbone="small", num_masks=2, head_channels=32, flow_size=(32, 32), coarsest_stride=16)


def test_backbone_is_copied_from_amd_and_head_is_new():
    model = AMD(CONFIG)
    segmenter = from_amd(model, num_classes=3)
    for (name, a), b in zip(model.appearance.backbone.state_dict().items(), segmenter.backbone.state_dict().values()):
        assert torch.equal(a, b), name
    assert segmenter.backbone is not model.appearance.backbone
    assert segmenter(torch.rand(2, 3, 32, 40)).shape == (2, 3, 32, 40)


def test_finetuning_learns_an_easy_task_and_frozen_backbone_stays_put():
    data = TwoClassSquares()
    torch.manual_seed(0)
    segmenter = finetune(from_scratch(CONFIG, 2), data, FinetuneConfig(iterations=40, batch_size=4, lr=3e-3, size=(32, 32)))
    confusion = evaluate_segmentation(segmenter, data)
    assert confusion.miou() > 0.6
    frozen = from_amd(AMD(CONFIG), 2)
    before = {k: v.clone() for k, v in frozen.backbone.state_dict().items()}
    finetune(frozen, data, FinetuneConfig(iterations=3, batch_size=2, size=(32, 32), freeze_backbone=True))
    assert all(torch.equal(before[k], v) for k, v in frozen.backbone.state_dict().items())


def test_resizing_keeps_void_and_classes_exact():
    image, label = TwoClassSquares(1)[0][:2]
    small_image, small_label = resize_pair(image, label, (16, 16))
    assert small_image.shape == (3, 16, 16) and small_label.dtype == torch.long
    assert set(small_label.unique().tolist()) <= {0, 1, 255}


def test_empty_dataset_is_a_clear_error():
    with pytest.raises(ValueError, match="empty"):
        finetune(from_scratch(CONFIG, 2), [], FinetuneConfig(iterations=1))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_finetuning_and_evaluation_run_where_the_segmenter_lives():
    """The dataset's tensors are on the CPU; a segmenter on CUDA trains and scores there."""
    data = TwoClassSquares()
    torch.manual_seed(0)
    segmenter = finetune(from_scratch(CONFIG, 2).cuda(), data, FinetuneConfig(iterations=40, batch_size=4, lr=3e-3,
                                                                            size=(32, 32)))
    assert next(segmenter.parameters()).is_cuda
    assert evaluate_segmentation(segmenter, data).miou() > 0.6
