"""Surface appearance and LIP labels of body parts, as functions of the part-local surface point.

A material is evaluated at hit points given in three coordinate systems, all fixed to the body surface:
`pc` the part's canonical coordinates (e.g. the distance along a limb's axis), `pb` its bone's frame
(metres; x = the person's left, y = up, z = forward at rest) and `pr` the rest-pose body frame (the bone
frame shifted by the bone's rest position, so a pattern runs on continuously across bones). The label is
a function of (part, point) only, never of colour: parsing is exact at every pixel centre.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from cpfnet.synth.textures import SineNoise, checks, dots, ellipse, mix, smoothstep, stripes

ColourFn = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]  # (pc, pb, pr) -> [N, 3]


@dataclass
class Material:
    """A part's LIP label and colour function. Every part carries a single label: where a label changes
    on the body (a sleeve's hem, the hairline, the legs of shorts) a separate part begins, which is what
    cloth and hair are, and which keeps parsing, flow and visibility consistent to the pixel."""

    label: int
    colour: ColourFn

    def labels(self, pc: np.ndarray, pb: np.ndarray) -> np.ndarray:
        """LIP label ids [N] uint8 of surface points."""
        return np.full(len(pc), self.label, np.uint8)

    def albedo(self, pc: np.ndarray, pb: np.ndarray, pr: np.ndarray) -> np.ndarray:
        """Surface colour [N, 3] float32 in [0, 1] of surface points."""
        return np.asarray(self.colour(pc, pb, pr), np.float32)


def _noise_scale(noise: SineNoise, amount: float, p: np.ndarray) -> np.ndarray:
    return (1.0 + amount * noise(p))[:, None]


class Fabric:
    """Cloth: a base colour with a pattern in a second colour, as a solid texture of the rest-pose body
    point `pr` (continuous across torso bones), plus weave noise and slow shading variation."""

    PATTERNS = ("plain", "hstripes", "checks", "dots", "print", "colourblock", "denim", "side_stripe")

    def __init__(self, base, second, pattern: str, rng: np.random.Generator, print_centre=(0.0, 1.2, 0.0),
                 side: int = 0):
        if pattern not in self.PATTERNS:
            raise ValueError(f"unknown pattern {pattern!r}; known: {self.PATTERNS}")
        self.base = np.asarray(base, np.float32)
        self.second = np.asarray(second, np.float32)
        self.pattern = pattern
        self.period = rng.uniform(0.035, 0.09)
        self.duty = rng.uniform(0.25, 0.55)
        self.radius = self.period * rng.uniform(0.15, 0.3)
        self.print_centre = np.asarray(print_centre, np.float32)
        self.print_kind = int(rng.integers(3))
        self.print_size = rng.uniform(0.045, 0.075)
        self.block_height = print_centre[1] - rng.uniform(0.05, 0.15)
        self.side = side
        self.weave = SineNoise(rng, 150.0 if pattern == "denim" else 80.0, anisotropy=(1, 3, 1))
        self.folds = SineNoise(rng, 7.0, waves=4)

    def _mask(self, pc, pb, pr) -> np.ndarray:
        x, y, z = pr[:, 0], pr[:, 1], pr[:, 2]
        if self.pattern == "hstripes":
            return stripes(y, self.period, self.duty)
        if self.pattern == "checks":
            return checks(x + 0.5 * z, y, self.period) * 0.8
        if self.pattern == "dots":
            return dots(pr, self.period, self.radius)
        if self.pattern == "print":
            u, v = x - self.print_centre[0], y - self.print_centre[1]
            front = smoothstep(0.0, 0.02, pb[:, 2])
            s = self.print_size
            if self.print_kind == 0:
                shape = ellipse(u, v, 0, 0, s, s, soft=0.06)
            elif self.print_kind == 1:
                shape = ellipse(u, v, 0, 0, s, s, soft=0.06) * (1 - ellipse(u, v, 0, 0, 0.6 * s, 0.6 * s, 0.08))
            else:
                shape = 1 - smoothstep(0.9 * s, s, np.abs(u) + np.abs(v))
            return shape * front
        if self.pattern == "colourblock":
            return smoothstep(self.block_height + 0.004, self.block_height - 0.004, y)
        if self.pattern == "side_stripe":
            # Along the outer side of a leg: the limb's canonical radial angle near its lateral direction.
            ang = np.arctan2(pc[:, 2], pc[:, 0] * (self.side or 1))
            return 1 - smoothstep(0.18, 0.24, np.abs(ang))
        return np.zeros(len(pr), np.float32)

    def __call__(self, pc, pb, pr):
        colour = mix(self.base, self.second, self._mask(pc, pb, pr).astype(np.float32))
        amount = 0.12 if self.pattern == "denim" else 0.05
        return colour * _noise_scale(self.weave, amount, pr) * _noise_scale(self.folds, 0.06, pr)


class Skin:
    """Skin: a tone with faint low-frequency variation."""

    def __init__(self, tone, rng: np.random.Generator):
        self.tone = np.asarray(tone, np.float32)
        self.noise = SineNoise(rng, 12.0, waves=4)

    def __call__(self, pc, pb, pr):
        return self.tone * _noise_scale(self.noise, 0.035, pr)


class Face(Skin):
    """Skin of the head with eyes, brows, lips and cheeks painted at head-bone positions (`pb`), so they
    stay put however the head moves. `scale` is the head's size factor; `centre_y` the eye height."""

    def __init__(self, tone, rng, scale: float, eye_colour, brow_colour, lip_colour):
        super().__init__(tone, rng)
        self.s = scale
        self.eye = np.asarray(eye_colour, np.float32)
        self.brow = np.asarray(brow_colour, np.float32)
        self.lip = np.asarray(lip_colour, np.float32)

    def __call__(self, pc, pb, pr):
        colour = super().__call__(pc, pb, pr)
        s = self.s
        x, y = np.abs(pb[:, 0]) / s, pb[:, 1] / s
        front = pb[:, 2] > 0.05 * s
        blush = ellipse(x, y, 0.045, 0.07, 0.02, 0.014, soft=0.9) * front * 0.25
        colour = mix(colour, colour * np.float32([1.05, 0.8, 0.8]), blush.astype(np.float32))
        white = ellipse(x, y, 0.032, 0.1, 0.0145, 0.0072, soft=0.25) * front
        colour = mix(colour, np.float32([0.93, 0.92, 0.9]), white.astype(np.float32))
        iris = ellipse(x, y, 0.032, 0.1, 0.0062, 0.0062, soft=0.25) * front
        colour = mix(colour, self.eye, iris.astype(np.float32))
        pupil = ellipse(x, y, 0.032, 0.1, 0.0028, 0.0028, soft=0.3) * front
        colour = mix(colour, np.float32([0.03, 0.03, 0.03]), pupil.astype(np.float32))
        arch = 0.121 + 0.004 * (1 - ((x - 0.032) / 0.02) ** 2)
        brow = (1 - smoothstep(0.0022, 0.0035, np.abs(y - arch))) * smoothstep(0.01, 0.014, x) \
            * (1 - smoothstep(0.05, 0.054, x)) * front
        colour = mix(colour, self.brow, brow.astype(np.float32))
        lips = ellipse(x, y, 0.0, 0.04, 0.021, 0.0065, soft=0.3) * front
        return mix(colour, self.lip, lips.astype(np.float32))


class Hair:
    """Hair: a colour with strands along the head's vertical and a soft sheen band."""

    def __init__(self, colour, rng: np.random.Generator):
        self.colour = np.asarray(colour, np.float32)
        self.strands = SineNoise(rng, 180.0, waves=8, anisotropy=(1, 0.08, 1))
        self.clumps = SineNoise(rng, 25.0, waves=4, anisotropy=(1, 0.2, 1))

    def __call__(self, pc, pb, pr):
        v = 1.0 + 0.12 * self.strands(pb) + 0.08 * self.clumps(pb)
        return self.colour * v[:, None]


class Shoe:
    """A shoe: upper colour, a lighter or darker sole below `sole_height` (foot-bone y), laces on top."""

    def __init__(self, colour, sole_colour, sole_height: float, rng: np.random.Generator):
        self.colour = np.asarray(colour, np.float32)
        self.sole = np.asarray(sole_colour, np.float32)
        self.sole_height = sole_height
        self.noise = SineNoise(rng, 90.0)

    def __call__(self, pc, pb, pr):
        m = smoothstep(self.sole_height + 0.003, self.sole_height - 0.003, pb[:, 1])
        return mix(self.colour, self.sole, m.astype(np.float32)) * _noise_scale(self.noise, 0.04, pb)
