"""Crop geometry, all of it: boxes, points between a photo and its crops, cutting crops and pasting them back.

Coordinates are continuous pixels (`cpfnet.ops.warp`): pixel (i, j) covers [j, j+1) x [i, i+1). A box is
(x0, y0, x1, y1) in a photo's continuous pixels; its `size` x `size` crop maps photo point (x, y) to
((x - x0) * size / (x1 - x0), (y - y0) * size / (y1 - y0)): the x scale for x, the y scale for y, so boxes
may be non-square (cpfnet's own are square). Boxes may reach outside the photo (a person at the border):
the outside is filled by `border`. One affine warp does crop and resize at once, with that same mapping.

    points   photo_to_crop, crop_to_photo            keypoints [..., 18, 3], boxes as two corners
    boxes    follow_boxes, box_region                the target's box moved with the neck, per frame; its pixels
    images   crop_box, uncrop, paste_back, move_crop numpy images [H, W(, C)] (cv2)
    flows    crop_flow                               where each pixel of one crop sits in another
"""

from __future__ import annotations

import cv2
import numpy as np

from cpfnet.body.keypoints import INDEX
from cpfnet.ops.workspace import Workspace

NECK = INDEX["neck"]


def _corners(boxes) -> tuple[np.ndarray, ...]:
    """Boxes [..., 4] -> x0, y0, x1, y1 [..., 1] (float64), to broadcast over a points axis."""
    b = np.asarray(boxes, np.float64)
    if b.shape[-1:] != (4,):
        raise ValueError(f"boxes must be [..., 4] (x0, y0, x1, y1), got {b.shape}")
    return tuple(b[..., None, k] for k in range(4))


def _float(points) -> np.ndarray:
    points = np.asarray(points)
    if points.ndim < 2 or points.shape[-1] < 2:
        raise ValueError(f"points must be [..., N, >=2] with (x, y) first, got {points.shape}")
    return points if points.dtype.kind == "f" else points.astype(np.float64)


def photo_to_crop(points, boxes, size: int) -> np.ndarray:
    """Points [..., N, C] (x, y first; other columns such as confidence unchanged) in photo pixels -> pixels of
    the `size` x `size` crop of `boxes` ([4], or [..., 4] with the points' leading dims: one box per frame).
    The mapping `crop_box` cuts with; the result has the points' float dtype."""
    points = _float(points)
    x0, y0, x1, y1 = _corners(boxes)
    out = points.copy()
    out[..., 0] = (points[..., 0] - x0) * (size / (x1 - x0))
    out[..., 1] = (points[..., 1] - y0) * (size / (y1 - y0))
    return out


def crop_to_photo(points, boxes, size: int) -> np.ndarray:
    """The inverse of `photo_to_crop`: points [..., N, C] in crop pixels -> photo pixels."""
    points = _float(points)
    x0, y0, x1, y1 = _corners(boxes)
    out = points.copy()
    out[..., 0] = x0 + points[..., 0] * ((x1 - x0) / size)
    out[..., 1] = y0 + points[..., 1] * ((y1 - y0) / size)
    return out


def box_photo_to_crop(inner, boxes, size: int) -> np.ndarray:
    """Boxes `inner` [..., 4] in photo pixels -> crop pixels of `boxes` (the two corners as points)."""
    inner = np.asarray(inner, np.float64)
    corners = photo_to_crop(inner.reshape(*inner.shape[:-1], 2, 2), boxes, size)
    return corners.reshape(inner.shape)


def box_crop_to_photo(inner, boxes, size: int) -> np.ndarray:
    """The inverse of `box_photo_to_crop`."""
    inner = np.asarray(inner, np.float64)
    corners = crop_to_photo(inner.reshape(*inner.shape[:-1], 2, 2), boxes, size)
    return corners.reshape(inner.shape)


def follow_boxes(poses: np.ndarray, box, anchor_frame: int = 0, min_confidence: float = 0.1,
                 whole_pixels: bool = False) -> np.ndarray:
    """Per-frame crop boxes [T, 4] for poses [T, 18, 3] in photo pixels: `box` moved with the neck, so that at
    `anchor_frame` it is `box` itself. The size stays the box's, so the person keeps the scale of the
    appearance image I_a. Frames where the neck is lost (confidence < min_confidence) take the neck
    interpolated from the frames around them (the nearest at the ends); without any neck the box stays.
    `whole_pixels`: every corner on a whole pixel (the top-left rounded, the size the box's rounded: at most
    half a pixel of scale), where the pixel path's paste upsamples with cv2.resize (`paste_photo`)."""
    box = np.asarray(box, np.float64)
    neck = poses[:, NECK, :2].astype(np.float64)
    seen = poses[:, NECK, 2] >= min_confidence
    if not seen.any():
        shift = np.zeros((len(poses), 2))
    else:
        t = np.arange(len(poses))
        neck = np.stack([np.interp(t, t[seen], neck[seen, k]) for k in range(2)], axis=1)  # fill gaps
        shift = neck - neck[min(anchor_frame, len(poses) - 1)]
    corner = box[:2] + shift
    size = box[2:] - box[:2]
    if whole_pixels:
        corner, size = np.round(corner), np.round(size)
    return np.concatenate([corner, corner + size], axis=1)


def _crop_matrix(box, size: int) -> np.ndarray:
    """The 2 x 3 affine of `photo_to_crop` on cv2's pixel indices (cv2 puts pixel k at k, not k + 0.5)."""
    x0, y0, x1, y1 = (float(v) for v in box)
    sx, sy = size / (x1 - x0), size / (y1 - y0)
    # Continuous-coordinate map u = (x - x0) * s; cv2 works on pixel centres, hence the half-pixel terms.
    return np.array([[sx, 0, -x0 * sx + 0.5 * sx - 0.5], [0, sy, -y0 * sy + 0.5 * sy - 0.5]], np.float64)


def crop_box(image: np.ndarray, box, size: int, labels: bool = False, border: str = "replicate",
             shrunk: dict | None = None) -> np.ndarray:
    """Crop `box` of `image` [H, W(, C)] and resize it to [size, size(, C)].

    `labels` uses nearest sampling (label maps) instead of area/linear. `border` is 'replicate' (images:
    no black bars at the frame's edge) or 'constant' (zeros: masks, labels). `shrunk`: a dict kept by a caller
    that cuts many boxes of one size from one image (a video's frames from one photo): the whole-image
    area shrink is made once per scale and reused, with the same result."""
    matrix = _crop_matrix(box, size)
    shrink = matrix[0, 0] < 1
    interpolation = cv2.INTER_NEAREST if labels else (cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    if interpolation == cv2.INTER_AREA:  # warpAffine has no area mode: pre-shrink with resize, then warp
        factor = matrix[0, 0]
        h, w = image.shape[:2]
        small_size = (max(1, round(w * factor)), max(1, round(h * factor)))
        small = shrunk.get(small_size) if shrunk is not None else None
        if small is None:
            small = cv2.resize(image, small_size, interpolation=cv2.INTER_AREA)
            if shrunk is not None:
                shrunk[small_size] = small
        fx, fy = small.shape[1] / w, small.shape[0] / h
        box = (box[0] * fx, box[1] * fy, box[2] * fx, box[3] * fy)
        # Warp directly: rounding the shrunk size can leave a scale just under 1, and recursing on it
        # would shrink again, forever.
        image, matrix, interpolation = small, _crop_matrix(box, size), cv2.INTER_LINEAR
    mode = cv2.BORDER_REPLICATE if border == "replicate" else cv2.BORDER_CONSTANT
    return cv2.warpAffine(image, matrix, (size, size), flags=interpolation, borderMode=mode, borderValue=0)


def uncrop(crop: np.ndarray, box, width: int, height: int, labels: bool = False,
           border: str = "constant") -> np.ndarray:
    """Map a [size, size(, C)] crop back onto a [height, width(, C)] frame: zeros outside the box ('constant'),
    or the crop's edge pixels repeated ('replicate')."""
    matrix = cv2.invertAffineTransform(_crop_matrix(box, crop.shape[0]))
    flags = cv2.INTER_NEAREST if labels else cv2.INTER_LINEAR
    mode = cv2.BORDER_REPLICATE if border == "replicate" else cv2.BORDER_CONSTANT
    return cv2.warpAffine(crop, matrix, (width, height), flags=flags, borderMode=mode, borderValue=0)


def box_coverage(box, width: int, height: int) -> np.ndarray:
    """[height, width] float32: the fraction of each pixel's square inside `box` (1 inside, 0 outside)."""
    x0, y0, x1, y1 = (float(v) for v in box)
    xs, ys = np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64)
    cover_x = np.clip(np.minimum(xs + 1, x1) - np.maximum(xs, x0), 0, 1)
    cover_y = np.clip(np.minimum(ys + 1, y1) - np.maximum(ys, y0), 0, 1)
    return np.outer(cover_y, cover_x).astype(np.float32)


def box_region(box, width: int, height: int) -> tuple[int, int, int, int]:
    """The integer pixels (x0, y0, x1, y1) that `box` touches, inside a width x height frame (may be empty)."""
    x0, y0, x1, y1 = (float(v) for v in box)
    rx0, ry0 = min(width, max(0, int(np.floor(x0)))), min(height, max(0, int(np.floor(y0))))
    return rx0, ry0, max(rx0, min(width, int(np.ceil(x1)))), max(ry0, min(height, int(np.ceil(y1))))


def _support_region(mask: np.ndarray, box, width: int, height: int) -> tuple[int, int, int, int]:
    """The frame pixels where the crop's mask [S, S] can be non-zero once mapped through `box`: its non-zero
    crop pixels' bounds, one crop pixel wider (bilinear sampling reaches that far), in the box's region."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if len(rows) == 0:
        return 0, 0, 0, 0
    inner = (cols[0] - 1, rows[0] - 1, cols[-1] + 2, rows[-1] + 2)  # crop pixels, continuous corners
    x0, y0, x1, y1 = box_region(box_crop_to_photo(np.asarray(inner, np.float64), box, mask.shape[0]), width, height)
    bx0, by0, bx1, by1 = box_region(box, width, height)
    x0, y0 = max(x0, bx0), max(y0, by0)
    return x0, y0, max(x0, min(x1, bx1)), max(y0, min(y1, by1))


def _uncrop_region(crop: np.ndarray, box, region: tuple[int, int, int, int],
                   dst: np.ndarray | None = None) -> np.ndarray:
    """`uncrop(crop, box, ..., border="replicate")` on the region's pixels only: [y1 - y0, x1 - x0(, C)] (into
    `dst` where given)."""
    x0, y0, x1, y1 = region
    matrix = cv2.invertAffineTransform(_crop_matrix(box, crop.shape[0]))
    matrix[:, 2] -= (x0, y0)  # the same map, its output origin moved to the region's corner
    return cv2.warpAffine(crop, matrix, (x1 - x0, y1 - y0), dst=dst, flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def paste_back(frame: np.ndarray, crop: np.ndarray, box, mask: np.ndarray | None = None,
               work: Workspace | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """Paste an RGB crop [S, S, 3] into a copy of `frame` [H, W, 3] at `box`.

    `mask` [S, S] float in [0, 1] blends softly (1 = crop); by default the whole box is replaced. Pixels
    entirely outside the box keep `frame`'s values exactly (the crop's interpolation does not spill over the
    box's edge; an edge pixel takes the crop in proportion to its area inside). The work is done only where
    the mask can reach (its bounds in the box), never on the whole frame: a few ms at 720 x 1280. `work`: a
    `Workspace` kept from frame to frame for the region-sized buffers; `out`: the result's buffer, holding a
    copy of `frame` (`FrameBuffers`; a new copy by default)."""
    h, w = frame.shape[:2]
    result = frame.copy() if out is None else out
    alpha = np.ones(crop.shape[:2], np.float32) if mask is None else mask.astype(np.float32)
    region = _support_region(alpha, box, w, h)
    x0, y0, x1, y1 = region
    if x1 <= x0 or y1 <= y0:
        return result
    work = work or Workspace()
    shape = (y1 - y0, x1 - x0)
    # Replicate, then cut at the box: the box's edge pixels get the crop's edge, not a blend with black.
    alpha = _uncrop_region(alpha, box, region, work("paste_alpha", shape, np.float32))
    bx0, by0, bx1, by1 = (float(v) for v in box)
    for axis, start, low, high in ((1, x0, bx0, bx1), (0, y0, by0, by1)):  # box_coverage, on the edge pixels only
        at = np.arange(start, start + alpha.shape[axis], dtype=np.float64)
        cover = np.clip(np.minimum(at + 1, high) - np.maximum(at, low), 0, 1).astype(np.float32)
        edge = np.flatnonzero(cover < 1)
        if axis == 1:
            alpha[:, edge] *= cover[edge]
        else:
            alpha[edge] *= cover[edge, None]
    # One pass of uint8 in, uint8 out (OpenCV's blend: a * placed + (1 - a) * frame, rounded), no float frame.
    # Written straight into the result's view: a numpy copy of the region into it costs about as much as the blend.
    cv2.blendLinear(_uncrop_region(crop, box, region, work("paste_crop", shape + crop.shape[2:], crop.dtype)),
                    frame[y0:y1, x0:x1], alpha, np.subtract(1, alpha, out=work("paste_under", shape, np.float32)),
                    dst=result[y0:y1, x0:x1])
    return result


def _move_matrix(from_box, to_box, size: int, from_size: int) -> np.ndarray:
    """cv2 affine taking pixel indices of the `size` crop of `to_box` to those of the `from_size` crop of
    `from_box`: crop_to_photo then photo_to_crop (as 3 x 3 matrices, composed)."""
    to_crop = np.vstack([_crop_matrix(to_box, size), [0, 0, 1]])
    from_crop = np.vstack([_crop_matrix(from_box, from_size), [0, 0, 1]])
    return (from_crop @ np.linalg.inv(to_crop))[:2]


def move_crop(crop: np.ndarray, from_box, to_box, size: int, labels: bool = False) -> np.ndarray:
    """A crop [s, s(, C)] of `from_box` -> the `size` x `size` crop of `to_box` (both boxes in one photo's
    pixels), in one warp; zeros where `from_box` does not reach. `labels`: nearest sampling."""
    matrix = _move_matrix(from_box, to_box, size, crop.shape[0])
    flags = (cv2.INTER_NEAREST if labels else cv2.INTER_LINEAR) | cv2.WARP_INVERSE_MAP
    return cv2.warpAffine(crop, matrix, (size, size), flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def crop_flow(from_boxes, to_boxes, size: int, from_size: int | None = None) -> np.ndarray:
    """For every pixel of the `size` crop of `to_boxes` [B, 4], its position in the `from_size` (default
    `size`) crop of `from_boxes` [B, 4]: an absolute flow [B, 2, size, size] float64, which
    `cpfnet.ops.warp.warp` takes to move a crop tensor from one box to the other (as `move_crop` does an
    image)."""
    a, b = np.asarray(from_boxes, np.float64), np.asarray(to_boxes, np.float64)
    if a.ndim != 2 or a.shape[1] != 4 or b.shape != a.shape:
        raise ValueError(f"boxes must be two [B, 4], got {a.shape} and {b.shape}")
    centres = np.arange(size, dtype=np.float64)[None, :, None] + 0.5  # [1, size, 1]: points along one axis
    xs = np.concatenate([centres, np.zeros_like(centres)], axis=2)
    ys = np.concatenate([np.zeros_like(centres), centres], axis=2)
    x = photo_to_crop(crop_to_photo(xs, b, size), a, from_size or size)[..., 0]  # [B, size]
    y = photo_to_crop(crop_to_photo(ys, b, size), a, from_size or size)[..., 1]
    return np.stack([np.broadcast_to(x[:, None, :], (len(a), size, size)),
                     np.broadcast_to(y[:, :, None], (len(a), size, size))], axis=1)
