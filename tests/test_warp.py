import torch

from amdlib.model.warp import pixel_grid, warp


def test_zero_flow_is_identity():
    image = torch.rand(2, 3, 7, 9)
    assert torch.allclose(warp(image, torch.zeros(2, 2, 7, 9)), image, atol=1e-6)


def test_integer_flow_is_a_shift_in_the_interior():
    image = torch.rand(1, 2, 10, 12)
    flow = torch.zeros(1, 2, 10, 12)
    flow[:, 0], flow[:, 1] = 2.0, -1.0  # sample 2 px to the right, 1 px up
    out = warp(image, flow)
    # out[y, x] = image[y - 1, x + 2] wherever that lies inside the image.
    assert torch.allclose(out[..., 1:, :-2], image[..., :-1, 2:], atol=1e-6)


def test_half_pixel_flow_interpolates_bilinearly():
    image = torch.arange(12.0).view(1, 1, 3, 4)
    flow = torch.zeros(1, 2, 3, 4)
    flow[:, 0] = 0.5
    out = warp(image, flow)
    assert torch.allclose(out[..., :3], (image[..., :3] + image[..., 1:]) / 2)


def test_border_padding_repeats_the_edge():
    image = torch.arange(4.0).view(1, 1, 1, 4).expand(1, 1, 2, 4).contiguous()
    flow = torch.full((1, 2, 2, 4), 0.0)
    flow[:, 0] = 10.0  # far outside on the right
    assert torch.allclose(warp(image, flow), torch.full_like(image, 3.0))


def test_pixel_grid_is_x_then_y():
    grid = pixel_grid(2, 3, torch.zeros(1))
    assert grid.shape == (1, 2, 2, 3)
    assert grid[0, 0, 1, 2] == 2 and grid[0, 1, 1, 2] == 1
