"""`cpfnet prepare` end to end with real MediaPipe on the real sample footage, and every kind of bad input.

Quick tests use a cut of ../shared/real/dance.mp4 (its first frames at half size) and small crops; the
whole video runs in one slow test. They skip when the sample folder is absent.
"""

import json
import logging
import subprocess
import sys
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from cpfnet.body.openpose_json import write_openpose_json
from cpfnet.body.parsing_labels import LABEL
from cpfnet.dataset.layout import VideoFolder
from cpfnet.errors import UserError
from cpfnet.io.video import VideoWriter, iter_frames
from cpfnet.ops.crop import crop_box, photo_to_crop
from cpfnet.prepare.config import PrepareConfig
from cpfnet.prepare.inputs import read_photo
from cpfnet.prepare.photo import prepare_photo
from cpfnet.prepare.pose_mediapipe import PersonTracker
from cpfnet.prepare.video import pose_sequence, prepare_video

REAL = Path(__file__).resolve().parents[2] / "shared" / "real"
DANCE, PERSON = REAL / "dance.mp4", REAL / "person.jpg"
pytestmark = pytest.mark.skipif(not DANCE.is_file() or not PERSON.is_file(), reason="no ../shared/real samples")
SMALL = PrepareConfig(size=128)


def _write_video(path, frames, fps=16):
    with VideoWriter(path, fps=fps) as writer:
        for frame in frames:
            writer.write(frame)
    return path


def _half(frame):
    return cv2.resize(frame, (frame.shape[1] // 2, frame.shape[0] // 2), interpolation=cv2.INTER_AREA)


def _shapes(n, height, width):
    """Moving coloured shapes on grey: a video with nobody in it."""
    for i in range(n):
        frame = np.full((height, width, 3), 90, np.uint8)
        cv2.circle(frame, (20 + 9 * i, height // 3), 18, (230, 60, 40), -1)
        x = width - 60 - 5 * i
        cv2.rectangle(frame, (x, height // 2), (x + 40, height // 2 + 50), (40, 200, 90), -1)
        yield frame


def _leftovers(folder):
    return [p.name for p in Path(folder).iterdir() if p.name.startswith(".")]


@pytest.fixture(scope="module")
def dance_frames():
    return [_half(f) for f in iter_frames(DANCE, count=30)]


@pytest.fixture(scope="module")
def cut_video(tmp_path_factory, dance_frames):
    return _write_video(tmp_path_factory.mktemp("cut") / "dance_cut.mp4", dance_frames)


@pytest.fixture(scope="module")
def prepared_cut(tmp_path_factory, cut_video):
    out = tmp_path_factory.mktemp("prepared") / "dance_cut"
    return prepare_video(cut_video, out, SMALL, progress=False)


@pytest.fixture(scope="module")
def small_photo(tmp_path_factory):
    image = cv2.imread(str(PERSON))
    path = tmp_path_factory.mktemp("photo") / "person.jpg"
    cv2.imwrite(str(path), _half(image))
    return path


def test_prepared_video_has_the_dataset_layout(prepared_cut):
    video = VideoFolder(prepared_cut)
    meta = video.meta
    assert (meta.num_frames, meta.size, meta.fps) == (30, 128, 16.0)
    assert meta.original_size == [346, 554] and meta.source.endswith("dance_cut.mp4")
    assert meta.extra["kind"] == "video" and meta.extra["poses"] == "mediapipe"
    assert video.poses.shape == (30, 18, 3) and video.poses.dtype == np.float32
    boxes = np.array(meta.crop_boxes)
    assert boxes.shape == (30, 4)
    np.testing.assert_allclose(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1], atol=1e-2)
    for i in (0, 29):
        assert video.frame(i).shape == (128, 128, 3)
        assert video.parsing(i).shape == (128, 128) and video.parsing(i).max() < 20
    assert video.background().shape == (128, 128, 3)
    full = cv2.imread(str(prepared_cut / "background_full.png"))
    assert full.shape == (554, 346, 3)
    assert _leftovers(prepared_cut.parent) == []  # no scratch or partial folders


def test_appearance_frame_is_the_largest_confidence_sum(prepared_cut):
    video = VideoFolder(prepared_cut)
    sums = video.poses[..., 2].sum(axis=1)
    assert video.appearance_index == int(np.argmax(sums))
    np.testing.assert_array_equal(video.background(), cv2.cvtColor(
        cv2.imread(str(prepared_cut / "background.png")), cv2.COLOR_BGR2RGB))


def test_keypoints_parsing_and_crops_agree(prepared_cut):
    video = VideoFolder(prepared_cut)
    poses = video.poses
    confident = (poses[..., 2] > 0.5).sum(axis=1)
    assert (confident >= 14).mean() >= 0.95
    # The dancer faces the camera: her right shoulder, hip and eye are on the image's left.
    for right, left in ((2, 5), (8, 11), (14, 15)):
        assert (poses[:, right, 0] < poses[:, left, 0]).mean() > 0.9
    on_head = on_right_arm = 0
    for i in range(len(video)):
        labels = video.parsing(i)
        x, y = poses[i, 0, :2].astype(int)
        on_head += labels[y, x] in (LABEL["face"], LABEL["hair"])
        # Below the right wrist lies the right hand.
        wx, wy = poses[i, 4, :2].astype(int)
        window = labels[max(0, wy - 2):wy + 4, max(0, wx - 3):wx + 4]
        on_right_arm += LABEL["right_arm"] in window
    assert on_head >= 28 and on_right_arm >= 24
    labels = set(np.unique(video.parsing(video.appearance_index)))
    for name in ("face", "hair", "upper_clothes", "left_arm", "right_arm", "pants", "left_shoe", "right_shoe"):
        assert LABEL[name] in labels, name


def test_photo_is_a_one_frame_video(tmp_path, small_photo):
    out = prepare_video(small_photo, tmp_path / "person", SMALL, progress=False)
    video = VideoFolder(out)
    assert (video.meta.num_frames, video.meta.fps, video.appearance_index) == (1, 0.0, 0)
    assert video.meta.extra["kind"] == "photo"
    assert (video.poses[0, :, 2] > 0.5).all()  # the whole skeleton
    kp = video.poses[0]
    assert kp[0, 1] < kp[1, 1] < kp[8, 1] < kp[9, 1] < kp[10, 1]  # head to toe, upright
    labels = set(np.unique(video.parsing(0)))
    for name in ("face", "hair", "upper_clothes", "left_arm", "right_arm", "pants", "left_leg", "right_leg",
                 "left_shoe", "right_shoe"):
        assert LABEL[name] in labels, name


def test_prepare_photo_in_memory_matches_the_written_folder(tmp_path, small_photo):
    image = read_photo(small_photo)
    result = prepare_photo(image, SMALL)
    video = VideoFolder(prepare_video(small_photo, tmp_path / "person", SMALL, progress=False))
    np.testing.assert_array_equal(result["image"], video.frame(0))
    np.testing.assert_array_equal(result["parsing"], video.parsing(0))
    np.testing.assert_allclose(result["keypoints"], video.poses[0], atol=1e-3)
    np.testing.assert_allclose(result["box"], video.meta.crop_boxes[0], atol=1e-2)
    assert result["background_full"].shape == image.shape and result["mask_full"].shape == image.shape[:2]
    with pytest.raises(UserError, match="no person found"):
        prepare_photo(np.full((200, 120, 3), 128, np.uint8), SMALL)


def test_pose_sequence_gives_smoothed_poses_in_video_pixels(tmp_path, dance_frames):
    clip = _write_video(tmp_path / "clip.mp4", dance_frames[:10])
    poses, fps, size = pose_sequence(clip, progress=False)
    assert poses.shape == (10, 18, 3) and fps == 16.0 and size == (346, 554)
    assert ((poses[:, :, 0] >= 0) & (poses[:, :, 0] < 346)).all()


def test_poses_alone_skip_the_masks_but_give_the_same_poses(dance_frames):
    """pose_sequence's tracker runs MediaPipe without segmentation: same landmarks, no masks."""
    with_masks, alone = PersonTracker(masks=True), PersonTracker(masks=False)
    for frame in dance_frames[:8]:
        full, bare = with_masks(frame), alone(frame)
        assert full.found and bare.found and full.mask.any() and not bare.mask.any()
        np.testing.assert_allclose(bare.keypoints, full.keypoints, atol=0.05)


# ---------------------------------------------------------------------------------------------------------
# Bad input: one line naming the file, nothing left behind.


def _fails(path, out, match, config=SMALL):
    with pytest.raises(UserError, match=match) as excinfo:
        prepare_video(path, out, config, progress=False)
    message = str(excinfo.value)
    assert "\n" not in message and Path(path).name in message
    assert not out.exists() and _leftovers(out.parent) == []
    return message


def test_truncated_unreadable_and_non_video_files(tmp_path, cut_video):
    data = cut_video.read_bytes()
    half = tmp_path / "half.mp4"  # moov atom at the end: cut off, nothing is readable
    half.write_bytes(data[:len(data) // 2])
    _fails(half, tmp_path / "out_half", "not a readable video")
    # With the index up front (faststart), the first frames decode and then the file ends.
    fast = tmp_path / "fast.mp4"
    with av.open(str(cut_video)) as src, av.open(str(fast), "w", options={"movflags": "faststart"}) as dst:
        stream = dst.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                dst.mux(packet)
    data = fast.read_bytes()
    cut = tmp_path / "fast_half.mp4"
    cut.write_bytes(data[:len(data) // 2])
    _fails(cut, tmp_path / "out_fast_half", r"truncated: only \d+ of its 30 frames")
    text = tmp_path / "notes.mp4"
    text.write_text("these are my notes, not a video\n" * 40)
    _fails(text, tmp_path / "out_text", "not a readable video")


def test_video_without_a_person(tmp_path):
    path = _write_video(tmp_path / "shapes.mp4", _shapes(12, 240, 160))
    _fails(path, tmp_path / "out", "no person found")


def test_person_in_too_few_frames(tmp_path, dance_frames):
    frames = dance_frames[:3] + list(_shapes(9, *dance_frames[0].shape[:2]))
    path = _write_video(tmp_path / "brief.mp4", frames)
    _fails(path, tmp_path / "out", r"found in only 3 of 12 frames.*--min-person-fraction")
    # A lower threshold accepts it.
    out = prepare_video(path, tmp_path / "ok", PrepareConfig(size=64, min_person_fraction=0.2), progress=False)
    assert VideoFolder(out).meta.extra["person_frames"] == 3


def test_several_people_keep_the_largest_and_warn(tmp_path, dance_frames, caplog):
    frames = []
    for frame in dance_frames[:8]:
        h, w = frame.shape[:2]
        small = cv2.resize(frame[:, 50:300], None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA)
        canvas = np.full((h, w + 220, 3), 200, np.uint8)
        canvas[:, 220:] = frame  # the dancer, large, on the right
        canvas[h - small.shape[0]:, :small.shape[1]] = small  # a smaller copy on the left
        frames.append(canvas)
    path = _write_video(tmp_path / "two.mp4", frames)
    with caplog.at_level(logging.WARNING):
        out = prepare_video(path, tmp_path / "two", SMALL, progress=False)
    assert any("more than one person" in r.getMessage() and "kept the largest" in r.getMessage()
               for r in caplog.records)
    video = VideoFolder(out)
    boxes = np.array(video.meta.crop_boxes)
    # The skeleton is the large person's: in the original frame its nose is on the right, above ankles
    # most of the frame's height below, and the crop box holds all of the large person.
    scale = (boxes[:, 2] - boxes[:, 0]) / 128
    x = video.poses[..., 0] * scale[:, None] + boxes[:, :1]
    y = video.poses[..., 1] * scale[:, None] + boxes[:, 1:2]
    assert (x[:, 0] > 300).all() and (y[:, 13] - y[:, 0] > 0.6 * 554).all()
    assert (boxes[:, 0] < 300).all() and (boxes[:, 2] >= 540).all()
    assert video.meta.extra["several_people_frames"] >= 1


def test_phone_video_with_a_rotation_flag_comes_out_upright(tmp_path, dance_frames):
    path = tmp_path / "phone.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=16)
        stream.width, stream.height, stream.pix_fmt = 554, 346, "yuv420p"
        stream.set_display_rotation(-90)  # stored sideways, shown turned a quarter clockwise
        for frame in dance_frames[:8]:
            stored = np.ascontiguousarray(np.rot90(frame, 1))
            for packet in stream.encode(av.VideoFrame.from_ndarray(stored, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    out = prepare_video(path, tmp_path / "phone", SMALL, progress=False)
    video = VideoFolder(out)
    assert video.meta.original_size == [346, 554] and video.meta.num_frames == 8
    poses = video.poses
    assert (poses[:, :, 2] > 0.5).sum(axis=1).min() >= 14
    assert (poses[:, 0, 1] < poses[:, 8, 1]).all() and (poses[:, 8, 1] < poses[:, 10, 1]).all()
    assert (poses[:, 2, 0] < poses[:, 5, 0]).all()  # not mirrored either


def test_photos_with_alpha_or_exif_orientation(tmp_path, small_photo):
    image = cv2.imread(str(small_photo))
    h, w = image.shape[:2]
    rgba = np.dstack([image, np.full((h, w), 255, np.uint8)])
    rgba[:, : w // 8] = (0, 0, 0, 0)  # transparent strips with black colour behind them
    rgba[:, -w // 8:] = (0, 0, 0, 0)
    cv2.imwrite(str(tmp_path / "cutout.png"), rgba)
    out = prepare_video(tmp_path / "cutout.png", tmp_path / "cutout", SMALL, progress=False)
    full = cv2.imread(str(out / "background_full.png"))
    assert full[:, :w // 10].min() > 200  # composited on white, not black
    assert (VideoFolder(out).poses[0, :, 2] > 0.5).sum() >= 16
    pil = pytest.importorskip("PIL.Image")
    stored = pil.fromarray(np.ascontiguousarray(np.rot90(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), 1)))
    exif = stored.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    stored.save(tmp_path / "sideways.jpg", exif=exif.tobytes(), quality=92)
    video = VideoFolder(prepare_video(tmp_path / "sideways.jpg", tmp_path / "sideways", SMALL, progress=False))
    assert video.meta.original_size == [w, h]
    kp = video.poses[0]
    assert kp[0, 1] < kp[8, 1] < kp[10, 1] and kp[2, 0] < kp[5, 0]


def test_external_parsing_and_openpose(tmp_path, dance_frames):
    clip = _write_video(tmp_path / "clip.mp4", dance_frames[:6])
    frames = list(iter_frames(clip))
    h, w = frames[0].shape[:2]
    parsing_dir, openpose_dir = tmp_path / "lip", tmp_path / "openpose"
    parsing_dir.mkdir()
    openpose_dir.mkdir()
    rng = np.random.default_rng(0)
    given = []
    for i in range(6):
        labels = np.zeros((h, w), np.uint8)
        labels[80 + i:500, 100:250] = LABEL["upper_clothes"]
        labels[80 + i:140, 140:210] = LABEL["face"]
        cv2.imwrite(str(parsing_dir / f"frame_{i:04d}.png"), labels)
        kp = np.zeros((18, 3), np.float32)
        kp[:, 0] = rng.uniform(110, 240, 18)
        kp[:, 1] = np.linspace(90, 480, 18)
        kp[:, 2] = 0.8
        write_openpose_json(openpose_dir / f"frame_{i:012d}_keypoints.json", kp)
        given.append((labels, kp))
    config = PrepareConfig(size=96, savgol_window=1, crop_mode="fixed")
    out = prepare_video(clip, tmp_path / "ext", config, openpose=openpose_dir, parsing=parsing_dir, progress=False)
    video = VideoFolder(out)
    assert video.meta.extra["poses"] == "openpose" and video.meta.extra["parsing"] == "external"
    for i, (labels, kp) in enumerate(given):
        box = video.meta.crop_boxes[i]
        np.testing.assert_array_equal(video.parsing(i), crop_box(labels, box, 96, labels=True, border="constant"))
        np.testing.assert_allclose(video.poses[i], photo_to_crop(kp, box, 96), atol=1e-3)
    # Wrong count, wrong labels.
    (parsing_dir / "frame_0005.png").unlink()
    with pytest.raises(UserError, match="label PNGs"):
        prepare_video(clip, tmp_path / "ext2", config, parsing=parsing_dir, progress=False)
    bad = np.full((h, w), 25, np.uint8)
    cv2.imwrite(str(parsing_dir / "frame_0005.png"), bad)
    with pytest.raises(UserError, match="not a LIP label"):
        prepare_video(clip, tmp_path / "ext3", config, parsing=parsing_dir, progress=False)
    (openpose_dir / f"frame_{5:012d}_keypoints.json").unlink()
    with pytest.raises(UserError, match="--openpose: 5 JSON files"):
        prepare_video(clip, tmp_path / "ext4", config, openpose=openpose_dir, progress=False)
    assert not any((tmp_path / f"ext{i}").exists() for i in (2, 3, 4))


def test_existing_output_is_kept_unless_overwrite(tmp_path, small_photo):
    out = tmp_path / "person"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    with pytest.raises(UserError, match="exists; pass --overwrite"):
        prepare_video(small_photo, out, SMALL, progress=False)
    prepare_video(small_photo, out, SMALL, overwrite=True, progress=False)
    assert (out / "meta.json").is_file() and not (out / "mine.txt").exists()


def test_cli_carries_on_past_bad_inputs_and_lists_them(tmp_path, small_photo):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "a_person.jpg").write_bytes(small_photo.read_bytes())
    (inputs / "b_notes.mp4").write_text("not a video at all\n" * 30)
    _write_video(inputs / "c_shapes.mp4", _shapes(6, 160, 128))
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "cpfnet.cli", "prepare", str(inputs), "--out", str(out),
                             "--size", "64", "--workers", "2", "--no-progress"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "2 of 3 inputs failed" in result.stderr
    failures = [line for line in result.stderr.splitlines() if line.startswith("  ")]
    assert len(failures) == 2
    assert "b_notes.mp4" in failures[0] and "not a readable video" in failures[0]
    assert "c_shapes.mp4" in failures[1] and "no person found" in failures[1]
    assert sorted(p.name for p in out.iterdir()) == ["a_person"]  # nothing half-written for the others
    assert json.loads((out / "a_person" / "meta.json").read_text())["num_frames"] == 1
    # Shards of a job array: shard 1/3 is the second input only; finished folders can be skipped.
    result = subprocess.run([sys.executable, "-m", "cpfnet.cli", "prepare", str(inputs), "--out", str(out),
                             "--size", "64", "--shard", "0/3", "--skip-existing", "--no-progress"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    result = subprocess.run([sys.executable, "-m", "cpfnet.cli", "prepare", str(inputs), "--out", str(out),
                             "--size", "64", "--shard", "1/3", "--no-progress"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and "b_notes.mp4" in result.stderr and "c_shapes" not in result.stderr


@pytest.mark.slow
def test_full_sample_video_and_photo(tmp_path):
    """The issue's 'must show' on the whole sample: keypoints, sides, appearance frame, the photo."""
    out = prepare_video(DANCE, tmp_path / "dance", PrepareConfig(size=256), progress=False)
    video = VideoFolder(out)
    poses = video.poses
    assert len(video) == 150
    assert ((poses[..., 2] > 0.5).sum(axis=1) >= 14).mean() >= 0.95
    assert (poses[:, 2, 0] < poses[:, 5, 0]).mean() > 0.9  # right shoulder on the image's left
    assert video.appearance_index == int(np.argmax(poses[..., 2].sum(axis=1)))
    assert video.meta.extra["crop_mode"] == "fixed"  # the dancer stays in place: one steady box
    photo = VideoFolder(prepare_video(PERSON, tmp_path / "person", PrepareConfig(size=256), progress=False))
    assert (photo.poses[0, :, 2] > 0.5).all()
    labels = set(np.unique(photo.parsing(0)))
    assert {LABEL[n] for n in ("face", "hair", "upper_clothes", "left_arm", "right_arm", "left_leg", "right_leg",
                               "pants", "left_shoe", "right_shoe")} <= labels
