"""Crop geometry: points and boxes between a photo and its crops, cutting crops, moving and pasting them."""

import numpy as np
import pytest
import torch

from cpfnet.ops.crop import (box_coverage, box_crop_to_photo, box_photo_to_crop, crop_box, crop_flow, crop_to_photo,
                             follow_boxes, move_crop, paste_back, photo_to_crop, uncrop)
from cpfnet.ops.warp import identity_flow, warp


def _image():
    return np.random.default_rng(0).integers(0, 256, (60, 80, 3), dtype=np.uint8)


def test_crop_without_resize_is_exact():
    image = _image()
    np.testing.assert_array_equal(crop_box(image, (10, 5, 40, 35), 30), image[5:35, 10:40])


def test_downscaled_crop_averages():
    image = _image()
    small = crop_box(image, (0, 0, 40, 40), 20)
    want = image[:40, :40].reshape(20, 2, 20, 2, 3).mean(axis=(1, 3))
    assert np.abs(small.astype(float) - want).max() <= 1


def test_box_outside_the_frame_replicates_or_zeroes():
    image = _image()
    crop = crop_box(image, (-20, 0, 20, 40), 40)
    np.testing.assert_array_equal(crop[:, 0], image[:40, 0])  # replicated left edge
    labels = np.full((60, 80), 5, np.uint8)
    crop_labels = crop_box(labels, (-20, 0, 20, 40), 40, labels=True, border="constant")
    assert set(np.unique(crop_labels)) == {0, 5} and (crop_labels[:, :20] == 0).all()


def test_paste_back_inverts_crop():
    image = _image()
    box = (12, 8, 52, 48)
    crop = crop_box(image, box, 40)
    np.testing.assert_array_equal(paste_back(image, crop, box), image)
    black = np.zeros_like(crop)
    mask = np.zeros((40, 40), np.float32)
    mask[10:30, 10:30] = 1
    pasted = paste_back(image, black, box, mask)
    assert (pasted[8 + 12:8 + 28, 12 + 12:12 + 28] == 0).all()
    np.testing.assert_array_equal(pasted[:8], image[:8])
    assert uncrop(np.ones((10, 10), np.float32), box, 80, 60).sum() == 40 * 40


# --- one convention for points, boxes and images (cpfnet.ops.crop's docstring) ------------------------------

def test_points_and_boxes_round_trip_photo_crop_photo():
    rng = np.random.default_rng(1)
    boxes = np.array([[12.5, -7.25, 52.5, 72.75], [-3.0, 4.0, 61.0, 36.0]])  # non-square: x and y scales differ
    points = np.concatenate([rng.uniform(-10, 90, (2, 18, 2)), rng.uniform(0, 1, (2, 18, 1))], axis=2)
    crop = photo_to_crop(points, boxes, 64)
    np.testing.assert_allclose(crop_to_photo(crop, boxes, 64), points, atol=1e-9)
    np.testing.assert_array_equal(crop[..., 2], points[..., 2])  # confidences unchanged
    # The box's own corners land on the crop's corners, each axis with its own scale.
    corners = photo_to_crop(boxes.reshape(2, 2, 2), boxes, 64)
    np.testing.assert_allclose(corners.reshape(2, 4), [[0, 0, 64, 64]] * 2, atol=1e-12)
    np.testing.assert_allclose(crop[1, :, 1], (points[1, :, 1] - 4.0) * 64 / 32)  # y scale 2, not x's 1
    inner = np.array([[20.0, 10.0, 30.0, 40.0], [0.0, 5.0, 10.0, 35.0]])
    np.testing.assert_allclose(box_crop_to_photo(box_photo_to_crop(inner, boxes, 64), boxes, 64), inner, atol=1e-9)
    # One box for every frame, and float32 keypoints stay float32.
    kp = points[0].astype(np.float32)
    assert photo_to_crop(kp, boxes[0], 64).dtype == np.float32
    np.testing.assert_allclose(photo_to_crop(kp, boxes[0], 64), crop[0], atol=1e-4)


def _centroid(image):
    ys, xs = np.mgrid[:image.shape[0], :image.shape[1]] + 0.5  # pixel centres
    weight = image.astype(np.float64)
    return np.array([(xs * weight).sum(), (ys * weight).sum()]) / weight.sum()


@pytest.mark.parametrize("box, size", [((10.0, 5.0, 50.0, 25.0), 40),     # 1x in x, 2x in y: non-square
                                       ((4.0, 2.0, 68.0, 66.0), 32),      # shrunk (area), square
                                       ((7.3, 3.9, 39.3, 35.9), 64)])     # fractional, enlarged
def test_crop_box_puts_a_marked_spot_where_the_point_mapping_says(box, size):
    image = np.zeros((60, 80), np.float32)
    image[14:16, 26:28] = 1.0  # a 2x2 spot centred on (27, 15)
    spot = _centroid(crop_box(image, box, size, border="constant"))
    np.testing.assert_allclose(spot, photo_to_crop(np.array([[27.0, 15.0]]), box, size)[0], atol=0.05)
    back = _centroid(uncrop(crop_box(image, box, size, border="constant"), box, 80, 60))
    np.testing.assert_allclose(back, [27.0, 15.0], atol=0.05)


def test_move_crop_agrees_with_the_photo_and_with_crop_flow():
    image = _image()
    a, b = (12.0, 8.0, 52.0, 48.0), (18.0, 4.0, 58.0, 44.0)
    moved = move_crop(crop_box(image, a, 40), a, b, 40)
    want = crop_box(image, b, 40)
    # Inside both boxes the moved crop is the photo's own crop of b; where a does not reach, zeros.
    np.testing.assert_array_equal(moved[4:, :34], want[4:, :34])
    assert (moved[:4] == 0).all() and (moved[:, 34:] == 0).all()
    # The tensor path (fusion's previous frame) moves the same way.
    tensor = torch.from_numpy(crop_box(image, a, 40)).permute(2, 0, 1)[None].float()
    flow = torch.from_numpy(crop_flow([a], [b], 40)).float()
    warped = warp(tensor, flow)[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(warped, moved, atol=0.51)
    np.testing.assert_allclose(crop_flow([a], [a], 40), identity_flow(1, 40, 40), atol=1e-5)


def test_pasting_leaves_the_photo_outside_the_box_untouched():
    image = _image()
    box = (10.4, 7.6, 50.4, 47.6)  # fractional and enlarged 2x: interpolation would spill over its edge
    pasted = paste_back(image, np.zeros((20, 20, 3), np.uint8), box)
    outside = box_coverage(box, 80, 60) == 0
    np.testing.assert_array_equal(pasted[outside], image[outside])
    assert (pasted[box_coverage(box, 80, 60) == 1] == 0).all()  # and the whole box replaced
    assert box_coverage(box, 80, 60).sum() == pytest.approx(40 * 40)


def test_follow_boxes_move_with_the_neck():
    poses = np.zeros((3, 18, 3), np.float32)
    poses[:, 1] = [[10, 10, 1], [15, 12, 1], [0, 0, 0]]  # the neck is lost in the last frame
    boxes = follow_boxes(poses, (0, 0, 40, 40))
    np.testing.assert_allclose(boxes[0], [0, 0, 40, 40])
    np.testing.assert_allclose(boxes[1], [5, 2, 45, 42])
    np.testing.assert_allclose(boxes[2], boxes[1])  # held, not thrown to the origin
    np.testing.assert_allclose(follow_boxes(poses, (0, 0, 40, 40), anchor_frame=1)[0], [-5, -2, 35, 38])


def test_whole_pixel_boxes_are_the_boxes_rounded_with_one_size():
    rng = np.random.default_rng(0)
    poses = np.ones((20, 18, 3), np.float32)
    poses[:, 1, :2] = rng.uniform(0, 50, (20, 2))
    box = (3.3, 4.6, 40.9, 60.2)
    exact, whole = follow_boxes(poses, box), follow_boxes(poses, box, whole_pixels=True)
    assert (whole == np.round(whole)).all()
    np.testing.assert_allclose(whole[:, 2:] - whole[:, :2], np.tile([38.0, 56.0], (20, 1)))  # the size rounded
    assert np.abs(whole[:, :2] - exact[:, :2]).max() <= 0.5


def test_paste_back_blends_only_where_the_mask_reaches_as_the_full_frame_blend_would():
    """The box-only paste equals eq. 5 computed on the whole frame in float32 (to OpenCV's rounding), and
    leaves every pixel the mask cannot reach exactly as it was."""
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:120, 0:90]
    frame = np.stack([xx * 2, yy * 2, (xx + yy) % 256], axis=-1).astype(np.uint8)  # smooth, as photos are
    s = 32
    cy, cx = np.mgrid[0:s, 0:s]
    crop = np.stack([cx * 8, cy * 8, 255 - cx * 4], axis=-1).astype(np.uint8)
    mask = np.zeros((s, s), np.float32)
    mask[4:28, 10:20] = rng.random((24, 10), dtype=np.float32)
    box = (20.3, -10.6, 84.3, 60.1)  # enlarged 2x, fractional, reaching over the frame's top
    h, w = frame.shape[:2]
    alpha = (uncrop(mask, box, w, h, border="replicate") * box_coverage(box, w, h))[..., None]
    placed = uncrop(crop, box, w, h, border="replicate").astype(np.float32)
    full = (placed * alpha + frame.astype(np.float32) * (1 - alpha)).round().clip(0, 255).astype(np.uint8)
    pasted = paste_back(frame, crop, box, mask)
    assert np.abs(pasted.astype(int) - full.astype(int)).max() <= 1
    assert (pasted != frame).any()
    reach = uncrop(np.ones((s, s), np.float32) * (mask > 0), box, w, h, border="constant") > 0
    np.testing.assert_array_equal(pasted[~reach], frame[~reach])  # untouched beyond the mask's reach
    np.testing.assert_array_equal(paste_back(frame, crop, box, np.zeros((s, s), np.float32)), frame)


def test_crop_box_reuses_the_shrunk_image_with_the_same_result():
    image = _image()
    shrunk: dict = {}
    for box in [(0.0, 0.0, 40.0, 40.0), (5.5, 3.25, 45.5, 43.25), (-10.0, 20.0, 30.0, 60.0)]:
        np.testing.assert_array_equal(crop_box(image, box, 16, shrunk=shrunk), crop_box(image, box, 16))
    assert len(shrunk) == 1  # one scale, one shrink
