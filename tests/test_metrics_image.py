"""PSNR and SSIM: known values, an independent SSIM formula, boxes, errors, gradients."""

import math

import numpy as np
import pytest
import torch

from cpfnet.evaluation.image_metrics import frames_to_batch, gaussian_window, mse, psnr, ssim, ssim_map


def _pair(seed=0, shape=(2, 3, 24, 30), noise=0.05):
    g = torch.Generator().manual_seed(seed)
    a = torch.rand(*shape, generator=g, dtype=torch.float64)
    b = (a + noise * torch.randn(*shape, generator=g, dtype=torch.float64)).clamp(0, 1)
    return a, b


def _ssim_by_windows(x: np.ndarray, y: np.ndarray, data_range: float) -> float:
    """Wang et al. (2004) written out window by window: weighted means, variances and covariance."""
    r = np.arange(11) - 5
    g = np.exp(-r ** 2 / (2 * 1.5 ** 2))
    w = np.outer(g, g)
    w /= w.sum()
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    values = []
    for c in range(x.shape[0]):
        for i in range(x.shape[1] - 10):
            for j in range(x.shape[2] - 10):
                px, py = x[c, i:i + 11, j:j + 11], y[c, i:i + 11, j:j + 11]
                mx, my = (w * px).sum(), (w * py).sum()
                vx, vy = (w * (px - mx) ** 2).sum(), (w * (py - my) ** 2).sum()
                cov = (w * (px - mx) * (py - my)).sum()
                values.append((2 * mx * my + c1) * (2 * cov + c2) / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2)))
    return float(np.mean(values))


def test_identical_images_give_ssim_one_and_psnr_infinity():
    a, _ = _pair()
    assert torch.allclose(ssim(a, a), torch.ones(2, dtype=torch.float64))
    assert torch.isinf(psnr(a, a)).all() and (psnr(a, a) > 0).all()
    u = (a * 255).round().to(torch.uint8)
    assert torch.isinf(psnr(u, u)).all()
    assert torch.allclose(ssim(u, u), torch.ones(2, dtype=torch.float64))


def test_psnr_of_a_known_mse():
    target = torch.zeros(1, 3, 8, 8, dtype=torch.float64)
    assert psnr(target + 0.1, target).item() == pytest.approx(20.0, abs=1e-9)  # MSE 0.01 on [0, 1]
    t8 = torch.zeros(1, 3, 8, 8, dtype=torch.uint8)
    assert mse(t8 + 10, t8).item() == 100.0
    assert psnr(t8 + 10, t8).item() == pytest.approx(10 * math.log10(255 ** 2 / 100), abs=1e-9)
    assert psnr(target + 0.1, target, data_range=2.0).item() == pytest.approx(10 * math.log10(4 / 0.01), abs=1e-9)


def test_ssim_matches_the_formula_window_by_window():
    a, b = _pair(seed=1, shape=(1, 3, 14, 17), noise=0.2)
    expected = _ssim_by_windows(a[0].numpy(), b[0].numpy(), 1.0)
    assert ssim(a, b).item() == pytest.approx(expected, rel=1e-10)
    u, v = (a * 255).round().to(torch.uint8), (b * 255).round().to(torch.uint8)
    expected_u = _ssim_by_windows(u[0].double().numpy(), v[0].double().numpy(), 255.0)
    assert ssim(u, v).item() == pytest.approx(expected_u, rel=1e-10)
    assert ssim_map(a, b).shape == (1, 3, 4, 7)


def test_ssim_is_symmetric_bounded_and_falls_with_noise():
    a, _ = _pair(seed=2)
    scores = []
    for noise in (0.02, 0.1, 0.3):
        _, b = _pair(seed=2, noise=noise)
        s = ssim(a, b)
        assert torch.allclose(s, ssim(b, a))
        assert ((s > -1) & (s < 1)).all()
        scores.append(s.mean().item())
    assert scores[0] > scores[1] > scores[2]


def test_box_restricts_the_comparison_to_the_crop():
    a, b = _pair(seed=3, shape=(2, 3, 40, 50))
    box = (10, 5, 35, 30)  # x0, y0, x1, y1
    b_outside = b.clone()
    b_outside[:, :, :, :10] = 1 - b_outside[:, :, :, :10]  # only outside the box
    crop = (slice(None), slice(None), slice(5, 30), slice(10, 35))
    assert torch.allclose(psnr(a, b_outside, box=box), psnr(a[crop], b[crop]))
    assert torch.allclose(ssim(a, b_outside, box=box), ssim(a[crop], b[crop]))
    per_image = torch.tensor([[10, 5, 35, 30], [0, 0, 50, 40]])
    got = psnr(a, b, box=per_image)
    assert got[0] == psnr(a[:1][crop], b[:1][crop])[0] and got[1] == psnr(a[1:], b[1:])[0]
    # Boxes are clipped to the image.
    assert torch.allclose(psnr(a, b, box=(-20, -20, 80, 90)), psnr(a, b))


def test_float32_and_uint8_batches_from_frames():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (3, 16, 20, 3), dtype=np.uint8)
    batch = frames_to_batch(frames)
    assert batch.shape == (3, 3, 16, 20) and batch.dtype == torch.uint8
    as_float = batch.float() / 255
    noisy = (as_float + 0.01).clamp(0, 1)
    assert psnr(as_float, noisy).dtype == torch.float32
    assert ssim(batch, batch).dtype == torch.float64


@pytest.mark.parametrize("call, message", [
    (lambda a, b: psnr(a, b[:, :, :-1]), "one shape"),
    (lambda a, b: psnr(a[0], b[0]), "one shape"),
    (lambda a, b: psnr(a, b.float()), "dtype"),
    (lambda a, b: psnr(a.long(), b.long()), "uint8 or floating"),
    (lambda a, b: ssim(a[..., :10, :], b[..., :10, :]), "at least 11x11"),
    (lambda a, b: psnr(a, b, box=(100, 100, 120, 120)), "no pixel"),
    (lambda a, b: psnr(a, b, box=torch.zeros(3, 4)), "box must be"),
    (lambda a, b: psnr(a, b, data_range=0), "positive"),
])
def test_bad_inputs_raise(call, message):
    a, b = _pair()
    with pytest.raises(ValueError, match=message):
        call(a, b)


def test_gaussian_window_is_normalised_and_symmetric():
    g = gaussian_window(11, 1.5)
    assert g.sum().item() == pytest.approx(1.0) and torch.allclose(g, g.flip(0)) and g.argmax() == 5
    with pytest.raises(ValueError):
        gaussian_window(10)


def test_gradients_in_float64():
    a, b = _pair(seed=4, shape=(1, 1, 11, 12), noise=0.2)
    a.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: psnr(x, b), (a,), fast_mode=True)
    assert torch.autograd.gradcheck(lambda x: ssim(x, b), (a,), fast_mode=True)
