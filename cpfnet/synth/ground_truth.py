"""Exact ground truth from the renderer: appearance flow, visibility and keypoint confidences.

Appearance flow (paper III-C, computed as the paper does from a 3D body, here the true one): a foreground
pixel of frame i shows part k at canonical point p. Moved with the appearance frame's pose, p lands at
world X; its projection (u, v) is the flow (absolute continuous pixels, centres at j + 0.5, the
convention of `cpfnet.ops.warp`). It is visible (0) when, in the appearance frame, the first surface on
the camera ray through X is X itself (same part, ray length within `tolerance`: nothing occludes it) and
the appearance pixel nearest to (u, v) carries the same LIP label, so that sampling the appearance frame
there fetches this very cloth or skin; hidden (1) otherwise, including outside the image. The second
condition only bites within half a pixel of a label boundary of the appearance frame. Background pixels
are 2 and flow to their own pixel centre.

Keypoint confidence: 1 visible, 0.5 hidden by the body, 0 outside the image. A keypoint is visible when
the first surface on the ray to it belongs to its own limb (e.g. the elbow's upper arm or forearm) and
lies less than the limb's thickness in front of it, and its pixel's centre shows its limb too.
"""

from __future__ import annotations

import numpy as np

from cpfnet.synth.body import BodyModel
from cpfnet.synth.render import Posed, Renderer

VISIBLE, HIDDEN, BACKGROUND = 0, 1, 2
FLOW_TOLERANCE = 0.002  # metres along the ray; float32 casting is exact to about 1e-6 m


def _rays_to(renderer: Renderer, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit directions [3, N] from the camera to world points [N, 3] and their distances [N]."""
    rel = points - renderer.origin
    dist = np.sqrt((rel * rel).sum(1))
    return (rel / dist[:, None]).T, dist


def keypoints(renderer: Renderer, posed: Posed, points: np.ndarray) -> np.ndarray:
    """COCO-18 keypoints [18, 3] (x, y pixels; confidence) of world keypoint positions [18, 3]."""
    body: BodyModel = renderer.body
    size = renderer.size
    u, v, depth = renderer.camera.project(points)
    inside = (u >= 0) & (u < size) & (v >= 0) & (v < size) & (depth > 0)
    dirs, dist = _rays_to(renderer, points)
    t, part = renderer.cast_rays(posed, dirs, u, v)
    uc, vc = np.floor(u) + 0.5, np.floor(v) + 0.5
    t_c, part_c = renderer.cast_rays(posed, renderer.camera.directions(uc, vc), uc, vc)
    visible = np.zeros(len(points), bool)
    for j in range(len(points)):
        allowed = body.keypoint_parts[j]
        visible[j] = (part[j] in allowed and t[j] >= dist[j] - body.keypoint_tolerance[j]
                      and part_c[j] in allowed)
    confidence = np.where(inside, np.where(visible, 1.0, 0.5), 0.0)
    return np.stack([u, v, confidence], 1).astype(np.float32)


def appearance_flow(renderer: Renderer, frame: dict, appearance_posed: Posed,
                    appearance_parsing: np.ndarray | None, tolerance: float = FLOW_TOLERANCE
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Flow [S, S, 2] float32 and visibility [S, S] uint8 of a rendered frame (`Renderer.render` output:
    part, point, parsing) against the appearance frame (its posed parts and its parsing [S, S]).

    With `appearance_parsing` None, visibility is the exact 3D test alone (for analysis)."""
    size = renderer.size
    grid = (np.arange(size, dtype=np.float64) + 0.5)
    flow = np.stack(np.meshgrid(grid, grid, indexing="xy"), -1)
    visibility = np.full((size, size), BACKGROUND, np.uint8)
    fg = frame["part"] >= 0
    if not fg.any():
        return flow.astype(np.float32), visibility
    k = frame["part"][fg].astype(np.int64)
    p = frame["point"][fg]
    m = appearance_posed.to_world[k]  # [N, 3, 4]
    x = np.einsum("nij,nj->ni", m[:, :, :3], p) + m[:, :, 3]
    u, v, _ = renderer.camera.project(x)
    flow[fg] = np.stack([u, v], 1)
    inside = (u >= 0) & (u < size) & (v >= 0) & (v < size)
    vis = np.full(len(k), HIDDEN, np.uint8)
    idx = np.nonzero(inside)[0]
    if len(idx):
        dirs, dist = _rays_to(renderer, x[idx])
        t, part = renderer.cast_rays(appearance_posed, dirs, u[idx], v[idx])
        ok = (part == k[idx]) & (np.abs(t - dist) < tolerance)
        if appearance_parsing is not None:
            nearest = appearance_parsing[np.floor(v[idx]).astype(np.int64), np.floor(u[idx]).astype(np.int64)]
            ok &= nearest == frame["parsing"][fg][idx]
        vis[idx[ok]] = VISIBLE
    visibility[fg] = vis
    return flow.astype(np.float32), visibility


def appearance_index(poses: np.ndarray) -> int:
    """The frame with the largest keypoint-confidence sum (paper IV-A1); ties go to the earliest."""
    return int(np.argmax(poses[..., 2].sum(-1)))
