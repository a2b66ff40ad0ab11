"""The geometric (part-wise affine) flow: exact on known motions, and it moves a photo's pixels."""

import math

import numpy as np
import pytest
import torch

from cpfnet.body.limb_flow import PART_NAMES, geometric_flow, part_maps
from cpfnet.ops.warp import identity_flow, warp


def standing_pose(scale: float = 1.0, shift=(0.0, 0.0)) -> torch.Tensor:
    """A front-facing standing person in a 128 x 128 frame, [1, 18, 3]."""
    xy = np.array([
        (64, 20), (64, 32),  # nose, neck
        (52, 33), (46, 50), (42, 66),  # right arm
        (76, 33), (82, 50), (86, 66),  # left arm
        (56, 70), (55, 92), (54, 114),  # right leg
        (72, 70), (73, 92), (74, 114),  # left leg
        (61, 17), (67, 17), (58, 19), (70, 19),  # eyes, ears
    ], np.float64) * scale + np.asarray(shift)
    pose = np.concatenate([xy, np.ones((18, 1))], axis=1)
    return torch.tensor(pose, dtype=torch.float64)[None]


def test_same_pose_gives_the_identity_flow_and_warps_the_photo_back_to_itself():
    pose = standing_pose()
    out = geometric_flow(pose, pose, 128, 128)
    assert torch.allclose(out["flow"], identity_flow(1, 128, 128, dtype=torch.float64), atol=1e-6)
    photo = torch.rand(1, 3, 128, 128, dtype=torch.float64)
    # Away from the border (where bilinear sampling reads zeros) the warp is exact.
    assert torch.allclose(warp(photo, out["flow"])[..., 1:-1, 1:-1], photo[..., 1:-1, 1:-1], atol=1e-6)
    visible, hidden, background = out["visibility"][0]
    assert (background < 0.5).sum() > 1000
    assert torch.allclose(hidden, torch.zeros_like(hidden))  # every body pixel is visible in the photo


def test_a_translated_and_scaled_body_gives_the_inverse_similarity():
    source, target = standing_pose(), standing_pose(scale=0.5, shift=(20.0, 10.0))
    out = geometric_flow(source, target, 128, 128)
    grid = identity_flow(1, 128, 128, dtype=torch.float64)
    expected = (grid - torch.tensor([20.0, 10.0], dtype=torch.float64).view(1, 2, 1, 1)) / 0.5
    on_body = out["visibility"][0, 2] < 0.5
    assert on_body.sum() > 500
    assert torch.allclose(out["flow"][0][:, on_body], expected[0][:, on_body], atol=1e-4)


def test_a_rotated_forearm_gives_the_known_rotation():
    source = standing_pose()
    target = source.clone()
    elbow = target[0, 3, :2].clone()
    angle = math.radians(60)
    rotation = torch.tensor([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]],
                            dtype=torch.float64)
    target[0, 4, :2] = elbow + rotation @ (source[0, 4, :2] - elbow)
    maps, valid = part_maps(source, target)
    forearm = PART_NAMES.index("right_lower_arm")
    assert valid[0, forearm]
    # The map takes frame-i points back to the photo: the inverse rotation about the elbow.
    point = elbow + torch.tensor([3.0, 7.0], dtype=torch.float64)
    mapped = maps[0, forearm, :, :2] @ point + maps[0, forearm, :, 2]
    assert torch.allclose(mapped, elbow + rotation.T @ (point - elbow), atol=1e-9)
    # Pixels of the moved forearm sample the photo's forearm; the torso stays where it was.
    out = geometric_flow(source, target, 128, 128)
    mid = ((target[0, 3, :2] + target[0, 4, :2]) / 2).round().long()
    x, y = int(mid[0]), int(mid[1])
    flow_at = out["flow"][0, :, y, x]
    expected = elbow + rotation.T @ (torch.tensor([x + 0.5, y + 0.5], dtype=torch.float64) - elbow)
    assert torch.allclose(flow_at, expected, atol=0.05)
    assert torch.allclose(out["flow"][0, :, 50, 64], torch.tensor([64.5, 50.5], dtype=torch.float64), atol=1e-3)


def test_an_arm_that_covered_the_torso_leaves_the_torso_hidden():
    source = standing_pose()
    source[0, 3, :2] = torch.tensor([60.0, 48.0], dtype=torch.float64)  # right arm across the chest
    source[0, 4, :2] = torch.tensor([70.0, 58.0], dtype=torch.float64)
    target = standing_pose()  # arm back at the side: the chest it covered shows now
    out = geometric_flow(source, target, 128, 128)
    assert out["visibility"][0, 1, 52, 66] > 0.5  # torso pixel hidden in the photo
    assert out["visibility"][0, 0, 40, 64] > 0.5  # upper chest was never covered


def test_missing_joints_fall_back_without_nan():
    source, target = standing_pose(), standing_pose(shift=(5.0, 0.0))
    target[0, 4, 2] = 0  # right wrist missing
    source[0, 8:, 2] = 0  # legs and face missing in the photo
    out = geometric_flow(source.float(), target.float(), 64, 48)
    assert out["flow"].shape == (1, 2, 64, 48) and out["visibility"].shape == (1, 3, 64, 48)
    for value in out.values():
        assert torch.isfinite(value).all()
    # The parts still seen share every pixel among them (the membership sums to 1).
    assert torch.allclose(out["parts"].sum(1), torch.ones(1, 64, 48), atol=1e-5)


def test_perturbed_poses_keep_bone_lengths_and_missing_joints():
    from cpfnet.body.pose_jitter import perturb_pose
    from cpfnet.body.keypoints import BONES

    pose = standing_pose()[0].numpy().astype(np.float32)
    pose[17, 2] = 0  # left ear missing
    rng = np.random.default_rng(0)
    moved = [perturb_pose(pose, rng, scale=0.0, shift=0.0) for _ in range(5)]
    for m in moved:
        for a, b in BONES:
            if pose[a, 2] and pose[b, 2]:
                assert np.linalg.norm(m[b, :2] - m[a, :2]) == pytest.approx(np.linalg.norm(pose[b, :2] - pose[a, :2]), abs=1e-3)
        assert m[17, 2] == 0 and (m[:, 2] == pose[:, 2]).all()
    assert max(np.abs(m[4, :2] - pose[4, :2]).max() for m in moved) > 5  # the wrists do move


def test_the_flow_is_each_parts_map_weighted_by_its_membership_and_scores_are_capsule_distances():
    """The fast forms (one blended affine per pixel, distances in place) against the formulas they stand for:
    flow = sum_p parts_p M_p (x, y, 1), and a part's score its layering bias minus the distance to the segment
    a-b over its radius."""
    from cpfnet.body.limb_flow import _capsules, part_scores

    source, target = standing_pose(), standing_pose(scale=0.8, shift=(9.0, 4.0))
    target[0, 6, :2] += torch.tensor([12.0, -9.0], dtype=torch.float64)  # a bent arm: parts really blend
    out = geometric_flow(source, target, 40, 56)
    maps, _ = part_maps(source, target)
    grid = identity_flow(1, 40, 56, dtype=torch.float64)
    moved = torch.einsum("pij,jhw->pihw", maps[0], torch.cat([grid[0], torch.ones_like(grid[0, :1])]))
    by_parts = (out["parts"][0, :, None] * moved).sum(0)
    reach = out["reach"][0]
    assert torch.allclose(out["flow"][0], by_parts * reach + grid[0] * (1 - reach), atol=1e-9)

    points = torch.rand(1, 30, 2, dtype=torch.float64) * 128
    a, b, radius, bias, seen = _capsules(target, 0.1)
    ab = (b - a)[0, :, None]
    t = (((points[0] - a[0, :, None]) * ab).sum(-1) / (ab ** 2).sum(-1)).clamp(0, 1)
    distance = (points[0] - a[0, :, None] - t[..., None] * ab).norm(dim=-1) / radius[0, :, None]
    scores, nearest = part_scores(target, points)
    assert seen.all() and torch.allclose(scores[0], bias[:, None] - distance, atol=1e-9)
    assert torch.allclose(nearest[0], distance.amin(0), atol=1e-9)
