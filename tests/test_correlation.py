"""Cost volume: both methods of `correlation` (tiled for CPU, batched for GPU) against the naive
loop and hand-computed cases."""

from __future__ import annotations

import functools

import pytest
import torch

from amdlib.model.correlation import _correlation_tiled, correlation, correlation_naive

# (B, C, H, W, max_displacement): odd sizes, W < d, H < d, H = 1, W = 1, B = 1, C = 1.
SHAPES = [
    (2, 3, 5, 7, 4),
    (1, 1, 1, 1, 4),
    (2, 5, 3, 2, 4),
    (1, 4, 1, 9, 2),
    (3, 2, 6, 1, 1),
    (2, 8, 9, 11, 1),
    (1, 6, 4, 3, 4),
    (2, 16, 12, 20, 4),
    (1, 3, 7, 5, 0),
]


@pytest.fixture(params=["tiled", "batched"])
def corr(request):
    """`correlation` with one method forced, so each runs on CPU whatever "auto" would pick."""
    return functools.partial(correlation, method=request.param)


def _pair(b: int, c: int, h: int, w: int, dtype: torch.dtype = torch.float64):
    f1 = torch.randn(b, c, h, w, dtype=dtype, requires_grad=True)
    f2 = torch.randn(b, c, h, w, dtype=dtype, requires_grad=True)
    return f1, f2


def _grads(fn, f1, f2, d, upstream):
    out = fn(f1, f2, d)
    return out, torch.autograd.grad(out, (f1, f2), upstream)


@pytest.mark.parametrize("b,c,h,w,d", SHAPES)
def test_values_and_gradients_match_naive(corr, b: int, c: int, h: int, w: int, d: int) -> None:
    f1, f2 = _pair(b, c, h, w)
    upstream = torch.randn(b, (2 * d + 1) ** 2, h, w, dtype=torch.float64)
    want, want_grads = _grads(correlation_naive, f1, f2, d, upstream)
    got, got_grads = _grads(corr, f1, f2, d, upstream)
    assert got.shape == (b, (2 * d + 1) ** 2, h, w)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    for g, r in zip(got_grads, want_grads):
        torch.testing.assert_close(g, r, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("tile", [1, 3, 5, 8, 13, 64])
def test_any_tile_width(tile: int) -> None:
    """Tile widths below, at and above 2d: remainder tiles and short overlap-add chunks."""
    f1, f2 = _pair(2, 5, 7, 9)
    upstream = torch.randn(2, 81, 7, 9, dtype=torch.float64)
    want, want_grads = _grads(correlation_naive, f1, f2, 4, upstream)
    got, got_grads = _grads(lambda a, b, d: _correlation_tiled(a, b, d, tile), f1, f2, 4, upstream)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    for g, r in zip(got_grads, want_grads):
        torch.testing.assert_close(g, r, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("d", [1, 2])
def test_gradcheck(corr, d: int) -> None:
    f1, f2 = _pair(1, 2, 3, 4)
    assert torch.autograd.gradcheck(lambda a, b: corr(a, b, d), (f1, f2))


@pytest.mark.parametrize("dy,dx", [(2, 3), (-1, 3), (0, -4), (-4, -2)])
def test_shifted_copy_peaks_at_the_shift(dy: int, dx: int) -> None:
    """feat2(p + s) = feat1(p): where p + s is inside, channel s holds mean_c feat1(p)^2."""
    c, h, w, d = 5, 9, 11, 4
    f1 = torch.randn(1, c, h, w, dtype=torch.float64)
    f2 = torch.zeros_like(f1)
    ys, xs = slice(max(0, -dy), min(h, h - dy)), slice(max(0, -dx), min(w, w - dx))
    ys2, xs2 = slice(ys.start + dy, ys.stop + dy), slice(xs.start + dx, xs.stop + dx)
    f2[:, :, ys2, xs2] = f1[:, :, ys, xs]
    out = correlation(f1, f2, d)
    channel = (dy + d) * (2 * d + 1) + (dx + d)
    expected = (f1[:, :, ys, xs] ** 2).mean(1)
    torch.testing.assert_close(out[:, channel, ys, xs], expected, rtol=1e-12, atol=1e-12)


def test_one_hot_hand_computed() -> None:
    """feat1 = 1 everywhere, feat2 = 2 at a single site (channel 0 of C = 2) at (y, x) = (2, 3):
    at pixel p the only nonzero channel is offset (2 - y, 3 - x), value 1 * 2 / C = 1."""
    f1 = torch.ones(1, 2, 6, 9, dtype=torch.float64)
    f2 = torch.zeros(1, 2, 6, 9, dtype=torch.float64)
    f2[0, 0, 2, 3] = 2.0
    out = correlation(f1, f2, 4)[0]
    # pixel (2, 2): offset (0, +1) -> i = 4, j = 5 -> channel 4*9 + 5 = 41
    expected = torch.zeros(81, dtype=torch.float64)
    expected[41] = 1.0
    torch.testing.assert_close(out[:, 2, 2], expected)
    # pixel (0, 0): offset (+2, +3) -> i = 6, j = 7 -> channel 61
    expected = torch.zeros(81, dtype=torch.float64)
    expected[61] = 1.0
    torch.testing.assert_close(out[:, 0, 0], expected)
    # pixel (5, 8): offset (-3, -5) is outside the 9x9 window -> all zero
    torch.testing.assert_close(out[:, 5, 8], torch.zeros(81, dtype=torch.float64))


def test_channel_order_vertical_outer_horizontal_inner() -> None:
    """Offset (dy, dx) = (+1, -2) must land in channel (dy+4)*9 + (dx+4) = 47, not 2*9+5 = 23."""
    f1 = torch.ones(1, 1, 7, 7)
    f2 = torch.zeros(1, 1, 7, 7)
    f2[0, 0, 4, 1] = 1.0
    out = correlation(f1, f2, 4)[0, :, 3, 3]  # partner (4, 1) = (3 + 1, 3 - 2)
    assert out[47] == 1.0
    assert out.sum() == 1.0


def test_zero_outside_matches_explicit_count() -> None:
    """All-ones features: channel (i, j) at (y, x) is 1 exactly where (y+i-d, x+j-d) is inside,
    written out with plain loops (independent of both implementations)."""
    h, w, d = 4, 6, 4
    out = correlation(torch.ones(1, 3, h, w), torch.ones(1, 3, h, w), d)[0]
    expected = torch.zeros(81, h, w)
    for i in range(9):
        for j in range(9):
            for y in range(h):
                for x in range(w):
                    if 0 <= y + i - d < h and 0 <= x + j - d < w:
                        expected[i * 9 + j, y, x] = 1.0
    torch.testing.assert_close(out, expected)


def test_float32_and_mixed_dtypes(corr) -> None:
    f1, f2 = _pair(2, 8, 6, 10, torch.float32)
    torch.testing.assert_close(corr(f1, f2), correlation_naive(f1, f2))
    assert corr(f1, f2.double()).dtype == torch.float64


def test_bf16_autocast_cpu(corr) -> None:
    f1, f2 = _pair(2, 16, 8, 12, torch.float32)
    upstream = torch.randn(2, 81, 8, 12)
    ref, ref_grads = _grads(corr, f1, f2, 4, upstream)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = corr(f1, f2)
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out.float(), ref, rtol=0.0, atol=0.05)
    grads = torch.autograd.grad(out, (f1, f2), upstream.to(out.dtype))
    for g, r in zip(grads, ref_grads):
        assert g.dtype == torch.float32
        torch.testing.assert_close(g, r, rtol=0.0, atol=0.1)


def test_float64_ignores_autocast(corr) -> None:
    f1, f2 = _pair(1, 3, 4, 5)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert corr(f1, f2).dtype == torch.float64


def test_noncontiguous_inputs_and_gradient(corr) -> None:
    base1, base2 = _pair(2, 6, 5, 7)
    wide1, wide2 = _pair(2, 6, 7, 5)  # transposed below to 5 x 7
    inputs = [
        (base1.to(memory_format=torch.channels_last), base2.to(memory_format=torch.channels_last)),
        (wide1.transpose(2, 3), wide2.transpose(2, 3)),
        (base1[:, ::2], base2[:, 1::2]),  # channel-strided views
        (base1.to(memory_format=torch.channels_last), wide2.transpose(2, 3)),
    ]
    for f1, f2 in inputs:
        upstream = torch.randn(2, 81, 5, 7, dtype=torch.float64).to(
            memory_format=torch.channels_last
        )
        want, want_grads = _grads(correlation_naive, f1, f2, 4, upstream)
        got, got_grads = _grads(corr, f1, f2, 4, upstream)
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
        for g, r in zip(got_grads, want_grads):
            torch.testing.assert_close(g, r, rtol=1e-12, atol=1e-12)


def test_sum_backward_and_single_input_grad(corr) -> None:
    """An expanded upstream gradient (from .sum()), and only feat1 requiring grad."""
    f1, f2 = _pair(2, 4, 5, 6)
    f2 = f2.detach()
    corr(f1, f2).sum().backward()
    f1_ref = f1.detach().clone().requires_grad_()
    correlation_naive(f1_ref, f2).sum().backward()
    torch.testing.assert_close(f1.grad, f1_ref.grad, rtol=1e-12, atol=1e-12)
    assert f2.grad is None


def test_empty_batch(corr) -> None:
    f1, f2 = _pair(0, 3, 4, 5)
    out = corr(f1, f2)
    assert out.shape == (0, 81, 4, 5)
    out.sum().backward()
    assert f1.grad.shape == f1.shape


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        correlation(torch.zeros(1, 2, 3, 4), torch.zeros(1, 2, 3, 5))
    with pytest.raises(ValueError):
        correlation(torch.zeros(2, 3, 4), torch.zeros(2, 3, 4))
    with pytest.raises(ValueError):
        correlation(torch.zeros(1, 2, 3, 4), torch.zeros(1, 2, 3, 4), -1)
    with pytest.raises(ValueError, match="method"):
        correlation(torch.zeros(1, 2, 3, 4), torch.zeros(1, 2, 3, 4), method="fast")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("method", ["auto", "tiled", "batched"])
def test_cuda_matches_cpu_and_autocast(method: str) -> None:
    f1, f2 = _pair(2, 16, 9, 13, torch.float32)
    upstream = torch.randn(2, 81, 9, 13)
    ref, ref_grads = _grads(correlation, f1, f2, 4, upstream)
    g1, g2 = f1.detach().cuda().requires_grad_(), f2.detach().cuda().requires_grad_()
    on_gpu = functools.partial(correlation, method=method)
    out, grads = _grads(on_gpu, g1, g2, 4, upstream.cuda())
    torch.testing.assert_close(out.cpu(), ref, rtol=1e-4, atol=1e-5)
    for g, r in zip(grads, ref_grads):
        torch.testing.assert_close(g.cpu(), r, rtol=1e-4, atol=1e-5)
    with torch.autocast("cuda", dtype=torch.float16):
        half = on_gpu(g1, g2)
    assert half.dtype == torch.float16
    grads = torch.autograd.grad(half, (g1, g2), upstream.cuda().half())
    assert all(g.dtype == torch.float32 for g in grads)
    torch.testing.assert_close(half.float().cpu(), ref, rtol=0.0, atol=0.02)
