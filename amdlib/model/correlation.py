"""Cost volume (correlation) of PWC-Net / ARFlow's PWC-Lite, fast on CPU.

Why it exists
-------------
The motion pathway estimates flow coarse-to-fine. At every pyramid level it compares the
reference features with the (warped) features of the other frame at every displacement of a
small search window; the resulting "cost volume" tells the flow estimator which displacement
matches best. The release uses correlation with search range 4 -> 81 channels,

    corr_d(p) = mean over channels of fA(p) * fB(p + d),   d in [-4, 4]^2,  zero outside,

channel order: vertical offset outer, horizontal inner. With ``d = max_displacement`` and
``K = 2d + 1``::

    out[:, i*K + j, y, x] = mean_c feat1[:, c, y, x] * feat2[:, c, y + i - d, x + j - d]

which is exactly ARFlow's ``spatial_correlation_sampler(kernel_size=1, patch_size=K)`` divided
by the number of channels C. ARFlow needs a compiled CUDA extension for it; here it is plain
PyTorch. On CPU it uses the tiled matmuls below; on CUDA tensors a batched method
(`_correlation_batched`: a few whole-batch kernels, since on a GPU the tiled path's per-image
launches set the pace). The measured speed-ups behind these choices are in docs/method.md
section 9.

How the fast version works
--------------------------
:func:`correlation_naive` loops over the K*K shifts, and each shift streams two full B,C,H,W
tensors through memory, forward and (worse) backward. :func:`correlation` turns the work into
small matrix products instead, which run at matmul speed:

1. Flatten each image to its H*W pixels in raster order, and pad feat2 (per image, C,L with
   L = H*W + 2(dW + d)) with ``dW + d`` zeros on both ends. Then the partner of pixel ``p`` at
   offset (i, j) sits at padded index ``p + i*W + j``: linear in ``p``, so a vertical offset
   is just a different start index, and vertical out-of-range reads land in the zero pad.
2. For one vertical offset ``i``, cut the pixels into tiles of ``t`` consecutive pixels. Tile
   ``g`` of feat1 (t x C) needs exactly the ``t + 2d`` consecutive padded feat2 pixels starting
   at ``g*t + i*W`` (a (t+2d) x C window). All tiles' windows are one overlapping
   ``as_strided`` view of the padded feat2 (no copy), so a single ``bmm`` gives every tile's
   t x (t+2d) product matrix, and the K horizontal offsets are its band ``prod[g, u, u + j]``,
   read out by another ``as_strided`` view. Tiles may cross row ends: a horizontal offset that
   leaves the row would read the neighbouring row, so those band entries are zeroed by a
   precomputed (K, H*W) mask, which also carries the 1/C of the mean (one fused multiply).
3. Backward uses the same tiles: the masked output gradient is scattered onto the band of a
   zeroed t x (t+2d) matrix per tile (``dense``), and two ``bmm`` give
   ``grad_feat1_tile += dense @ window`` and ``grad_window = dense^T @ feat1_tile``. The
   windows overlap, so ``grad_window`` is added back in row chunks of height <= t: within one
   chunk the tiles' destinations do not overlap, so each chunk is one in-place ``baddbmm_``.
   Backward works on channels-last (pixels x C) copies of one image at a time, because
   PyTorch's in-place ``baddbmm_`` only takes its fast batched path for a contiguous
   destination (with NCHW-strided tiles it loops over the tiles one matmul at a time).

The band costs ``(t + 2d) / (2d + 1)`` of the exact multiply count, which larger tiles trade
for more efficient matmuls (``_tile_width`` picks ``t``). Everything is done one image at a
time, so besides the output (forward) and the two gradients (backward) only per-image buffers
are allocated. ``benchmarks/bench_core.py`` compares it with :func:`correlation_naive`.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

__all__ = ["METHODS", "correlation", "correlation_naive"]


# --------------------------------------------------------------------------- reference


def correlation_naive(feat1: Tensor, feat2: Tensor, max_displacement: int = 4) -> Tensor:
    """Reference cost volume: loop over the (2d+1)^2 shifts of a zero-padded feat2.

    feat1, feat2: B,C,H,W. Returns B,(2d+1)^2,H,W with channel ``i*(2d+1) + j`` holding
    mean_c feat1(y, x) * feat2(y + i - d, x + j - d) (zero outside). Plain autograd; the test
    oracle and the benchmark baseline of :func:`correlation`.
    """
    d = max_displacement
    _, _, height, width = feat1.shape
    padded = torch.nn.functional.pad(feat2, (d, d, d, d))
    channels = []
    for i in range(2 * d + 1):
        for j in range(2 * d + 1):
            shifted = padded[:, :, i : i + height, j : j + width]
            channels.append((feat1 * shifted).mean(1))
    return torch.stack(channels, 1)


# --------------------------------------------------------------------------- helpers


def _tile_width(max_displacement: int) -> int:
    """Pixels per tile: ``t = 2d``, at least 8. ``t = 2d`` makes the windows (t + 2d rows)
    exactly two tiles long, so the backward overlap-add needs no temporaries; the floor of 8
    keeps the matmuls from being too tiny at small d (docs/method.md section 9)."""
    return max(8, 2 * max_displacement)


def _segments(num_pixels: int, tile: int) -> list[tuple[int, int, int]]:
    """Split ``num_pixels`` into (first pixel, number of tiles, tile width) runs: the full
    tiles, then one shorter tile for the remainder (if any)."""
    full = num_pixels // tile
    rest = num_pixels - full * tile
    runs = [(0, full, tile)] if full else []
    if rest:
        runs.append((full * tile, 1, rest))
    return runs


def _band_mask(height: int, width: int, d: int, channels: int, like: Tensor) -> Tensor:
    """(2d+1, H*W) factors for the band: 1/C where horizontal offset j keeps pixel x inside its
    row (0 <= x + j - d < W), 0 where the flattened layout would wrap into the next row."""
    x = torch.arange(width, device=like.device).repeat(height)
    x_moved = x + torch.arange(2 * d + 1, device=like.device).unsqueeze(1) - d
    inside = (x_moved >= 0) & (x_moved < width)
    return inside.to(like.dtype) / channels


def _pixels_by_channels(image: Tensor) -> Tensor:
    """C,H,W -> (H*W, C) view (a copy only where the layout cannot be viewed that way)."""
    channels, height, width = image.shape
    return image.permute(1, 2, 0).reshape(height * width, channels)


def _copy_pixels(dst: Tensor, src: Tensor, chunk: int = 2048) -> None:
    """``dst.copy_(src)`` for two (pixels, C) tensors, ``chunk`` pixels at a time. When one side
    is an NCHW view this is a transpose, which runs faster in cache-sized chunks than in
    PyTorch's one-shot transposing copy (docs/method.md section 9)."""
    for start in range(0, dst.shape[0], chunk):
        dst[start : start + chunk].copy_(src[start : start + chunk])


def _like_by_pixels(feat: Tensor) -> Tensor:
    """Uninitialised B,C,H,W tensor like ``feat`` whose images view as (H*W, C) without a copy:
    channels-last if ``feat`` is, else contiguous NCHW."""
    if feat.is_contiguous(memory_format=torch.channels_last) and not feat.is_contiguous():
        return torch.empty_like(feat, memory_format=torch.channels_last)
    return torch.empty_like(feat, memory_format=torch.contiguous_format)


def _tiles(matrix: Tensor, first: int, count: int, rows: int, step: int) -> Tensor:
    """(count, rows, C) view of a 2-D (pixels, C) tensor: tile k holds pixel rows
    first + k*step ... first + k*step + rows - 1 (tiles overlap when rows > step)."""
    s_pix, s_chan = matrix.stride()
    return matrix.as_strided(
        (count, rows, matrix.shape[1]),
        (step * s_pix, s_pix, s_chan),
        matrix.storage_offset() + first * s_pix,
    )


def _band(products: Tensor, k: int) -> Tensor:
    """(k, n, t) view of the band ``products[g, u, u + j]`` of (n, t, t + k - 1) matrices,
    indexed [j, g, u] so that it lines up with an output slice (K, pixels)."""
    n, t, cols = products.shape
    return products.as_strided((k, n, t), (1, t * cols, cols + 1), products.storage_offset())


# --------------------------------------------------------------------------- forward / backward


def _forward_image(
    f1: Tensor, f2: Tensor, out: Tensor, mask: Tensor, padded: Tensor, d: int, tile: int
) -> None:
    """Cost volume of one image pair: f1, f2 C,H,W -> writes out (K*K, H*W).

    ``padded`` is a (C, L) workspace whose ``d*W + d`` pixels at both ends are zero."""
    k = 2 * d + 1
    channels, height, width = f1.shape
    num, pad = height * width, d * width + d
    a = _pixels_by_channels(f1)  # (HW, C), no copy if viewable
    padded[:, pad : pad + num] = f2.reshape(channels, num)
    window_src = padded.t()  # (L, C) view
    for first, count, t in _segments(num, tile):
        a_tiles = _tiles(a, first, count, t, t)
        m = mask[:, first : first + count * t].view(k, count, t)
        for i in range(k):
            windows = _tiles(window_src, first + i * width, count, t + 2 * d, t)
            products = torch.bmm(a_tiles, windows.transpose(1, 2))  # (n, t, t + 2d)
            dest = out[i * k : (i + 1) * k, first : first + count * t].view(k, count, t)
            torch.mul(_band(products, k), m, out=dest)


class _Workspace:
    """Per-image channels-last buffers of the backward, allocated once per call and reused for
    every image (fresh large allocations cost page faults, and this keeps the transient
    memory at one image's worth)."""

    def __init__(self, like: Tensor, num: int, pad: int, d: int, tile: int) -> None:
        channels = like.shape[1]
        self.pad = pad
        self.a = like.new_empty(num, channels)  # feat1 pixels (HW, C)
        self.windows = like.new_zeros(num + 2 * pad, channels)  # zero-padded feat2 (L, C)
        self.grad1 = like.new_empty(num, channels)
        self.grad2 = like.new_empty(num + 2 * pad, channels)
        self.segments = _segments(num, tile)
        # Dense t x (t+2d) tile matrices for the output gradient; only their band is ever
        # written, so the off-band zeros set here hold for every image and offset.
        self.dense = [like.new_zeros(n, t, t + 2 * d) for _, n, t in self.segments]

    def load(self, f1: Tensor, f2: Tensor) -> None:
        """Copy one image pair (C,H,W each) in; zero the gradient accumulators."""
        num = self.a.shape[0]
        _copy_pixels(self.a, _pixels_by_channels(f1))
        _copy_pixels(self.windows[self.pad : self.pad + num], _pixels_by_channels(f2))
        self.grad1.zero_()
        self.grad2.zero_()


def _backward_image(
    ws: _Workspace, grad_out: Tensor, mask: Tensor, d: int, width: int, needs: tuple[bool, bool]
) -> None:
    """Accumulate one image pair's gradients into ``ws.grad1`` (HW, C) and ``ws.grad2``
    (L, C, padded) from grad_out (K*K, H*W); the pair must be loaded into ``ws``. ``needs``
    says which of the two gradients to compute."""
    k = 2 * d + 1
    for (first, count, t), dense in zip(ws.segments, ws.dense):
        a_tiles = _tiles(ws.a, first, count, t, t)
        g1_tiles = _tiles(ws.grad1, first, count, t, t)
        m = mask[:, first : first + count * t].view(k, count, t)
        band = _band(dense, k)
        for i in range(k):
            start = first + i * width
            g_out = grad_out[i * k : (i + 1) * k, first : first + count * t]
            torch.mul(g_out.view(k, count, t), m, out=band)
            if needs[0]:
                g1_tiles.baddbmm_(dense, _tiles(ws.windows, start, count, t + 2 * d, t))
            if needs[1]:
                _overlap_add(ws.grad2, dense.transpose(1, 2), a_tiles, start, t)


def _overlap_add(grad2: Tensor, dense_t: Tensor, a_tiles: Tensor, start: int, t: int) -> None:
    """grad2[start + g*t + r] += (dense_t[g] @ a_tiles[g])[r] for all tiles g, rows r < t + 2d.

    The (t + 2d)-row windows of neighbouring tiles overlap, so the rows go in chunks of at
    most t: inside one chunk the destinations are disjoint, one strided in-place matmul. A
    chunk of exactly t rows is a contiguous destination (PyTorch's fast in-place bmm); a
    shorter one goes through a temporary."""
    count, rows, _ = dense_t.shape
    for top in range(0, rows, t):
        height = min(t, rows - top)
        dest = _tiles(grad2, start + top, count, height, t)
        if height == t:
            dest.baddbmm_(dense_t[:, top : top + height], a_tiles)
        else:
            dest.add_(torch.bmm(dense_t[:, top : top + height], a_tiles))


class _Correlation(torch.autograd.Function):
    """Tiled-matmul cost volume with an explicit, per-image backward (see module docstring)."""

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: torch.autograd.function.FunctionCtx, feat1: Tensor, feat2: Tensor, d: int, tile: int
    ) -> Tensor:
        batch, channels, height, width = feat1.shape
        k = 2 * d + 1
        mask = _band_mask(height, width, d, channels, feat1)
        out = feat1.new_empty(batch, k * k, height * width)
        padded = feat1.new_zeros(channels, height * width + 2 * (d * width + d))
        for b in range(batch):
            _forward_image(feat1[b], feat2[b], out[b], mask, padded, d, tile)
        ctx.save_for_backward(feat1, feat2)
        ctx.d, ctx.tile = d, tile
        return out.view(batch, k * k, height, width)

    @staticmethod
    @once_differentiable
    def backward(  # type: ignore[override]
        ctx: torch.autograd.function.FunctionCtx, grad_out: Tensor
    ) -> tuple[Tensor | None, ...]:
        feat1, feat2 = ctx.saved_tensors
        d, tile = ctx.d, ctx.tile
        batch, channels, height, width = feat1.shape
        num, pad = height * width, d * width + d
        mask = _band_mask(height, width, d, channels, feat1)
        needs = (ctx.needs_input_grad[0], ctx.needs_input_grad[1])
        grad1 = _like_by_pixels(feat1) if needs[0] else None
        grad2 = _like_by_pixels(feat2) if needs[1] else None
        ws = _Workspace(feat1, num, pad, d, tile)
        with torch.autocast(feat1.device.type, enabled=False):
            for b in range(batch):
                ws.load(feat1[b], feat2[b])
                _backward_image(ws, grad_out[b].reshape(-1, num), mask, d, width, needs)
                if grad1 is not None:
                    _copy_pixels(_pixels_by_channels(grad1[b]), ws.grad1)
                if grad2 is not None:
                    _copy_pixels(_pixels_by_channels(grad2[b]), ws.grad2[pad : pad + num])
        return grad1, grad2, None, None


# --------------------------------------------------------------------------- public API


def _autocast_dtype(device_type: str) -> torch.dtype | None:
    """The autocast dtype active for ``device_type``, or None when autocast is off there."""
    try:
        if not torch.is_autocast_enabled(device_type):
            return None
        return torch.get_autocast_dtype(device_type)
    except (TypeError, AttributeError):  # torch < 2.4: per-device functions
        if device_type == "cpu":
            on, dtype = torch.is_autocast_cpu_enabled(), torch.get_autocast_cpu_dtype()
        else:
            on, dtype = torch.is_autocast_enabled(), torch.get_autocast_gpu_dtype()
        return dtype if on else None


def _compute_dtype(feat1: Tensor, feat2: Tensor) -> torch.dtype:
    """Like a matmul under autocast: float32 (and lower) inputs run in the autocast dtype; else,
    and for float64, the promoted input dtype."""
    dtype = torch.promote_types(feat1.dtype, feat2.dtype)
    low = _autocast_dtype(feat1.device.type)
    if low is not None and dtype != torch.float64:
        return low
    return dtype


METHODS = ("auto", "tiled", "batched")


def correlation(feat1: Tensor, feat2: Tensor, max_displacement: int = 4, method: str = "auto") -> Tensor:
    """Cost volume, B,C,H,W x B,C,H,W -> B,(2d+1)^2,H,W with d = ``max_displacement``.

    ``out[:, i*(2d+1) + j, y, x] = mean_c feat1[:, c, y, x] * feat2[:, c, y+i-d, x+j-d]``,
    zero where the displaced position leaves feat2 (vertical offset i outer, horizontal j
    inner): ARFlow's ``spatial_correlation_sampler(1, 2d+1)`` / C. Same values as
    :func:`correlation_naive`, several times faster and leaner (tiled matmuls, see the module
    docstring). Differentiable in both inputs; any H, W >= 1 and memory layout. Under autocast
    it computes in the autocast dtype (like a matmul) and returns gradients in each input's
    dtype.

    ``method``: "tiled" (the per-image tiled matmuls above, fastest and leanest on CPU),
    "batched" (:func:`_correlation_batched`: a few whole-batch kernels, for GPUs, where the
    tiled path's hundreds of small per-image launches set the pace), or "auto" (batched on
    CUDA tensors, tiled elsewhere).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if feat1.dim() != 4 or feat1.shape != feat2.shape:
        raise ValueError(
            f"correlation needs two B,C,H,W tensors of one shape; got {tuple(feat1.shape)} "
            f"and {tuple(feat2.shape)}"
        )
    d = int(max_displacement)
    if d < 0:
        raise ValueError(f"max_displacement must be >= 0, got {max_displacement}")
    if method == "batched" or (method == "auto" and feat1.is_cuda):
        return _correlation_batched(feat1, feat2, d)
    return _correlation_tiled(feat1, feat2, d, _tile_width(d))


def _correlation_batched(feat1: Tensor, feat2: Tensor, d: int) -> Tensor:
    """:func:`correlation` as a handful of whole-batch kernels, backward by autograd.

    Every (2d+1) x (2d+1) neighbourhood of the zero-padded feat2 is a view (two ``unfold``s,
    B,C,H,W,K,K, no copy) and one ``einsum`` contracts it with feat1 over the channels. It reads
    K*K times the features, which on a CPU is what the tiled path avoids, but its launch count
    does not grow with the batch or the image size: on a GPU the tiled path's per-image,
    per-offset matmuls (B*K*2 launches forward, more backward) are what a small model's step
    waits on (docs/method.md section 9)."""
    dtype = _compute_dtype(feat1, feat2)
    feat1, feat2 = feat1.to(dtype), feat2.to(dtype)
    k = 2 * d + 1
    with torch.autocast(feat1.device.type, enabled=False):
        padded = torch.nn.functional.pad(feat2, (d, d, d, d))
        windows = padded.unfold(2, k, 1).unfold(3, k, 1)  # B,C,H,W,K(i),K(j)
        out = torch.einsum("bchw,bchwij->bijhw", feat1, windows)
        return out.flatten(1, 2) / feat1.shape[1]


def _correlation_tiled(feat1: Tensor, feat2: Tensor, d: int, tile: int) -> Tensor:
    """:func:`correlation` with an explicit tile width (tests and tuning)."""
    dtype = _compute_dtype(feat1, feat2)
    feat1, feat2 = feat1.to(dtype), feat2.to(dtype)  # tracked casts: grads return in input dtype
    with torch.autocast(feat1.device.type, enabled=False):
        return _Correlation.apply(feat1, feat2, d, tile)
