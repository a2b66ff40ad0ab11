"""A fixed pinhole camera framing the dancer like the person crops of real dance videos.

Pixel coordinates are continuous: pixel (row i, column j) covers [j, j+1) x [i, i+1) and its centre is
(j + 0.5, i + 0.5), the convention of `cpfnet.ops.warp`. World: y up, the floor is y = 0, the dancer
stands near the origin facing +z, the camera looks from +z.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Camera:
    size: int  # square image, pixels
    focal: float  # pixels
    position: np.ndarray  # [3] world
    rotation: np.ndarray  # [3, 3] rows: right, up, forward (world directions)
    centre: tuple[float, float] | None = None  # principal point (pixels); None = the image centre

    def directions(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Unit world directions [3, ...] of the rays through continuous pixel positions u (x), v (y)."""
        cx, cy = self.principal_point
        x = (np.asarray(u, np.float64) - cx) / self.focal
        y = -(np.asarray(v, np.float64) - cy) / self.focal
        right, up, forward = self.rotation
        d = x[None] * right.reshape((3,) + (1,) * x.ndim) + y[None] * up.reshape((3,) + (1,) * x.ndim) \
            + forward.reshape((3,) + (1,) * x.ndim)
        return d / np.sqrt((d * d).sum(0, keepdims=True))

    def grid_directions(self, offsets: np.ndarray) -> np.ndarray:
        """Ray directions for every pixel and sub-pixel sample: offsets [n, 2] (x, y in [0, 1) of the pixel)
        -> float32 [3, n, S, S]."""
        j = np.arange(self.size, dtype=np.float64)
        u = j[None, None, :] + offsets[:, 0, None, None]
        v = j[None, :, None] + offsets[:, 1, None, None]
        u, v = np.broadcast_arrays(u, v)
        return self.directions(u, v).astype(np.float32)

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """World points [..., 3] -> continuous pixel (u, v) and depth along the optical axis, each [...]."""
        rel = points - self.position
        right, up, forward = self.rotation
        depth = rel @ forward
        cx, cy = self.principal_point
        return cx + self.focal * (rel @ right) / depth, cy - self.focal * (rel @ up) / depth, depth

    @property
    def principal_point(self) -> tuple[float, float]:
        return (self.size / 2.0, self.size / 2.0) if self.centre is None else self.centre

    def summary(self) -> dict:
        return {"focal": round(float(self.focal), 3), "position": [round(float(v), 4) for v in self.position],
                "principal_point": [round(float(v), 3) for v in self.principal_point]}


def look_at(position: np.ndarray, target: np.ndarray) -> np.ndarray:
    forward = target - position
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    return np.stack([right, up, forward])


def frame_camera(size: int, body_height: float, rng: np.random.Generator) -> Camera:
    """A camera whose standing-body height fills 74-84% of the frame, feet near the bottom and room
    above for raised arms (a person crop: the principal point is shifted, as cropping does), seen from
    a little to the side and from about chest height. The whole rig scales with `body_height`, as a
    person crop does, so the same motion on two body shapes frames alike."""
    distance = rng.uniform(2.0, 2.6) * body_height
    side = np.tan(rng.uniform(-0.2, 0.2)) * distance
    position = np.array([side, rng.uniform(0.45, 0.6) * body_height, distance])
    rotation = look_at(position, np.array([0.0, 0.5 * body_height, 0.0]))
    fill = rng.uniform(0.74, 0.84)
    bottom = rng.uniform(0.92, 0.95) * size
    unit = Camera(size, 1.0, position, rotation, centre=(0.0, 0.0))
    u, v, _ = unit.project(np.array([[0.0, body_height, 0.0], [0.0, 0.0, 0.0]]))
    focal = fill * size / float(v[1] - v[0])
    return Camera(size, focal, position, rotation,
                  centre=(size / 2.0 - focal * float(u[1]), bottom - focal * float(v[1])))
