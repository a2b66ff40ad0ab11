"""The pixel path: the photo's own pixels, moved into frame i's pose at the photo's full resolution.

The networks run on small crops (64-448 px); a person pasted back from such a crop is as blurry as the crop
is small. Here the appearance flow (the geometric part-wise flow, cpfnet.body.limb_flow, or a learned flow
upsampled: flows are smooth and resize exactly, cpfnet.ops.warp) samples the full-size photo directly, so
every visible part keeps the photo's real texture, face and colours; only what the photo does not show has
to be generated (vid2vid's and few-shot vid2vid's `m * warped + (1 - m) * hallucinated`).

Everything works on a *region*: the part of the photo frame i's person can reach (`body_region`), so the cost
follows the person's size in the photo, not the photo's.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from cpfnet.body.limb_flow import body_size, geometric_flow
from cpfnet.ops.warp import warp
from cpfnet.ops.workspace import Workspace

REGION_MARGIN = 0.45  # of the body size, around the keypoints: hands, feet, hair and loose clothes


def body_region(pose: np.ndarray, width: int, height: int, margin: float = REGION_MARGIN,
                min_confidence: float = 0.1) -> tuple[int, int, int, int]:
    """Integer box (x0, y0, x1, y1), inside a width x height frame, that holds the body of pose [18, 3]
    (frame pixels): its confident keypoints grown by `margin` body sizes. Empty (x0 == x1) without one."""
    ok = pose[:, 2] >= min_confidence
    if not ok.any():
        return 0, 0, 0, 0
    pad = margin * float(body_size(torch.from_numpy(pose[None].astype(np.float64)), min_confidence)[0])
    xs, ys = pose[ok, 0], pose[ok, 1]
    x0, y0 = max(0, math.floor(xs.min() - pad)), max(0, math.floor(ys.min() - pad))
    x1, y1 = min(width, math.ceil(xs.max() + pad)), min(height, math.ceil(ys.max() + pad))
    return x0, y0, max(x0, x1), max(y0, y1)


def photo_source(photo: np.ndarray, mask: np.ndarray, device=None) -> torch.Tensor:
    """RGB uint8 photo [H, W, 3] and person mask [H, W] (bool or [0, 1]) -> [1, 4, H, W] float32: RGB in grey
    levels 0..255 and the mask in [0, 1], made once per target photo (one sampling then moves both)."""
    image = torch.from_numpy(np.ascontiguousarray(photo)).permute(2, 0, 1)[None].float()
    alpha = torch.from_numpy(np.ascontiguousarray(mask, np.float32))[None, None]
    return torch.cat([image, alpha], dim=1).to(device)


def geometric_region_flow(photo_pose: np.ndarray, frame_pose: np.ndarray,
                          region: tuple[int, int, int, int]) -> dict[str, torch.Tensor]:
    """`geometric_flow` on a region of the frame canvas: photo_pose [18, 3] in photo pixels, frame_pose
    [18, 3] in frame pixels (the same canvas as the photo) -> its outputs over the region [1, *, h, w],
    the flow in photo pixels."""
    x0, y0, x1, y1 = region
    shifted = frame_pose.astype(np.float64).copy()
    shifted[:, 0] -= x0
    shifted[:, 1] -= y0
    source = torch.from_numpy(photo_pose.astype(np.float64))[None]
    return {k: v.float() for k, v in geometric_flow(source, torch.from_numpy(shifted)[None], y1 - y0, x1 - x0).items()}


def warp_photo(source: torch.Tensor, flow: torch.Tensor, reach: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Sample `photo_source`'s [1, 4, H, W] where `flow` [B, 2, h, w] (photo pixels) points -> {"image":
    [B, 3, h, w] in grey levels, "alpha": [B, 1, h, w], the warped mask, times `reach` where given (outside it
    the flow means nothing)}."""
    warped = warp(source.expand(flow.shape[0], -1, -1, -1), flow.to(source.dtype))
    alpha = warped[:, 3:4]
    if reach is not None:
        alpha = alpha * reach
    return {"image": warped[:, :3], "alpha": alpha.clamp(0, 1)}


def sample_crop(x: torch.Tensor, crop_box, region: tuple[int, int, int, int]) -> torch.Tensor:
    """Crop-resolution maps [B, C, S, S] of `crop_box` (photo pixels) -> [B, C, h, w] on the region's photo
    pixels, bilinear (the crop's edge values continue beyond it): the networks' outputs at full resolution."""
    b, _, s, _ = x.shape
    x0, y0, x1, y1 = region
    cx0, cy0, cx1, cy1 = (float(v) for v in crop_box)
    # Region pixel centres straight into grid_sample's [-1, 1] crop coordinates (align_corners=False).
    xs = (torch.arange(x0, x1, dtype=x.dtype, device=x.device) + 0.5 - cx0) * (2 / (cx1 - cx0)) - 1
    ys = (torch.arange(y0, y1, dtype=x.dtype, device=x.device) + 0.5 - cy0) * (2 / (cy1 - cy0)) - 1
    grid = torch.stack([xs[None, :].expand(len(ys), -1), ys[:, None].expand(-1, len(xs))], dim=-1)[None]
    return F.grid_sample(x, grid.expand(b, -1, -1, -1), mode="bilinear", padding_mode="border",
                         align_corners=False)


def mask_region(mask: np.ndarray, crop_box, region: tuple[int, int, int, int],
                threshold: float = 1 / 255) -> tuple[int, int, int, int]:
    """The part of `region` where `sample_crop` of the crop mask [S, S] (numpy) can reach `threshold`.

    A bilinear sample is a mix of four crop pixels, so outside the crop pixels at or above the threshold
    (grown by one) it stays below it: a composite weighted by it changes no pixel by more than one grey
    level there, and is left out. Empty (x0 == x1) when no pixel reaches it. In numpy, not torch: torch's
    OpenMP threads spin for a while after a parallel op, and took the cores from OpenCV's calls after it
    (the paste 1.4x slower at crops of 256 and more)."""
    on = mask >= threshold
    rows, cols = np.flatnonzero(on.any(axis=1)), np.flatnonzero(on.any(axis=0))
    if not len(rows):
        return region[0], region[1], region[0], region[1]
    s = mask.shape[-1]
    cx0, cy0, cx1, cy1 = (float(v) for v in crop_box)
    x0, y0, x1, y1 = region
    sx, sy = (cx1 - cx0) / s, (cy1 - cy0) / s
    (i0, i1), (j0, j1) = (int(rows.min()), int(rows.max())), (int(cols.min()), int(cols.max()))
    # Crop pixel j holds the sample at photo x = cx0 + (j + 0.5) * sx; its weight is 0 one crop pixel away.
    # At the crop's edge the border padding continues it to the region's edge.
    left = x0 if j0 == 0 else max(x0, math.floor(cx0 + (j0 - 0.5) * sx))
    right = x1 if j1 == s - 1 else min(x1, math.ceil(cx0 + (j1 + 1.5) * sx))
    top = y0 if i0 == 0 else max(y0, math.floor(cy0 + (i0 - 0.5) * sy))
    bottom = y1 if i1 == s - 1 else min(y1, math.ceil(cy0 + (i1 + 1.5) * sy))
    return left, top, max(left, right), max(top, bottom)


def box_region(box, width: int, height: int) -> tuple[int, int, int, int]:
    """The integer pixels of a width x height frame that `box` (x0, y0, x1, y1), photo pixels, touches."""
    x0, y0, x1, y1 = box
    return (max(0, math.floor(x0)), max(0, math.floor(y0)), min(width, math.ceil(x1)), min(height, math.ceil(y1)))


def photo_rgba(photo: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """RGB uint8 photo [H, W, 3] and person mask [H, W] (bool or [0, 1]) -> [H, W, 4] uint8, the mask x 255 as
    the fourth channel: `paste_photo`'s source, made once per target photo (one remap moves both)."""
    alpha = np.round(np.asarray(mask, np.float32) * 255).astype(np.uint8)
    return np.ascontiguousarray(np.dstack([photo, alpha]))


def paste_photo(background: np.ndarray, rgba: np.ndarray, flow: torch.Tensor, frame_box, appearance_box,
                bound: torch.Tensor, out: np.ndarray | None = None, work: Workspace | None = None) -> np.ndarray:
    """The default pixel path: the photo's own pixels moved along a crop flow, within a crop mask.

    background [H, W, 3] uint8 (frame i's, photo-sized); rgba `photo_rgba(photo, mask)`; flow [1, 2, S, S] and
    bound [1, 1, S, S] on frame i's crop of `frame_box` (the flow points into the appearance crop of
    `appearance_box`) -> the frame: the background, and over the box the photo sampled along the flow (bilinear),
    weighted by the warped photo mask x the bound (bilinear). The same as `warp_photo` + `composite` on the
    box, but only where the bound reaches 1/255 (`mask_region`), and in OpenCV on uint8: its remap samples
    at 1/32 pixel and the mask is 8-bit: a few grey levels from float sampling on sharp edges, 0.03 on average
    (tests/test_pixel_path.py). `work`: a `Workspace` kept from frame to frame, so that the region-sized
    buffers are not mapped afresh every frame; `out`: the frame's buffer, holding a copy of the background
    (`FrameBuffers`; a new copy by default)."""
    height, width = background.shape[:2]
    frame = background.copy() if out is None else out
    crop_bound = bound[0, 0].float().cpu().numpy()
    region = mask_region(crop_bound, frame_box, box_region(frame_box, width, height))
    x0, y0, x1, y1 = region
    if x1 <= x0 or y1 <= y0:
        return frame
    s = flow.shape[-1]
    ax0, ay0, ax1, ay1 = (float(v) for v in appearance_box)
    work = work or Workspace()
    # The crop flow -> photo pixels in OpenCV's convention (pixel centres at integers), on the S x S crop
    # (cheaper than on the region; upsampling is linear, so the order does not matter): remap's maps of x and
    # of y, [S, S] each (planar: contiguous numpy work, and remap takes them so).
    crop_flow, crop_xy = flow[0].float().cpu().numpy(), []
    for c, (name, low, high) in enumerate((("crop_x", ax0, ax1), ("crop_y", ay0, ay1))):
        plane = np.multiply(crop_flow[c], (high - low) / s, out=work(name, (s, s), np.float32))
        crop_xy.append(np.add(plane, low - 0.5, out=plane))
    # The bound in 1/255 steps, like the photo mask: OpenCV interpolates uint8 several times faster than float.
    crop_bound = cv2.convertScaleAbs(crop_bound, dst=work("crop_bound", (s, s), np.uint8), alpha=255)  # rounds
    photo_x, photo_y, weight = (upsample_to_region(c, frame_box, region, work, name)
                                for name, c in zip(("x", "y", "weight"), (*crop_xy, crop_bound)))
    shape = (y1 - y0, x1 - x0)
    warped = cv2.remap(rgba, photo_x, photo_y, cv2.INTER_LINEAR, dst=work("warped", shape + (4,), np.uint8),
                       borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    # The warped photo mask x the bound (both 0..255) -> [0, 1]; blendLinear normalises its weights' sum.
    mask = cv2.extractChannel(warped, 3, dst=work("mask", shape, np.uint8))
    alpha = cv2.multiply(mask, weight, scale=1 / 255 ** 2, dst=work("alpha", shape, np.float32), dtype=cv2.CV_32F)
    # Straight into the frame's view: a numpy copy of the region into the frame costs more than the blend.
    cv2.blendLinear(cv2.cvtColor(warped, cv2.COLOR_RGBA2RGB, dst=work("rgb", shape + (3,), np.uint8)),
                    background[y0:y1, x0:x1], alpha, np.subtract(1, alpha, out=work("under", shape, np.float32)),
                    dst=frame[y0:y1, x0:x1])
    return frame


def upsample_to_region(crop: np.ndarray, box, region: tuple[int, int, int, int], work: Workspace,
                       name: str) -> np.ndarray:
    """`sample_crop` in OpenCV: a crop map [S, S] of `box` -> [h, w] on the region's photo pixels, bilinear.

    Region pixel (x, y) reads crop position ((x + 0.5 - cx0) S / box width - 0.5, ...), the crop's edge values
    beyond it: cv2.resize's lookup where the box is on whole pixels (`follow_boxes(whole_pixels=True)`),
    region pixel x being pixel x - cx0 of the crop resized to the box. Bilinear is separable, so it resizes
    the crop's rows to the box's width, keeps the region's columns, and resizes those to the box's height:
    about 10x cheaper per pixel than warpAffine, which takes any box (its weights in 1/32 steps). A uint8
    map is rounded after each pass (at most one level from one pass)."""
    s = crop.shape[0]
    x0, y0, x1, y1 = region
    cx0, cy0, cx1, cy1 = (float(v) for v in box)
    if all(v.is_integer() for v in (cx0, cy0, cx1, cy1)):
        bx, by, width, height = int(cx0), int(cy0), int(cx1 - cx0), int(cy1 - cy0)
        across = cv2.resize(crop, (width, s), dst=work(name + "_across", (s, width), crop.dtype),
                            interpolation=cv2.INTER_LINEAR)[:, x0 - bx:x1 - bx]
        down = cv2.resize(across, (x1 - x0, height), dst=work(name, (height, x1 - x0), crop.dtype),
                          interpolation=cv2.INTER_LINEAR)
        return down[y0 - by:y1 - by]
    kx, ky = s / (cx1 - cx0), s / (cy1 - cy0)
    lookup = np.array([[kx, 0, (x0 + 0.5 - cx0) * kx - 0.5], [0, ky, (y0 + 0.5 - cy0) * ky - 0.5]])
    return cv2.warpAffine(crop, lookup, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          dst=work(name, (y1 - y0, x1 - x0), crop.dtype), borderMode=cv2.BORDER_REPLICATE)


def crop_flow_to_photo(flow: torch.Tensor, frame_box, appearance_box, region: tuple[int, int, int, int]) -> torch.Tensor:
    """A flow predicted on crops -> the same flow on a region of the photo canvas, in photo pixels.

    flow [B, 2, S, S]: for each pixel of frame i's S x S crop (of `frame_box`, photo pixels), the pixel of the
    appearance crop (of `appearance_box`) it samples. Each region pixel is looked up in frame i's crop
    (bilinear: the flow is smooth) and the crop position it gets is mapped to photo pixels."""
    s = flow.shape[-1]
    ax0, ay0, ax1, ay1 = (float(v) for v in appearance_box)
    scale = flow.new_tensor([(ax1 - ax0) / s, (ay1 - ay0) / s]).view(1, 2, 1, 1)
    offset = flow.new_tensor([ax0, ay0]).view(1, 2, 1, 1)
    return sample_crop(flow, frame_box, region) * scale + offset


def composite(background: np.ndarray, region: tuple[int, int, int, int], image: torch.Tensor,
              alpha: torch.Tensor, out: np.ndarray | None = None) -> np.ndarray:
    """Blend image [1, 3, h, w] in grey levels 0..255 with weight alpha [1, 1, h, w] in [0, 1] into the region of
    `background` [H, W, 3] uint8; only the region is touched (written into `out`, a copy of the background by
    default)."""
    x0, y0, x1, y1 = region
    frame = background.copy() if out is None else out
    if x1 <= x0 or y1 <= y0:
        return frame
    under = torch.from_numpy(background[y0:y1, x0:x1]).to(image.device).permute(2, 0, 1)[None].float()
    # lerp of two values in 0..255 stays in it: + 0.5 and truncation round to the nearest level.
    blended = torch.lerp(under, image, alpha).add_(0.5)
    frame[y0:y1, x0:x1] = blended[0].permute(1, 2, 0).to(torch.uint8).cpu().numpy()
    return frame
