"""Procedural solid textures: functions of a 3D point, so a pattern evaluated at a body part's own
(bone-local) surface point stays fixed to the surface however the body moves.

All take points [N, 3] (metres) and return values [N] in [0, 1] (masks) or [-1, 1] (noise); edges are
smoothed over a few millimetres so that supersampling resolves them without aliasing.
"""

from __future__ import annotations

import numpy as np


def smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


class SineNoise:
    """Smooth band-limited noise: a sum of K plane waves with random directions and phases (fast, no
    lattice), frequency `scale` cycles per metre on average."""

    def __init__(self, rng: np.random.Generator, scale: float, waves: int = 6, anisotropy=(1.0, 1.0, 1.0)):
        dirs = rng.normal(size=(waves, 3)) * np.asarray(anisotropy)
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        self.freqs = (dirs * scale * rng.uniform(0.6, 1.4, size=(waves, 1)) * 2 * np.pi).astype(np.float32)
        self.phases = rng.uniform(0, 2 * np.pi, size=waves).astype(np.float32)

    def __call__(self, p: np.ndarray) -> np.ndarray:
        return np.sin(p @ self.freqs.T + self.phases).sum(1) / np.sqrt(len(self.phases) / 2)


def noise_scale(noise: SineNoise, amount: float, p: np.ndarray) -> np.ndarray:
    """1 + amount * noise(p) as a column [N, 1]: a shading factor for colours [N, 3]."""
    return (1.0 + amount * noise(p))[:, None]


def stripes(x: np.ndarray, period: float, duty: float = 0.5, soft: float = 0.004) -> np.ndarray:
    """1 on the stripes of a 1D coordinate x, 0 between (duty = fraction covered)."""
    f = np.mod(x / period, 1.0) * period
    w = duty * period
    return smoothstep(0, soft, f) * (1 - smoothstep(w - soft, w, f))


def checks(u: np.ndarray, v: np.ndarray, period: float) -> np.ndarray:
    """Checkerboard mask on two coordinates, with soft edges."""
    a = stripes(u, period)
    b = stripes(v, period)
    return a + b - 2 * a * b


def dots(p: np.ndarray, period: float, radius: float, soft: float = 0.003) -> np.ndarray:
    """Polka dots: balls of `radius` on a 3D lattice of `period` (their sections on a surface are dots)."""
    q = p - np.round(p / period) * period
    dist = np.sqrt((q * q).sum(1))
    return 1 - smoothstep(radius - soft, radius, dist)


def ellipse(u: np.ndarray, v: np.ndarray, cu: float, cv: float, ru: float, rv: float, soft: float = 0.15):
    """Soft mask of an ellipse centred (cu, cv) with radii (ru, rv); `soft` is relative to the radius."""
    r = np.sqrt(((u - cu) / ru) ** 2 + ((v - cv) / rv) ** 2)
    return 1 - smoothstep(1 - soft, 1, r)


def mix(a: np.ndarray, b: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Blend colours a, b ([3] or [N, 3]) by mask m [N]."""
    return a * (1 - m[:, None]) + b * m[:, None]


def hash01(ix: np.ndarray, iy: np.ndarray, seed: int) -> np.ndarray:
    """A deterministic pseudo-random value in [0, 1) per integer cell (ix, iy) (planks, tiles, bricks)."""
    h = (ix.astype(np.int64).astype(np.uint32) * np.uint32(0x8DA6B343)) ^ \
        (iy.astype(np.int64).astype(np.uint32) * np.uint32(0xD8163841)) ^ np.uint32(seed & 0xFFFFFFFF)
    h ^= h >> np.uint32(15)
    h *= np.uint32(0x2C1B3C6D)
    h ^= h >> np.uint32(12)
    h *= np.uint32(0x297A2D39)
    h ^= h >> np.uint32(15)
    return h.astype(np.float64) / 2.0 ** 32


def hash3(p: np.ndarray, period: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The lattice cell of 3D points p [N, 3] for cells of side `period`: the offset of each point from its
    cell's centre [N, 3] and a pseudo-random value in [0, 1) per cell [N] (small all-over prints)."""
    cell = np.floor(p / period)
    h = hash01(cell[:, 0], cell[:, 1] + 7919.0 * cell[:, 2], seed)
    return p - (cell + 0.5) * period, h


def value_noise(x: np.ndarray, y: np.ndarray, seed: int, octaves: int = 4) -> np.ndarray:
    """2D fractal value noise in about [-1, 1] (backgrounds: plaster, carpet, concrete)."""
    total = np.zeros(x.shape)
    amp, norm = 1.0, 0.0
    for o in range(octaves):
        ix, iy = np.floor(x), np.floor(y)
        fx, fy = x - ix, y - iy
        fx, fy = fx * fx * (3 - 2 * fx), fy * fy * (3 - 2 * fy)
        s = seed + 1013 * o
        v00, v10 = hash01(ix, iy, s), hash01(ix + 1, iy, s)
        v01, v11 = hash01(ix, iy + 1, s), hash01(ix + 1, iy + 1, s)
        v = (v00 * (1 - fx) + v10 * fx) * (1 - fy) + (v01 * (1 - fx) + v11 * fx) * fy
        total += amp * (2 * v - 1)
        norm += amp
        amp *= 0.5
        x, y = x * 2.03, y * 2.03
    return total / norm
