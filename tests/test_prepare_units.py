"""The pieces of `cpfnet prepare` on synthetic data (no MediaPipe): pose cleanup, crops, masks, the
coarse parser, backgrounds, inputs and photos."""

import cv2
import numpy as np
import pytest

from cpfnet.body.parsing_labels import LABEL
from cpfnet.errors import UserError
from cpfnet.ops.crop import photo_to_crop
from cpfnet.prepare.background import MedianBackground, inpaint_background, median_background
from cpfnet.prepare.coarse_parser import coarse_parsing
from cpfnet.prepare.crop_track import crop_boxes, inside_frame, person_box
from cpfnet.prepare.inputs import dataset_names, find_inputs, parse_shard, read_photo, take_shard
from cpfnet.prepare.pose_cleanup import FILLED_CONFIDENCE, appearance_index, fill_gaps, smooth_poses
from cpfnet.prepare.pose_mediapipe import mediapipe_to_coco
from cpfnet.prepare.segmentation import mask_box, person_mask

# ---------------------------------------------------------------------------------------------------------
# Pose cleanup


def _track(values, conf=1.0):
    """[T] x positions of every joint -> [T, 18, 3] (y = 2x)."""
    t = len(values)
    poses = np.zeros((t, 18, 3), np.float32)
    poses[..., 0] = np.asarray(values, np.float32)[:, None]
    poses[..., 1] = 2 * poses[..., 0]
    poses[..., 2] = conf
    return poses


def test_short_gaps_are_interpolated_long_ones_and_ends_are_not():
    poses = _track(np.arange(20) * 3.0)
    poses[5:8, 4, 2] = 0  # 3 missing frames: filled
    poses[10:19, 6, 2] = 0  # 9 missing frames: too long
    poses[0:2, 7, 2] = 0  # at the start: nothing to interpolate from
    poses[5:8, 4, :2] = -999  # meaningless coordinates where missing
    out = fill_gaps(poses, max_gap=8)
    np.testing.assert_allclose(out[5:8, 4, 0], [15, 18, 21])
    np.testing.assert_allclose(out[5:8, 4, 1], [30, 36, 42])
    assert np.all(out[5:8, 4, 2] == pytest.approx(FILLED_CONFIDENCE))
    assert np.all(out[10:19, 6, 2] == 0) and np.all(out[0:2, 7, 2] == 0)
    assert poses[5, 4, 2] == 0  # the input is not modified


def test_low_confidence_counts_as_missing():
    poses = _track(np.arange(10.0))
    poses[4, 2, 2] = 0.05
    out = fill_gaps(poses, max_gap=2, min_confidence=0.1)
    assert out[4, 2, 0] == pytest.approx(4.0) and out[4, 2, 2] == pytest.approx(FILLED_CONFIDENCE)


def test_savgol_removes_noise_keeps_a_quadratic_and_ignores_missing_frames():
    rng = np.random.default_rng(0)
    t = np.arange(60, dtype=np.float32)
    clean = 0.05 * t ** 2 + t
    poses = _track(clean + rng.normal(0, 2, 60))
    smooth = smooth_poses(poses, window=9, order=2)
    rms = lambda x: float(np.sqrt(np.mean((x - clean) ** 2)))  # noqa: E731
    assert rms(smooth[:, 3, 0]) < 0.75 * rms(poses[:, 3, 0])
    exact = smooth_poses(_track(clean), window=9, order=2)
    np.testing.assert_allclose(exact[:, 0, 0], clean, atol=1e-2)  # order 2 keeps a parabola exactly
    # A missing stretch with garbage coordinates must neither change nor pull on its neighbours.
    holey = _track(clean)
    holey[20:30, 5, :2] = 0
    holey[20:30, 5, 2] = 0
    out = smooth_poses(holey, window=9, order=2)
    np.testing.assert_allclose(out[:20, 5, 0], clean[:20], atol=1e-2)
    np.testing.assert_allclose(out[30:, 5, 0], clean[30:], atol=1e-2)
    assert np.all(out[20:30, 5, :2] == 0)
    np.testing.assert_array_equal(out[..., 2], holey[..., 2])


@pytest.mark.parametrize("length", [1, 2, 3, 4, 6])
def test_savgol_handles_videos_shorter_than_the_window(length):
    poses = _track(np.arange(length) * 1.5)
    out = smooth_poses(poses, window=9, order=2)
    assert out.shape == poses.shape and np.isfinite(out).all()
    np.testing.assert_allclose(out[..., 0], poses[..., 0], atol=1e-3)  # a line stays a line


def test_appearance_index_is_the_largest_confidence_sum():
    poses = _track(np.arange(5.0), conf=0.5)
    poses[3, :, 2] = 0.9
    poses[1, :10, 2] = 1.0
    assert appearance_index(poses) == 3


# ---------------------------------------------------------------------------------------------------------
# MediaPipe landmarks -> COCO-18


def test_mediapipe_landmarks_map_to_coco18():
    landmarks = np.zeros((33, 3), np.float32)
    landmarks[:, 2] = 0.9
    landmarks[11] = (0.6, 0.3, 0.8)  # person's left shoulder, on the image's right when facing us
    landmarks[12] = (0.4, 0.3, 0.7)
    landmarks[0] = (0.5, 0.1, 1.0)
    landmarks[28] = (0.45, 1.2, 0.9)  # right ankle below the image
    coco = mediapipe_to_coco(landmarks, width=200, height=100)
    assert coco.shape == (18, 3)
    np.testing.assert_allclose(coco[2], (80, 30, 0.7))  # right shoulder = MediaPipe 12
    np.testing.assert_allclose(coco[5], (120, 30, 0.8))
    np.testing.assert_allclose(coco[1], (100, 30, 0.7))  # neck: middle, the smaller confidence
    np.testing.assert_allclose(coco[0], (100, 10, 1.0))
    assert coco[10, 2] == 0  # outside the image


# ---------------------------------------------------------------------------------------------------------
# Crop boxes


def test_person_box_is_the_union_of_mask_and_confident_keypoints():
    kp = np.zeros((18, 3), np.float32)
    kp[0] = (50, 10, 1)
    kp[1] = (55, 40, 0.9)
    kp[2] = (500, 500, 0.1)  # not confident: ignored
    assert person_box(kp, (40, 20, 70, 90)) == (40, 10, 70, 90)
    assert person_box(None, None) is None


def test_a_person_staying_in_place_gets_one_fixed_box():
    rng = np.random.default_rng(1)
    boxes = np.array([[100, 50, 200, 350]] * 40, np.float64) + rng.normal(0, 4, (40, 4))
    squares, mode = crop_boxes(boxes, padding=0.1, mode="auto")
    assert mode == "fixed" and np.ptp(squares, axis=0).max() == 0
    side = squares[0, 2] - squares[0, 0]
    assert side == pytest.approx(squares[0, 3] - squares[0, 1])
    assert np.all(squares[:, :2] <= boxes[:, :2]) and np.all(squares[:, 2:] >= boxes[:, 2:])


def test_a_moving_person_is_followed_smoothly_and_kept_inside():
    rng = np.random.default_rng(2)
    t = np.arange(120)
    x = 100 + 4 * t  # walks right across a wide frame
    raw = np.stack([x, np.full_like(x, 100), x + 80, np.full_like(x, 300)], axis=1).astype(np.float64)
    noisy = raw + rng.normal(0, 3, raw.shape)
    raw_jitter = np.abs(np.diff((noisy[:, 0] + noisy[:, 2]) / 2, 2)).mean()
    noisy[50:54] = np.nan  # lost for a few frames
    squares, mode = crop_boxes(noisy, padding=0.1, mode="auto", window=15)
    assert mode == "track"
    assert np.isfinite(squares).all()
    sides = squares[:, 2] - squares[:, 0]
    np.testing.assert_allclose(sides, squares[:, 3] - squares[:, 1])
    inside = (squares[:, 0] <= raw[:, 0]) & (squares[:, 2] >= raw[:, 2]) & \
        (squares[:, 1] <= raw[:, 1]) & (squares[:, 3] >= raw[:, 3])
    assert inside.mean() > 0.97
    centre = (squares[:, 0] + squares[:, 2]) / 2
    jitter = np.abs(np.diff(centre, 2)).mean()
    assert jitter < 0.2 * raw_jitter
    assert np.abs(np.diff(sides)).max() < 3


def test_boxes_are_shifted_inside_the_frame_when_they_fit():
    squares = np.array([[-20.0, 10, 80, 110], [-50, -50, 250, 250]])
    out = inside_frame(squares, width=200, height=150)
    np.testing.assert_allclose(out[0], (0, 10, 100, 110))
    np.testing.assert_allclose(out[1], squares[1])  # larger than the frame: left alone
    # Padding never makes a box larger than the frame's longer side when the person fits in it.
    fixed, _ = crop_boxes(np.array([[10.0, 5, 90, 195]] * 5), padding=0.2, mode="fixed", frame_size=(100, 200))
    np.testing.assert_allclose(fixed[0], (-50, 0, 150, 200))


def test_keypoints_follow_the_crop():
    kp = np.array([[150.0, 250.0, 0.9]] * 18, np.float32)
    out = photo_to_crop(kp, (100, 200, 300, 400), 64)
    np.testing.assert_allclose(out[0], (16, 16, 0.9))


# ---------------------------------------------------------------------------------------------------------
# Masks


def test_person_mask_keeps_the_blob_with_the_keypoints_and_notices_others():
    prob = np.zeros((100, 200), np.float32)
    prob[10:90, 20:60] = 0.9  # the person (keypoints inside)
    prob[15:25, 62:70] = 0.8  # a hand cut off by the threshold, inside the person's box
    prob[10:95, 120:180] = 0.95  # someone else, larger
    kp = np.zeros((18, 3), np.float32)
    kp[:4] = [(30, 20, 1), (40, 50, 1), (50, 80, 1), (65, 20, 0.9)]
    mask, others = person_mask(prob, kp)
    assert others and mask[50, 40] and mask[20, 65] and not mask[50, 150]
    largest, _ = person_mask(prob, None)
    assert largest[50, 150] and not largest[50, 40]
    assert mask_box(mask) == (20, 10, 70, 90)
    assert mask_box(np.zeros((4, 4), bool)) is None


# ---------------------------------------------------------------------------------------------------------
# Coarse parser


def _figure(size=256):
    """A stick figure facing the camera (its right on the image's left) and its mask."""
    kp = np.zeros((18, 3), np.float32)
    points = {0: (128, 40), 1: (128, 70), 2: (100, 72), 3: (90, 110), 4: (86, 145), 5: (156, 72),
              6: (166, 110), 7: (170, 145), 8: (112, 140), 9: (110, 185), 10: (108, 225), 11: (144, 140),
              12: (146, 185), 13: (148, 225), 14: (121, 34), 15: (135, 34), 16: (114, 38), 17: (142, 38)}
    for i, (x, y) in points.items():
        kp[i] = (x, y, 1.0)
    mask = np.zeros((size, size), np.uint8)
    cv2.ellipse(mask, (128, 34), (17, 22), 0, 0, 360, 1, -1)
    cv2.fillPoly(mask, [np.array([points[2], points[5], points[11], points[8]], np.int32)], 1)
    for a, b, w in ((1, 0, 10), (2, 3, 12), (3, 4, 10), (5, 6, 12), (6, 7, 10), (8, 9, 16), (9, 10, 12),
                    (11, 12, 16), (12, 13, 12)):
        cv2.line(mask, points[a], points[b], 1, w)
    for w in (4, 7):
        cv2.circle(mask, (int(kp[w, 0]), int(kp[w, 1]) + 8), 7, 1, -1)
    for a in (10, 13):
        cv2.ellipse(mask, (int(kp[a, 0]), int(kp[a, 1]) + 8), (9, 7), 0, 0, 360, 1, -1)
    return kp, mask.astype(bool)


def test_coarse_parser_labels_each_part_on_the_right_side():
    kp, mask = _figure()
    labels = coarse_parsing(mask, kp)
    assert labels.dtype == np.uint8 and labels.shape == mask.shape
    assert np.all(labels[~mask] == 0) and np.all(labels[mask] > 0)
    # The person's right arm is on the image's left (they face the camera).
    assert labels[125, 88] == LABEL["right_arm"] and labels[125, 168] == LABEL["left_arm"]
    assert labels[34, 128] == LABEL["face"] and labels[14, 128] == LABEL["hair"]
    assert labels[100, 128] == LABEL["upper_clothes"]
    assert labels[165, 111] == LABEL["pants"] and labels[165, 145] == LABEL["pants"]
    assert labels[234, 108] == LABEL["right_shoe"] and labels[234, 148] == LABEL["left_shoe"]
    present = set(np.unique(labels)) - {0}
    assert {LABEL[n] for n in ("face", "hair", "upper_clothes", "left_arm", "right_arm", "pants", "left_shoe",
                               "right_shoe")} <= present


def test_coarse_parser_tells_sleeves_and_bare_legs_by_colour():
    kp, mask = _figure()
    image = np.zeros((256, 256, 3), np.uint8)
    skin, shirt, shorts, hair = (225, 180, 160), (40, 60, 170), (20, 20, 20), (90, 50, 20)
    image[:] = skin
    image[55:150] = shirt  # a shirt with long sleeves down to y=150 (covers the forearms too)
    image[:20] = hair
    image[20:50, 108:116] = hair
    image[20:50, 140:148] = hair
    image[130:165] = shorts  # high-waisted shorts from y=130 (hips at y=140) to y=165, bare legs below
    image[112:115, 124:127] = shorts  # a dark check on the shirt
    labels = coarse_parsing(mask, kp, image)
    assert labels[133, 128] == LABEL["pants"]  # the waistband above the hip joints
    assert labels[113, 125] == LABEL["upper_clothes"]
    assert labels[100, 92] == LABEL["upper_clothes"]  # a sleeve, not an arm
    assert labels[152, 86] == LABEL["right_arm"]  # the bare hand
    assert labels[150, 111] == LABEL["pants"] and labels[200, 110] == LABEL["right_leg"]
    assert labels[200, 147] == LABEL["left_leg"]
    assert labels[38, 128] == LABEL["face"] and labels[15, 128] == LABEL["hair"]


def test_coarse_parser_without_keypoints_or_mask():
    _, mask = _figure()
    labels = coarse_parsing(mask, np.zeros((18, 3), np.float32))
    assert set(np.unique(labels)) == {0, LABEL["upper_clothes"]}
    assert not coarse_parsing(np.zeros((8, 8), bool), np.zeros((18, 3), np.float32)).any()


# ---------------------------------------------------------------------------------------------------------
# Background


def _scene(h=120, w=160):
    yy, xx = np.mgrid[:h, :w]
    scene = np.stack([xx * 255 // w, yy * 255 // h, (xx + yy) % 40 * 6], axis=-1).astype(np.uint8)
    return scene


def test_inpainting_removes_the_person():
    scene = _scene()
    frame = scene.copy()
    mask = np.zeros(scene.shape[:2], bool)
    mask[30:90, 60:90] = True
    frame[mask] = (255, 0, 0)
    out = inpaint_background(frame, mask, dilation=3)
    assert out.shape == frame.shape and out.dtype == np.uint8
    assert not np.any(np.all(out == (255, 0, 0), axis=-1))
    assert np.abs(out[mask].astype(int) - scene[mask]).mean() < 40
    np.testing.assert_array_equal(out[~np.pad(mask, 3)[3:-3, 3:-3]][:10], frame[~mask][:10])
    with pytest.raises(ValueError):
        inpaint_background(frame, mask[:10], dilation=3)


def _walk(scene, n, step=3):
    for i in range(n):
        frame = scene.copy()
        mask = np.zeros(scene.shape[:2], bool)
        x = 10 + (i * step) % (scene.shape[1] - 40)
        mask[20:100, x:x + 25] = True
        frame[mask] = (255, 0, 255)
        yield frame, mask


def test_median_background_recovers_what_the_person_hid_with_bounded_memory():
    scene = _scene()
    sampler = MedianBackground(capacity=8)  # length unknown: the stride doubles as it fills
    for i, (frame, mask) in enumerate(_walk(scene, 300)):
        sampler.offer(i, frame, mask)
        assert len(sampler) <= 8
    background, hole = sampler.result()
    seen = ~hole
    assert seen.mean() > 0.9
    assert np.abs(background[seen].astype(int) - scene[seen]).mean() < 2
    filled = median_background((f for f, _ in _walk(scene, 60)), (m for _, m in _walk(scene, 60)), capacity=10)
    assert np.abs(filled.astype(int) - scene).mean() < 4


def test_median_background_refuses_a_moving_camera():
    scene = np.random.default_rng(3).integers(0, 255, (120, 400, 3), np.uint8)
    frames = [scene[:, 2 * i:2 * i + 160].copy() for i in range(40)]
    masks = [np.zeros((120, 160), bool)] * 40
    assert median_background(frames, masks, capacity=8) is None


# ---------------------------------------------------------------------------------------------------------
# Inputs and photos


def test_inputs_names_and_shards(tmp_path):
    (tmp_path / "a").mkdir()
    for name in ("clip.mp4", "clip.jpg", ".hidden.mp4", "notes.txt", "b c.mov"):
        (tmp_path / "a" / name).write_bytes(b"x")
    (tmp_path / "clip.mp4").write_bytes(b"x")
    inputs = find_inputs([tmp_path / "a", tmp_path / "clip.mp4", tmp_path / "a" / "clip.mp4"])
    assert [p.name for p in inputs] == ["b c.mov", "clip.jpg", "clip.mp4", "clip.mp4"]
    assert dataset_names(inputs) == ["b_c", "clip", "clip-2", "clip-3"]
    with pytest.raises(UserError, match="no such file"):
        find_inputs([tmp_path / "missing.mp4"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="has no videos"):
        find_inputs([tmp_path / "empty"])
    assert parse_shard("1/3") == (1, 3)
    for bad in ("3/3", "x", "1/0", "-1/2"):
        with pytest.raises(UserError, match="--shard"):
            parse_shard(bad)
    items = list(range(10))
    shards = [take_shard(items, (i, 3)) for i in range(3)]
    assert shards[1] == [1, 4, 7] and sorted(sum(shards, [])) == items


def test_photo_with_alpha_is_composited_on_white(tmp_path):
    rgba = np.zeros((40, 60, 4), np.uint8)
    rgba[..., :3] = (0, 0, 0)  # transparent pixels carry black colour
    rgba[10:30, 20:40] = (0, 0, 255, 255)  # an opaque red square (BGRA)
    rgba[5, 5] = (0, 0, 255, 128)  # half transparent red
    cv2.imwrite(str(tmp_path / "cut_out.png"), rgba)
    image = read_photo(tmp_path / "cut_out.png")
    assert image.shape == (40, 60, 3)
    np.testing.assert_array_equal(image[0, 0], (255, 255, 255))
    np.testing.assert_array_equal(image[20, 30], (255, 0, 0))
    assert tuple(image[5, 5]) == pytest.approx((255, 127, 127), abs=2)


def test_photo_exif_orientation_is_applied(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    upright = np.zeros((60, 40, 3), np.uint8)
    upright[:10] = (255, 0, 0)  # red on top
    stored = np.ascontiguousarray(np.rot90(upright, 1))  # the camera stored it turned a quarter left
    image = pil.fromarray(stored)
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    image.save(tmp_path / "phone.jpg", exif=exif.tobytes(), quality=95)
    out = read_photo(tmp_path / "phone.jpg")
    assert out.shape == (60, 40, 3)
    assert out[:8, :, 0].mean() > 200 and out[20:, :, 0].mean() < 60
    # Alpha and orientation together: the transparent part turns with the picture.
    rgba = np.zeros((40, 60, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[:, :10, 3] = 0  # transparent on the stored left = the displayed top
    rgba[:, 10:, :3] = 30
    image = pil.fromarray(rgba, "RGBA")
    exif = image.getexif()
    exif[0x0112] = 6
    image.save(tmp_path / "phone.png", exif=exif.tobytes())
    out = read_photo(tmp_path / "phone.png")
    assert out.shape == (60, 40, 3)
    assert out[:8].min() == 255 and out[20:].max() < 60


def test_unreadable_photo_is_a_one_line_error(tmp_path):
    bad = tmp_path / "photo.jpg"
    bad.write_text("not a picture")
    with pytest.raises(UserError, match="not a readable image") as excinfo:
        read_photo(bad)
    assert "\n" not in str(excinfo.value)
