"""The dataset layout: atomic writing, reading back, per-frame background crops, torch readers."""

import os

import numpy as np
import pytest
import torch

from cpfnet.dataset.layout import VideoFolder, VideoFolderWriter, VideoMeta, find_videos
from cpfnet.dataset.readers import AppearanceFrames, Clips, FlowPairs, image_to_tensor, tensor_to_image
from cpfnet.errors import UserError

S, T = 32, 4


def _write_video(root, with_flow=True, boxes=None, background_full=None):
    rng = np.random.default_rng(0)
    poses = rng.uniform(0, S, (T, 18, 3)).astype(np.float32)
    poses[..., 2] = 1
    with VideoFolderWriter(root, with_flow=with_flow) as writer:
        for i in range(T):
            image = np.full((S, S, 3), 40 * i, np.uint8)
            parsing = np.zeros((S, S), np.uint8)
            parsing[8:24, 8 + i:16 + i] = 5
            flow = np.stack(np.meshgrid(np.arange(S) + 0.5, np.arange(S) + 0.5), -1).astype(np.float32) + i
            visibility = np.where(parsing > 0, 0, 2).astype(np.uint8)
            writer.add_frame(image, parsing, flow, visibility)
        meta = VideoMeta(fps=25.0, size=S, num_frames=T, appearance_index=1,
                         crop_boxes=boxes or [[0, 0, S, S]] * T, original_size=[S, S], source="test")
        writer.finish(meta, poses, np.full((S, S, 3), 7, np.uint8), background_full)
    return poses


def test_round_trip(tmp_path):
    poses = _write_video(tmp_path / "v0")
    video = VideoFolder(tmp_path / "v0")
    assert len(video) == T and video.size == S and video.has_flow and video.appearance_index == 1
    np.testing.assert_array_equal(video.poses, poses)
    assert video.frame(2).shape == (S, S, 3) and video.frame(2)[0, 0, 0] == 80
    assert video.parsing(3).max() == 5 and video.visibility(0).max() == 2
    assert video.flow(1)[0, 0].tolist() == [1.5, 1.5]
    assert (video.background() == 7).all()
    assert find_videos(tmp_path) == [tmp_path / "v0"]
    assert find_videos(tmp_path / "v0") == [tmp_path / "v0"]


def test_written_folders_get_the_usual_permissions(tmp_path):
    _write_video(tmp_path / "v0")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "v0").stat().st_mode & 0o777 == 0o777 & ~umask
    assert (tmp_path / "v0" / "meta.json").stat().st_mode & 0o777 == 0o666 & ~umask


def test_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with VideoFolderWriter(tmp_path / "v0") as writer:
            writer.add_frame(np.zeros((S, S, 3), np.uint8), np.zeros((S, S), np.uint8))
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_existing_folder_needs_overwrite(tmp_path):
    _write_video(tmp_path / "v0")
    with pytest.raises(UserError, match="--overwrite"):
        VideoFolderWriter(tmp_path / "v0")
    _write_video_over = VideoFolderWriter(tmp_path / "v0", overwrite=True)
    _write_video_over.abort()
    assert VideoFolder(tmp_path / "v0").meta.num_frames == T  # the old folder survives an aborted overwrite


def test_missing_folders_give_user_errors(tmp_path):
    with pytest.raises(UserError, match="no cpfnet video folders"):
        find_videos(tmp_path)
    with pytest.raises(UserError, match="not a cpfnet video folder"):
        VideoFolder(tmp_path)


def test_background_follows_each_frames_crop(tmp_path):
    full = np.zeros((S, 2 * S, 3), np.uint8)
    full[:, S:] = 200
    boxes = [[0, 0, S, S], [0, 0, S, S], [S, 0, 2 * S, S], [S / 2, 0, 1.5 * S, S]]
    _write_video(tmp_path / "v0", boxes=boxes, background_full=full)
    video = VideoFolder(tmp_path / "v0")
    assert (video.background(2) == 200).all()
    assert (video.background(1) == 7).all()  # the appearance frame uses background.png itself
    assert video.background(3)[:, 0].max() == 0 and video.background(3)[:, -1].min() == 200


def test_readers_resize_consistently(tmp_path):
    _write_video(tmp_path / "v0")
    frames = AppearanceFrames(tmp_path, size=16)
    assert len(frames) == T - 1  # the appearance frame is no target
    item = frames[0]
    assert item["image"].shape == (3, 16, 16) and item["parsing"].shape == (16, 16)
    assert item["parsing"].dtype == torch.int64 and item["appearance_image"].min() >= -1
    raw = VideoFolder(tmp_path / "v0").poses[0]
    assert torch.allclose(item["pose"][:, :2], torch.from_numpy(raw[:, :2]) / 2)
    pairs = FlowPairs(tmp_path, size=16)
    flow = pairs[2]["flow"]  # frame 3: identity + 3 px at 32 -> identity + 1.5 px at 16
    assert flow.shape == (2, 16, 16)
    assert flow[0, 0, 0].item() == pytest.approx(0.5 + 1.5, abs=0.3)
    clips = Clips(tmp_path, length=3)
    assert len(clips) == 2 and clips[1]["images"].shape == (3, 3, S, S)
    assert clips[0]["backgrounds"].shape == (3, 3, S, S)


def test_flow_pairs_need_flow(tmp_path):
    _write_video(tmp_path / "v0", with_flow=False)
    with pytest.raises(UserError, match="synthetic"):
        FlowPairs(tmp_path)


def test_image_tensor_round_trip():
    image = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    tensor = image_to_tensor(image)
    assert tensor.shape == (3, 5, 7) and tensor.min() >= -1 and tensor.max() <= 1
    np.testing.assert_array_equal(tensor_to_image(tensor), image)
