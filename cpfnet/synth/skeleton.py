"""The dancer's skeleton: bone hierarchy, rotations and forward kinematics.

Body frame (every bone's frame at rest): x = the person's LEFT, y = up, z = the person's forward. At zero
yaw the person faces the camera, so their left appears on the image's right. Each bone's origin is its
proximal joint (a limb bone starts at its shoulder / elbow / hip ...); limbs hang along -y at rest.
The "skirt" bone sits at the hips and swings with the mean of both thighs, so a skirt stays rigid (exact
flow) yet follows the legs.

Shapes are per identity (`rest_offsets`), joint rotations per motion: the same rotations on two skeletons
give "the same dance" on two body shapes.
"""

from __future__ import annotations

import numpy as np

BONES = (
    "pelvis", "spine", "chest", "neck", "head",
    "r_upper_arm", "r_forearm", "r_hand",
    "l_upper_arm", "l_forearm", "l_hand",
    "r_thigh", "r_shin", "r_foot",
    "l_thigh", "l_shin", "l_foot",
    "skirt",
)
BONE = {name: i for i, name in enumerate(BONES)}
NUM_BONES = len(BONES)
PARENT = tuple(-1 if n == "pelvis" else BONE[p] for n, p in zip(BONES, (
    None, "pelvis", "spine", "chest", "neck",
    "chest", "r_upper_arm", "r_forearm",
    "chest", "l_upper_arm", "l_forearm",
    "pelvis", "r_thigh", "r_shin",
    "pelvis", "l_thigh", "l_shin",
    "pelvis",
)))
# +1 for the person's left side, -1 for the right, 0 on the midline: mirrors lateral offsets and angles.
SIDE = tuple(1 if n.startswith("l_") else -1 if n.startswith("r_") else 0 for n in BONES)


def rot_x(a: np.ndarray) -> np.ndarray:
    """Rotations about x by angles `a` [...] (radians) -> [..., 3, 3]. Positive turns +y towards +z."""
    a = np.asarray(a, np.float64)
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2)


def rot_y(a: np.ndarray) -> np.ndarray:
    """Rotations about y (up) -> [..., 3, 3]. Positive turns +z (forward) towards +x (the left)."""
    a = np.asarray(a, np.float64)
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def rot_z(a: np.ndarray) -> np.ndarray:
    """Rotations about z (forward) -> [..., 3, 3]. Positive turns +y towards -x (leaning to the right)."""
    a = np.asarray(a, np.float64)
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


def rotation_between(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The smallest rotation taking unit vector(s) u [..., 3] to v [..., 3] (Rodrigues) -> [..., 3, 3].

    Undefined for v = -u; callers keep away from it (arm elevation stays below 180 degrees)."""
    u, v = np.broadcast_arrays(np.asarray(u, np.float64), np.asarray(v, np.float64))
    axis = np.cross(u, v)
    c = (u * v).sum(-1)[..., None, None]
    k = np.zeros(axis.shape[:-1] + (3, 3))
    k[..., 0, 1], k[..., 0, 2], k[..., 1, 0] = -axis[..., 2], axis[..., 1], axis[..., 2]
    k[..., 1, 2], k[..., 2, 0], k[..., 2, 1] = -axis[..., 0], -axis[..., 1], axis[..., 0]
    return np.eye(3) + k + k @ k / (1.0 + c)


def forward_kinematics(offsets: np.ndarray, local_rotations: np.ndarray, root_position: np.ndarray) -> np.ndarray:
    """Bone-to-world transforms.

    Args:
        offsets: [B, 3] each bone's joint position in its parent's frame at rest (the root's is ignored).
        local_rotations: [T, B, 3, 3] each bone's rotation relative to its parent (the root's: to the world).
        root_position: [T, 3] world position of the root (pelvis) joint.
    Returns:
        [T, B, 4, 4] float64: world <- bone.
    """
    t, b = local_rotations.shape[:2]
    world = np.zeros((t, b, 4, 4))
    world[:, :, 3, 3] = 1.0
    for i in range(b):
        p = PARENT[i]
        if p < 0:
            world[:, i, :3, :3] = local_rotations[:, i]
            world[:, i, :3, 3] = root_position
        else:
            world[:, i, :3, :3] = world[:, p, :3, :3] @ local_rotations[:, i]
            world[:, i, :3, 3] = world[:, p, :3, 3] + np.einsum("tij,j->ti", world[:, p, :3, :3], offsets[i])
    return world


def transform_points(transforms: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply [..., 4, 4] (or [..., 3, 4]) transforms to points [..., 3]."""
    return np.einsum("...ij,...j->...i", transforms[..., :3, :3], points) + transforms[..., :3, 3]
