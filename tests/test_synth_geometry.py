"""Synthetic dancers, geometry: exact ray-primitive intersection, rotations, forward kinematics, camera,
motion limits and smoothness, the body's left and right."""

from __future__ import annotations

import numpy as np
import pytest

from cpfnet.body.keypoints import INDEX
from cpfnet.synth.camera import Camera, look_at
from cpfnet.synth.generate import setup_video
from cpfnet.synth.motion import LIMITS, SIDED, keypoints_3d, sample_motion
from cpfnet.synth.raycast import ELLIPSOID, FRUSTUM, ROUNDCONE, Shape, intersect, normals
from cpfnet.synth.skeleton import BONE, forward_kinematics, rot_x, rot_y, rot_z, rotation_between, transform_points


def _sdf_roundcone(p: np.ndarray, r1: float, r2: float, h: float) -> np.ndarray:
    """Inigo Quilez's exact signed distance to a round cone (spheres r1 at 0, r2 at (0, h, 0))."""
    q = np.stack([np.hypot(p[:, 0], p[:, 2]), p[:, 1]], 1)
    b = (r1 - r2) / h
    a = np.sqrt(1 - b * b)
    k = q @ np.array([-b, a])
    return np.where(k < 0, np.linalg.norm(q, axis=1) - r1,
                    np.where(k > a * h, np.linalg.norm(q - [0, h], axis=1) - r2, q @ np.array([a, b]) - r1))


def _rays(n: int, rng: np.random.Generator, spread: float) -> tuple[np.ndarray, np.ndarray]:
    """Rays from a point 3 units away aimed at random points near the origin: origin [3], dirs [3, n]."""
    origin = np.array([0.3, 0.4, 3.0])
    targets = rng.uniform(-spread, spread, size=(n, 3))
    d = targets - origin
    return origin, (d / np.linalg.norm(d, axis=1, keepdims=True)).T


def _cast(shape: Shape, origin: np.ndarray, dirs: np.ndarray) -> np.ndarray:
    d32 = dirs.astype(np.float32)
    return intersect(shape, [np.float32(v) for v in origin], list(d32))


def test_ellipsoid_hits_lie_on_the_surface_and_misses_miss():
    rng = np.random.default_rng(0)
    origin, dirs = _rays(4000, rng, 1.4)
    t = _cast(Shape(ELLIPSOID), origin, dirs)
    hit = np.isfinite(t)
    assert 0.2 < hit.mean() < 0.9
    p = origin + (t[hit] * dirs[:, hit]).T
    np.testing.assert_allclose(np.linalg.norm(p, axis=1), 1.0, atol=2e-5)
    # A miss passes farther than the radius from the centre.
    closest = np.linalg.norm(np.cross(dirs[:, ~hit].T, origin), axis=1)
    assert (closest >= 1.0 - 1e-5).all()


def test_roundcone_hits_are_on_its_surface_and_nothing_is_nearer():
    rng = np.random.default_rng(1)
    r1, r2, h = 0.3, 0.15, 1.0
    shape = Shape(ROUNDCONE, (r1, r2, h))
    origin = np.array([0.3, 0.4, 3.0])
    targets = rng.uniform([-0.5, -0.5, -0.5], [0.5, 1.3, 0.5], size=(3000, 3))
    dirs = ((targets - origin) / np.linalg.norm(targets - origin, axis=1, keepdims=True)).T
    t = _cast(shape, origin, dirs)
    hit = np.isfinite(t)
    assert 0.2 < hit.mean() < 0.95
    p = origin + (t[hit] * dirs[:, hit]).T
    np.testing.assert_allclose(_sdf_roundcone(p, r1, r2, h), 0.0, atol=5e-5)
    # Sphere tracing from the camera finds no earlier surface, and misses stay outside.
    steps = np.linspace(0, 1, 200)
    for j in np.nonzero(hit)[0][:200]:
        q = origin + np.outer(steps * t[j] * 0.999, dirs[:, j])
        assert (_sdf_roundcone(q, r1, r2, h) > -1e-6).all()
    for j in np.nonzero(~hit)[0][:200]:
        q = origin + np.outer(np.linspace(0, 6, 600), dirs[:, j])
        assert _sdf_roundcone(q, r1, r2, h).min() > -1e-3


def test_frustum_is_open_and_cuts_remove_surface():
    rng = np.random.default_rng(2)
    shape = Shape(FRUSTUM, (0.2, 0.5, 1.0))
    origin, dirs = _rays(3000, rng, 0.8)
    t = _cast(shape, origin, dirs)
    hit = np.isfinite(t)
    p = origin + (t[hit] * dirs[:, hit]).T
    r = 0.2 + 0.3 * p[:, 1]
    np.testing.assert_allclose(np.hypot(p[:, 0], p[:, 2]), r, atol=5e-5)
    assert (p[:, 1] >= -1e-5).all() and (p[:, 1] <= 1 + 1e-5).all()
    # A cut (here: everything with z > 0) removes the near side, so those rays now reach the far side.
    cut = Shape(ELLIPSOID, cuts=(((0.0, 0.0, 1.0, 0.0),),))
    full = _cast(Shape(ELLIPSOID), origin, dirs)
    shell = _cast(cut, origin, dirs)
    both = np.isfinite(full) & np.isfinite(shell)
    q = origin + (shell[both] * dirs[:, both]).T
    assert (q[:, 2] <= 1e-5).all()
    assert (shell[both] >= full[both] - 1e-6).all()


def _implicit(kind: int, params, p: np.ndarray) -> np.ndarray:
    """A function that is 0 on the surface and grows outwards."""
    if kind == ELLIPSOID:
        return (p * p).sum(1) - 1
    if kind == ROUNDCONE:
        return _sdf_roundcone(p, *params)
    r1, r2, h = params
    return p[:, 0] ** 2 + p[:, 2] ** 2 - (r1 + (r2 - r1) / h * p[:, 1]) ** 2


@pytest.mark.parametrize("kind,params", [(ELLIPSOID, (0, 0, 0)), (ROUNDCONE, (0.3, 0.15, 1.0)),
                                         (FRUSTUM, (0.2, 0.5, 1.0))])
def test_normals_point_outward_along_the_gradient(kind, params):
    rng = np.random.default_rng(3)
    shape = Shape(kind, params)
    origin, dirs = _rays(2000, rng, 0.9)
    t = _cast(shape, origin, dirs)
    hit = np.isfinite(t)
    assert hit.sum() > 100
    p = origin + (t[hit] * dirs[:, hit]).T
    n = normals(shape, p)
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    eps = 1e-6
    grad = np.stack([(_implicit(kind, params, p + eps * e) - _implicit(kind, params, p - eps * e)) / (2 * eps)
                     for e in np.eye(3)], 1)
    grad /= np.linalg.norm(grad, axis=1, keepdims=True)
    np.testing.assert_allclose(n, grad, atol=2e-3)


def test_rotations_and_forward_kinematics():
    a = np.linspace(-3, 3, 7)
    for rot in (rot_x, rot_y, rot_z):
        r = rot(a)
        np.testing.assert_allclose(r @ np.swapaxes(r, -1, -2), np.broadcast_to(np.eye(3), r.shape), atol=1e-12)
        np.testing.assert_allclose(np.linalg.det(r), 1.0)
    # Conventions the body relies on: +x rotation bends +y forward (+z); +y turns forward to the left (+x).
    np.testing.assert_allclose(rot_x(np.pi / 2) @ [0, 1, 0], [0, 0, 1], atol=1e-12)
    np.testing.assert_allclose(rot_y(np.pi / 2) @ [0, 0, 1], [1, 0, 0], atol=1e-12)
    u = np.array([0.0, -1.0, 0.0])
    v = np.array([0.6, 0.0, 0.8])
    np.testing.assert_allclose(rotation_between(u, v) @ u, v, atol=1e-12)
    setup = setup_video(0, 0, 0, 3, 25, 64)
    offsets = setup.body.offsets
    rest = forward_kinematics(offsets, np.broadcast_to(np.eye(3), (1, len(offsets), 3, 3)), np.zeros((1, 3)))
    np.testing.assert_allclose(rest[0, :, :3, 3], setup.body.rest_origins, atol=1e-12)


def test_camera_projects_its_own_rays_back():
    rng = np.random.default_rng(4)
    position = np.array([0.4, 1.0, 4.0])
    cam = Camera(128, 150.0, position, look_at(position, np.array([0.0, 0.9, 0.0])), centre=(60.0, 70.0))
    u, v = rng.uniform(0, 128, 50), rng.uniform(0, 128, 50)
    d = cam.directions(u, v)
    np.testing.assert_allclose(np.linalg.norm(d, axis=0), 1.0)
    pu, pv, depth = cam.project(position + (d * rng.uniform(1, 6, 50)).T)
    np.testing.assert_allclose(pu, u, atol=1e-9)
    np.testing.assert_allclose(pv, v, atol=1e-9)
    assert (depth > 0).all()


def test_motion_is_within_limits_smooth_turning_and_on_the_floor():
    fps = 25.0
    for index in range(4):
        motion = sample_motion(11, index, 60, fps)
        for name, values in motion.angles.items():
            lo, hi = LIMITS[name[2:] if name[2:] in SIDED else name]
            deg = np.degrees(values)
            assert deg.min() >= lo - 1e-9 and deg.max() <= hi + 1e-9, name
            assert np.abs(np.diff(deg, 2)).max() < 10.0, name  # degrees per frame^2: smooth, no jumps
        yaw = np.degrees(motion.yaw)
        assert yaw.max() - yaw.min() > 90  # a whole-body turn beyond 90 degrees
        assert np.abs(np.diff(yaw, 2)).max() < 20.0
        setup = setup_video(11, index, index, 60, fps, 64)
        soles = transform_points(setup.world[:, setup.body.sole_bones], setup.body.sole_points)[..., 1]
        assert (soles.min(1) > -1e-6).all() and (soles.min(1) < 0.005).all()  # the lowest sole on the floor
    np.testing.assert_array_equal(sample_motion(11, 2, 30, fps).yaw, sample_motion(11, 2, 30, fps).yaw)
    assert not np.allclose(sample_motion(11, 2, 30, fps).yaw, sample_motion(12, 2, 30, fps).yaw)


def test_left_and_right_are_the_persons_own():
    """Facing the camera, the person's left shoulder appears on the image's right (COCO l-shoulder = the
    person's left), and the part labelled left-arm (LIP 14) hangs from that shoulder."""
    setup = setup_video(5, 1, 1, 40, 25, 128)
    kp = keypoints_3d(setup.body, setup.world)
    u, _, _ = setup.camera.project(kp)
    facing = np.abs(np.angle(np.exp(1j * setup.motion.yaw))) < np.radians(25)
    assert facing.any()
    assert (u[facing, INDEX["left_shoulder"]] > u[facing, INDEX["right_shoulder"]]).all()
    assert (u[facing, INDEX["left_hip"]] > u[facing, INDEX["right_hip"]]).all()
    labels = {p.name: p.material.label for p in setup.body.parts}
    assert labels["l_hand"] == 14 and labels["r_hand"] == 15
    assert labels["l_foot"] == 18 and labels["r_foot"] == 19
    assert setup.body.parts[[p.name for p in setup.body.parts].index("l_hand")].bone == BONE["l_hand"]
    # The left shoulder joint is on the body frame's +x (the person's left).
    assert setup.body.rest_origins[BONE["l_upper_arm"]][0] > 0
