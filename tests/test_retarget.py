"""Retargeting a dance to another body: bone lengths, motion, placement."""

import numpy as np
import pytest

from cpfnet.body.keypoints import INDEX
from cpfnet.transfer.retarget import BONES, full_bone_lengths, retarget_poses

# A standing person (image pixels, y down), neck at (100, 50).
STAND = np.array([
    (100, 30), (100, 50), (85, 52), (80, 80), (78, 105), (115, 52), (120, 80), (122, 105), (92, 110),
    (92, 150), (92, 190), (108, 110), (108, 150), (108, 190), (96, 26), (104, 26), (92, 28), (108, 28),
], np.float64)


def _pose(points, conf=1.0):
    return np.concatenate([points, np.full((18, 1), conf)], axis=1)


def _dance(frames=20, scale=1.0, shift=(0.0, 0.0)):
    poses = []
    for t in range(frames):
        p = STAND.copy()
        angle = np.sin(t / 3) * 1.2  # the right forearm swings about the elbow
        elbow = p[INDEX["right_elbow"]]
        p[INDEX["right_wrist"]] = elbow + 25 * np.array([np.sin(angle), np.cos(angle)])
        p += np.array([t * 2.0, 0.0])  # and the dancer walks to the right
        poses.append(_pose((p - STAND[1]) * scale + STAND[1] + shift))
    return np.stack(poses)


def test_same_body_same_place_is_unchanged():
    source = _dance()
    out = retarget_poses(source, source[0])
    np.testing.assert_allclose(out, source, atol=1e-6)


def test_target_bone_lengths_and_position():
    source = _dance(scale=1.5, shift=(-60, 20))  # a tall dancer elsewhere in the frame
    target = _pose(STAND * 1.0)
    out = retarget_poses(source, target)
    # First frame: the target as it stands (but for the forearm, which the dance already moves).
    rest = [k for k in range(18) if k != INDEX["right_wrist"]]
    np.testing.assert_allclose(out[0, rest, :2], STAND[rest], atol=1e-6)
    # later frames: the target's bone lengths, the source's bone directions
    got = full_bone_lengths(out)
    want = full_bone_lengths(target[None])
    np.testing.assert_allclose(got, want, rtol=1e-6)
    wrist, elbow = INDEX["right_wrist"], INDEX["right_elbow"]
    d_out = out[7, wrist, :2] - out[7, elbow, :2]
    d_src = source[7, wrist, :2] - source[7, elbow, :2]
    assert np.allclose(d_out / np.linalg.norm(d_out), d_src / np.linalg.norm(d_src))
    # the walk is scaled to the target's size: 2 px per frame instead of 3
    assert out[10, 1, 0] - out[0, 1, 0] == pytest.approx(20.0)


def test_missing_joints_stay_missing_and_missing_target_bones_are_filled():
    source = _dance()
    source[5, INDEX["right_elbow"], 2] = 0  # lost elbow: the wrist below it is lost too
    target = _pose(STAND * 1.0)
    target[INDEX["left_ankle"], 2] = 0  # the photo cuts off an ankle
    out = retarget_poses(source, target)
    assert out[5, INDEX["right_elbow"], 2] == 0 and out[5, INDEX["right_wrist"], 2] == 0
    assert out[5, INDEX["left_wrist"], 2] == 1
    shin = [b for b, bone in enumerate(BONES) if bone == (INDEX["left_knee"], INDEX["left_ankle"])][0]
    assert full_bone_lengths(out)[shin] == pytest.approx(40.0, rel=1e-6)


def test_bad_shapes_and_no_neck():
    with pytest.raises(ValueError):
        retarget_poses(np.zeros((3, 17, 3)), np.zeros((18, 3)))
    with pytest.raises(ValueError, match="neck"):
        retarget_poses(np.zeros((3, 18, 3)), _pose(STAND))


def test_anchor_frame_places_that_frame_on_the_target():
    source = _dance()
    target = _pose(STAND * 1.0)
    out = retarget_poses(source, target, anchor_frame=10)
    np.testing.assert_allclose(out[10, 1, :2], STAND[1], atol=1e-6)
    assert out[0, 1, 0] == pytest.approx(STAND[1, 0] - 20)
