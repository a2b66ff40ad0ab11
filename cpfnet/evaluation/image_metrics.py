"""Frame metrics: PSNR and SSIM, on the whole frame or inside a box (the person's crop).

Pure, shape-checked functions on image batches [B, C, H, W]:
- uint8 images are on [0, 255] (data range 255) and are computed in float64, exactly;
- float images are on [0, 1] unless `data_range` says otherwise, and are computed in their own dtype
  (float64 in, float64 out; differentiable).
Each returns one value per image, [B]; average them over frames and videos as the table needs.

SSIM follows Wang, Bovik, Sheikh & Simoncelli (2004): an 11 x 11 Gaussian window with sigma 1.5,
K1 = 0.01, K2 = 0.03, statistics over 'valid' window positions only (no padding), the SSIM map averaged
over positions and channels. No automatic downsampling.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

Box = Sequence[float]  # (x0, y0, x1, y1) pixels, x1/y1 exclusive
Boxes = Box | torch.Tensor | np.ndarray | None  # one box for all images, or [B, 4]


def frames_to_batch(frames: np.ndarray) -> torch.Tensor:
    """RGB frames [T, H, W, 3] (numpy, any dtype) -> tensor [T, 3, H, W] of the same dtype."""
    if frames.ndim != 4 or frames.shape[3] != 3:
        raise ValueError(f"expected frames [T, H, W, 3], got shape {frames.shape}")
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2)


def _prepare(pred: torch.Tensor, target: torch.Tensor, data_range: float | None):
    if not isinstance(pred, torch.Tensor) or not isinstance(target, torch.Tensor):
        raise TypeError(f"expected tensors, got {type(pred).__name__} and {type(target).__name__}")
    if pred.ndim != 4 or pred.shape != target.shape:
        raise ValueError(f"expected two image batches [B, C, H, W] of one shape, got {list(pred.shape)} "
                         f"and {list(target.shape)}")
    if pred.dtype != target.dtype:
        raise ValueError(f"images differ in dtype: {pred.dtype} and {target.dtype}")
    if pred.dtype == torch.uint8:
        pred, target = pred.double(), target.double()
        data_range = 255.0 if data_range is None else data_range
    elif pred.is_floating_point():
        if pred.dtype in (torch.float16, torch.bfloat16):  # too coarse for squared differences
            pred, target = pred.float(), target.float()
        data_range = 1.0 if data_range is None else data_range
    else:
        raise ValueError(f"images must be uint8 or floating point, got {pred.dtype}")
    if data_range <= 0:
        raise ValueError(f"data_range must be positive, got {data_range}")
    return pred, target, float(data_range)


def _box_slices(boxes: Boxes, batch: int, height: int, width: int) -> list[tuple[slice, slice]]:
    """Per image (rows, cols) of a box rounded to whole pixels and clipped to the image."""
    array = np.asarray(boxes, dtype=np.float64)
    if array.shape == (4,):
        array = np.broadcast_to(array, (batch, 4))
    if array.shape != (batch, 4):
        raise ValueError(f"box must be (x0, y0, x1, y1) or [B, 4] with B = {batch}, got shape {array.shape}")
    slices = []
    for x0, y0, x1, y1 in np.rint(array).astype(np.int64):
        x0, x1 = max(int(x0), 0), min(int(x1), width)
        y0, y1 = max(int(y0), 0), min(int(y1), height)
        if x1 <= x0 or y1 <= y0:
            raise ValueError(f"box {tuple(array[len(slices)])} leaves no pixel of a {width}x{height} image")
        slices.append((slice(y0, y1), slice(x0, x1)))
    return slices


def _per_image(fn, pred: torch.Tensor, target: torch.Tensor, box: Boxes) -> torch.Tensor:
    """fn on the whole batch, or per image on each image's box."""
    if box is None:
        return fn(pred, target)
    slices = _box_slices(box, pred.shape[0], pred.shape[2], pred.shape[3])
    return torch.cat([fn(pred[i:i + 1, :, rows, cols], target[i:i + 1, :, rows, cols])
                      for i, (rows, cols) in enumerate(slices)])


def _mean_squared_error(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return (pred - target).square().flatten(1).mean(dim=1)


def mse(pred: torch.Tensor, target: torch.Tensor, box: Boxes = None) -> torch.Tensor:
    """Mean squared error per image [B] (uint8 in [0, 255] units, floats in their own)."""
    pred, target, _ = _prepare(pred, target, None)
    return _per_image(_mean_squared_error, pred, target, box)


def psnr(pred: torch.Tensor, target: torch.Tensor, data_range: float | None = None, box: Boxes = None) -> torch.Tensor:
    """PSNR in dB per image [B]: 10 log10(data_range^2 / MSE). Identical images give +inf.

    pred, target: [B, C, H, W], uint8 (data_range 255) or float (data_range 1 unless given).
    box: None (full frame), (x0, y0, x1, y1), or per-image boxes [B, 4], in pixels, x1/y1 exclusive.
    """
    pred, target, data_range = _prepare(pred, target, data_range)
    error = _per_image(_mean_squared_error, pred, target, box)
    return 10.0 * torch.log10(data_range ** 2 / error)


def gaussian_window(window_size: int = 11, sigma: float = 1.5, dtype: torch.dtype = torch.float64,
                    device: torch.device | str = "cpu") -> torch.Tensor:
    """Normalised 1-D Gaussian [window_size] centred on the middle tap."""
    if window_size < 1 or window_size % 2 == 0:
        raise ValueError(f"window_size must be odd and positive, got {window_size}")
    coords = torch.arange(window_size, dtype=torch.float64) - (window_size - 1) / 2
    g = torch.exp(-coords.square() / (2 * sigma ** 2))
    return (g / g.sum()).to(dtype=dtype, device=device)


def _filter_valid(x: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian filter over 'valid' positions: [N, C, H, W] -> [N, C, H-k+1, W-k+1]."""
    channels = x.shape[1]
    k = window.numel()
    x = F.conv2d(x, window.view(1, 1, k, 1).expand(channels, 1, k, 1), groups=channels)
    return F.conv2d(x, window.view(1, 1, 1, k).expand(channels, 1, 1, k), groups=channels)


def ssim_map(pred: torch.Tensor, target: torch.Tensor, data_range: float | None = None, window_size: int = 11,
             sigma: float = 1.5, k1: float = 0.01, k2: float = 0.03) -> torch.Tensor:
    """Local SSIM [B, C, H - window_size + 1, W - window_size + 1] of image batches [B, C, H, W]."""
    pred, target, data_range = _prepare(pred, target, data_range)
    if min(pred.shape[2:]) < window_size:
        raise ValueError(f"SSIM needs images of at least {window_size}x{window_size} pixels, got "
                         f"{pred.shape[3]}x{pred.shape[2]}")
    window = gaussian_window(window_size, sigma, pred.dtype, pred.device)
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    # One filter pass over the five stacked statistics.
    b, c = pred.shape[:2]
    stats = _filter_valid(torch.cat([pred, target, pred * pred, target * target, pred * target], dim=1), window)
    mu_p, mu_t, e_pp, e_tt, e_pt = stats.split(c, dim=1)
    var_p = e_pp - mu_p.square()
    var_t = e_tt - mu_t.square()
    cov = e_pt - mu_p * mu_t
    return ((2 * mu_p * mu_t + c1) * (2 * cov + c2)) / ((mu_p.square() + mu_t.square() + c1) * (var_p + var_t + c2))


def ssim(pred: torch.Tensor, target: torch.Tensor, data_range: float | None = None, box: Boxes = None,
         window_size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """Mean SSIM per image [B] (Wang et al. 2004); 1 for identical images.

    pred, target: [B, C, H, W], uint8 (data_range 255) or float (data_range 1 unless given).
    box: None (full frame), (x0, y0, x1, y1), or per-image boxes [B, 4]; a box must hold the window.
    """
    _prepare(pred, target, data_range)  # check before cropping
    return _per_image(lambda p, t: ssim_map(p, t, data_range, window_size, sigma).flatten(1).mean(dim=1),
                      pred, target, box)
