"""Square crops and pasting them back."""

import numpy as np

from cpfnet.ops.crop import crop_box, paste_back, uncrop


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
