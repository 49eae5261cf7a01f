"""Multi-process training helpers: process group set-up and BatchNorm synchronised across ranks.

Launch with `torchrun --nproc_per_node N -m amdlib.training.train ...`; torchrun sets RANK, WORLD_SIZE,
LOCAL_RANK and MASTER_ADDR/PORT, and `init_from_environment` reads them (NCCL on GPUs, gloo on
CPU). The release trains with SyncBN (docs/method.md section 5); PyTorch's SyncBatchNorm runs on GPUs
only, so on CPU the BatchNorm layers become `DistributedBatchNorm2d`, which reduces the batch
statistics with a differentiable all-reduce and so gives every rank the statistics of the
whole global batch, on any device.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import Tensor, nn


@dataclass(frozen=True)
class ProcessInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def init_from_environment() -> ProcessInfo:
    """Join the process group torchrun describes in the environment; a single process otherwise."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return ProcessInfo()
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if torch.cuda.is_available():
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return ProcessInfo(rank, world_size, local_rank)


def shutdown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


class _AllReduceSum(torch.autograd.Function):
    """Sum over ranks whose gradient is again the sum over ranks: every rank's loss depends on
    every rank's contribution to the shared statistics."""

    @staticmethod
    def forward(ctx, tensor: Tensor) -> Tensor:
        tensor = tensor.clone()
        dist.all_reduce(tensor)
        return tensor

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        grad = grad.clone()
        dist.all_reduce(grad)
        return grad


class DistributedBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d whose training statistics are those of the batch across all ranks.

    Equivalent to running the global batch through plain BatchNorm2d in one process; used where
    torch.nn.SyncBatchNorm is unavailable (CPU with gloo).
    """

    def forward(self, x: Tensor) -> Tensor:
        if not (self.training and dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)
        channels = x.shape[1]
        local = torch.cat((x.sum((0, 2, 3)), (x * x).sum((0, 2, 3)),
                           x.new_tensor([x.numel() / channels])))
        total = _AllReduceSum.apply(local)
        count = total[-1]
        mean = total[:channels] / count
        var = total[channels:2 * channels] / count - mean * mean
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                momentum = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                self.running_mean.mul_(1 - momentum).add_(momentum * mean)
                self.running_var.mul_(1 - momentum).add_(momentum * var * count / (count - 1).clamp(min=1))
        shape = (1, channels, 1, 1)
        out = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            out = out * self.weight.view(shape) + self.bias.view(shape)
        return out


def synchronise_batchnorm(model: nn.Module, device: torch.device) -> nn.Module:
    """Replace every BatchNorm2d by its cross-rank version (SyncBatchNorm on GPU), in place."""
    if device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(model)
    for name, child in model.named_children():
        if isinstance(child, nn.BatchNorm2d) and not isinstance(child, DistributedBatchNorm2d):
            replacement = DistributedBatchNorm2d(child.num_features, child.eps, child.momentum, child.affine,
                                                 child.track_running_stats)
            replacement.load_state_dict(child.state_dict())
            replacement.to(device=child.weight.device if child.affine else device)
            setattr(model, name, replacement)
        else:
            synchronise_batchnorm(child, device)
    return model


def mean_over_ranks(value: float, info: ProcessInfo) -> float:
    """The mean of a Python number across ranks (for logging the global batch's loss)."""
    if not info.distributed:
        return value
    tensor = torch.tensor([value], dtype=torch.float64)
    if dist.get_backend() == "nccl":
        tensor = tensor.cuda()
    dist.all_reduce(tensor)
    return tensor.item() / info.world_size


def all_agree(flag: bool, info: ProcessInfo) -> bool:
    """True only if `flag` is true on every rank (e.g. 'my loss is finite')."""
    if not info.distributed:
        return flag
    value = torch.tensor([1.0 if flag else 0.0])
    if dist.get_backend() == "nccl":
        value = value.cuda()
    dist.all_reduce(value, op=dist.ReduceOp.MIN)
    return bool(value.item() > 0)
