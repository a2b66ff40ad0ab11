"""Body parts as smooth primitives hung on bones: `Part`, the affine maps from a primitive's canonical
frame into its bone's frame, and `PartList`, the ordered list a body is built into.

A part's index in its list is its id in every render (`render`, `ground_truth`), so parts are added in a
fixed order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cpfnet.synth.materials import Material
from cpfnet.synth.raycast import FRUSTUM, ROUNDCONE, Shape
from cpfnet.synth.skeleton import BONE


@dataclass
class Part:
    """One rigid primitive of the body: its shape, where it sits on its bone, its label and colours."""

    name: str
    bone: int
    shape: Shape
    local: np.ndarray  # [3, 4] canonical -> bone coordinates
    material: Material


def limb_affine(a, b, scale_x: float = 1.0, scale_z: float = 1.0) -> tuple[np.ndarray, float]:
    """Affine [3, 4] mapping a canonical ROUNDCONE / FRUSTUM axis (0..h along +y) onto the segment a -> b
    of a bone frame, cross-section scaled by (scale_x, scale_z); returns it and h = |b - a|."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    h = float(np.linalg.norm(b - a))
    y = (b - a) / h
    ref = np.array([1.0, 0.0, 0.0]) if abs(y[0]) < 0.9 else np.array([0.0, 0.0, 1.0])
    x = ref - (ref @ y) * y
    x /= np.linalg.norm(x)
    z = np.cross(x, y)
    return np.column_stack([x * scale_x, y, z * scale_z, a]), h


def ellipsoid_affine(centre, radii) -> np.ndarray:
    """Affine [3, 4] mapping the canonical unit sphere onto an axis-aligned ellipsoid of a bone frame."""
    return np.column_stack([np.diag(np.asarray(radii, np.float64)), np.asarray(centre, np.float64)])


class PartList:
    """The parts of a body in the order they are added; bones are named (`skeleton.BONE`)."""

    def __init__(self):
        self.parts: list[Part] = []

    def add(self, name, bone, kind, local, material, params=(0.0, 0.0, 0.0), cuts=()):
        """A primitive of `kind` placed by `local` [3, 4] on `bone`, with its shape parameters and cuts."""
        self.parts.append(Part(name, BONE[bone], Shape(kind, tuple(float(v) for v in params), cuts), local,
                               material))

    def roundcone(self, name, bone, a, b, r1, r2, material, sx=1.0, sz=1.0):
        """A solid limb segment a -> b of the bone frame, radius r1 at a and r2 at b."""
        local, h = limb_affine(a, b, sx, sz)
        self.add(name, bone, ROUNDCONE, local, material, (r1, r2, h))

    def tube(self, name, bone, a, b, r1, r2, material, sx=1.0, sz=1.0):
        """An open cloth tube (sleeve, trouser leg, skirt) around the segment a -> b."""
        local, h = limb_affine(a, b, sx, sz)
        self.add(name, bone, FRUSTUM, local, material, (r1, r2, h))
