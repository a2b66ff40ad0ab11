"""Body conventions: keypoint order and mirroring, LIP labels, pose maps, OpenPose JSON, drawings."""

import numpy as np
import pytest
import torch

from cpfnet.body import keypoints as K
from cpfnet.body.draw import draw_flow, draw_parsing, draw_skeleton, image_grid
from cpfnet.body.openpose_json import read_openpose_folder, read_openpose_json, write_openpose_json
from cpfnet.body.parsing_labels import FLIP_LABELS, LABEL, NUM_LABELS, PALETTE, colorize
from cpfnet.body.pose_maps import POSE_CHANNELS, render_pose_maps
from cpfnet.errors import UserError


def test_keypoint_order_matches_openpose_coco18():
    assert K.NUM_KEYPOINTS == 18
    assert K.INDEX["neck"] == 1 and K.INDEX["right_wrist"] == 4 and K.INDEX["left_ankle"] == 13
    assert K.INDEX["right_eye"] == 14 and K.INDEX["left_ear"] == 17


def test_flip_permutation_swaps_sides_and_is_an_involution():
    perm = np.array(K.FLIP_PERMUTATION)
    assert (perm[perm] == np.arange(18)).all()
    assert perm[K.INDEX["right_shoulder"]] == K.INDEX["left_shoulder"]
    assert perm[K.INDEX["nose"]] == K.INDEX["nose"] and perm[K.INDEX["neck"]] == K.INDEX["neck"]
    pose = np.random.default_rng(0).uniform(0, 100, (4, 18, 3)).astype(np.float32)
    np.testing.assert_allclose(K.flip_keypoints(K.flip_keypoints(pose, 100), 100), pose, atol=1e-5)
    flipped = K.flip_keypoints(pose, 100)
    np.testing.assert_allclose(flipped[:, K.INDEX["left_wrist"], 0], 100 - pose[:, K.INDEX["right_wrist"], 0])


def test_limbs_connect_every_keypoint():
    joined = {i for limb in K.LIMBS for i in limb}
    assert joined == set(range(18)) and len(K.LIMBS) == 17


def test_lip_labels_and_palette():
    assert NUM_LABELS == 20 and LABEL["face"] == 13 and LABEL["right_shoe"] == 19
    assert PALETTE.shape == (20, 3) and len({tuple(c) for c in PALETTE}) == 20
    assert FLIP_LABELS[LABEL["left_arm"]] == LABEL["right_arm"] and FLIP_LABELS[LABEL["face"]] == LABEL["face"]
    labels = np.array([[0, 13], [19, 2]], np.uint8)
    assert (colorize(labels)[0, 1] == PALETTE[13]).all()
    with pytest.raises(ValueError):
        colorize(np.array([[20]], np.uint8))


def test_pose_maps_peak_at_keypoints_and_follow_limbs():
    kp = torch.zeros(1, 18, 3)
    kp[0, 1] = torch.tensor([20.5, 10.5, 1.0])  # neck at pixel (20, 10)
    kp[0, 2] = torch.tensor([20.5, 30.5, 1.0])  # right shoulder straight below it
    maps = render_pose_maps(kp, 40, 48, sigma=2.0)
    assert maps.shape == (1, POSE_CHANNELS, 40, 48)
    neck = maps[0, 1]
    assert neck.argmax().item() == 10 * 48 + 20 and neck.max().item() == pytest.approx(1.0)
    assert maps[0, 0].abs().max() == 0  # the nose is missing: its map stays empty
    limb = maps[0, 18 + K.LIMBS.index((1, 2))]
    assert limb[20, 20].item() == pytest.approx(1.0, abs=1e-5)  # on the bone, half way
    assert limb[20, 30].item() < 1e-3  # 10 px beside it
    other = maps[0, 18 + K.LIMBS.index((1, 5))]  # left shoulder missing: no limb
    assert other.abs().max() == 0


def test_pose_maps_reject_wrong_shape():
    with pytest.raises(ValueError, match=r"\[B, 18, 3\]"):
        render_pose_maps(torch.zeros(2, 17, 3), 8, 8, 1.0)


def test_openpose_json_round_trip_and_largest_person(tmp_path):
    pose = np.random.default_rng(1).uniform(1, 50, (18, 3)).astype(np.float32)
    write_openpose_json(tmp_path / "000000_keypoints.json", pose)
    np.testing.assert_allclose(read_openpose_json(tmp_path / "000000_keypoints.json"), pose, rtol=1e-6)
    small = pose.copy()
    small[:, :2] *= 0.1
    (tmp_path / "000001_keypoints.json").write_text(
        '{"people": [{"pose_keypoints_2d": %s}, {"pose_keypoints_2d": %s}]}'
        % (small.reshape(-1).tolist(), pose.reshape(-1).tolist()))
    both = read_openpose_folder(tmp_path)
    assert both.shape == (2, 18, 3)
    np.testing.assert_allclose(both[1], pose, rtol=1e-6)


def test_openpose_json_rejects_body25(tmp_path):
    (tmp_path / "a.json").write_text('{"people": [{"pose_keypoints_2d": %s}]}' % ([1.0] * 75))
    with pytest.raises(UserError, match="COCO-18"):
        read_openpose_json(tmp_path / "a.json")
    with pytest.raises(UserError, match="no OpenPose"):
        read_openpose_folder(tmp_path / "missing")


def test_drawings_have_the_right_shapes_and_content():
    pose = np.zeros((18, 3), np.float32)
    pose[1] = (16, 10, 1)
    pose[2] = (16, 40, 0.5)
    sk = draw_skeleton(None, pose, size=(64, 32))
    assert sk.shape == (64, 32, 3) and sk[25, 16].any()  # the limb is drawn
    parsing = np.zeros((8, 8), np.uint8)
    parsing[2:4, 2:4] = LABEL["face"]
    over = draw_parsing(parsing, np.full((8, 8, 3), 100, np.uint8))
    assert (over[0, 0] == 100).all() and not (over[2, 2] == 100).all()
    grid = np.stack(np.meshgrid(np.arange(8) + 0.5, np.arange(8) + 0.5), -1).astype(np.float32)
    assert draw_flow(grid).max() == 0  # zero displacement is black
    tiled = image_grid([[sk, sk], [sk]])
    assert tiled.shape == (2 * 64 + 2, 2 * 32 + 2, 3)
