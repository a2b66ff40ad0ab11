"""Surface appearance and LIP labels of body parts, as functions of the part-local surface point.

A material is evaluated at hit points given in three coordinate systems, all fixed to the body surface:
`pc` the part's canonical coordinates (e.g. the distance along a limb's axis), `pb` its bone's frame
(metres; x = the person's left, y = up, z = forward at rest) and `pr` the rest-pose body frame (the bone
frame shifted by the bone's rest position, so a pattern runs on continuously across bones). The label is
a function of (part, point) only, never of colour: parsing is exact at every pixel centre.

Here: `Material` (a label and a colour function) and the colour functions of skin, the face, hair and
shoes; cloth is `fabric.Fabric`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from cpfnet.synth.textures import SineNoise, ellipse, mix, noise_scale, smoothstep

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

    @property
    def gloss(self) -> float:
        """How shiny the surface is (scales the light's specular highlight): skin and hair a little, shoes
        more, matte cloth hardly."""
        return float(getattr(self.colour, "gloss", 0.2))

    def albedo(self, pc: np.ndarray, pb: np.ndarray, pr: np.ndarray) -> np.ndarray:
        """Surface colour [N, 3] float32 in [0, 1] of surface points."""
        return np.asarray(self.colour(pc, pb, pr), np.float32)


class Skin:
    """Skin: a tone with faint low-frequency variation and a little fine mottling."""

    gloss = 0.45

    def __init__(self, tone, rng: np.random.Generator):
        self.tone = np.asarray(tone, np.float32)
        self.noise = SineNoise(rng, 12.0, waves=4)
        self.fine = SineNoise(rng, 60.0, waves=4)

    def __call__(self, pc, pb, pr):
        pr = pr.astype(np.float32)
        return self.tone * (1.0 + 0.035 * self.noise(pr) + 0.015 * self.fine(pr))[:, None]


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
    """Hair: a colour with strands along the head's vertical (fine and coarse, so some show at any size),
    clumps, and lighter tips or darker roots at random."""

    gloss = 0.8

    def __init__(self, colour, rng: np.random.Generator):
        self.colour = np.asarray(colour, np.float32)
        self.strands = SineNoise(rng, 180.0, waves=8, anisotropy=(1, 0.08, 1))
        self.locks = SineNoise(rng, 60.0, waves=8, anisotropy=(1, 0.1, 1))
        self.clumps = SineNoise(rng, 25.0, waves=4, anisotropy=(1, 0.2, 1))
        self.gradient = float(rng.uniform(-0.25, 0.35))  # lighter (+) or darker (-) towards the tips

    def __call__(self, pc, pb, pr):
        pb = pb.astype(np.float32)
        v = 1.0 + 0.12 * self.strands(pb) + 0.14 * self.locks(pb) + 0.08 * self.clumps(pb)
        v = v * (1 + self.gradient * smoothstep(0.1, -0.3, pb[:, 1]))
        # Plus a little in absolute terms: very dark hair still shows its strands.
        return np.clip(self.colour * v[:, None] + 0.025 * (v[:, None] - 1), 0, 1)


class Shoe:
    """A shoe: upper colour, a lighter or darker sole below `sole_height` (foot-bone y), laces on top."""

    gloss = 0.7

    def __init__(self, colour, sole_colour, sole_height: float, rng: np.random.Generator):
        self.colour = np.asarray(colour, np.float32)
        self.sole = np.asarray(sole_colour, np.float32)
        self.sole_height = sole_height
        self.noise = SineNoise(rng, 90.0)

    def __call__(self, pc, pb, pr):
        m = smoothstep(self.sole_height + 0.003, self.sole_height - 0.003, pb[:, 1])
        return mix(self.colour, self.sole, m.astype(np.float32)) * noise_scale(self.noise, 0.04, pb)
