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

from cpfnet.synth.palette import garment_colour
from cpfnet.synth.textures import SineNoise, checks, dots, ellipse, hash01, hash3, mix, smoothstep, stripes

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


def _noise_scale(noise: SineNoise, amount: float, p: np.ndarray) -> np.ndarray:
    return (1.0 + amount * noise(p))[:, None]


def _garment_rng(base, second, pattern: str) -> np.random.Generator:
    """The random stream of one garment's pattern, from its colours and pattern: the pieces of a garment
    (hips and both trouser legs, a dress's top and skirt) are built as separate fabrics, and must be one
    cloth with one stripe width and one print. The colours come from the identity's stream, so this
    stays a function of (seed, identity)."""
    key = [int(round(float(c) * 1e6)) for c in (*base, *second)] + [sum(map(ord, pattern))]
    return np.random.default_rng(key)


class Fabric:
    """Cloth: a base colour with a pattern in a second (and sometimes a third) colour, as a solid texture
    of the rest-pose body point `pr` (continuous across torso bones), times weave, heather and fold
    variation. Edges are a few millimetres soft: sharp at any rendering size, without aliasing.

    Patterns: plain; heather (melange jersey: grain of light and dark fibres); hstripes (Breton stripes),
    vstripes, pinstripes (thin lines); checks, gingham (the two overlapping stripe sets a mix), plaid
    (tartan: two or three colours, two stripe widths); dots, ditsy (a small all-over print of flowers in
    two colours on a jittered lattice); camo (blotches of three colours); print (a chest graphic: disc, ring,
    diamond, multi-colour badge), text (a block of "lettering"); colourblock; denim (vertical warp
    streaks, a faded front, seams); knit (ribs); side_stripe (track pants)."""

    PATTERNS = ("plain", "heather", "hstripes", "vstripes", "pinstripes", "checks", "gingham", "plaid", "dots",
                "ditsy", "camo", "print", "text", "colourblock", "denim", "knit", "side_stripe")

    def __init__(self, base, second, pattern: str, rng: np.random.Generator, print_centre=(0.0, 1.2, 0.0),
                 side: int = 0):
        if pattern not in self.PATTERNS:
            raise ValueError(f"unknown pattern {pattern!r}; known: {self.PATTERNS}")
        g = _garment_rng(base, second, pattern)
        self.base = np.asarray(base, np.float32)
        self.second = np.asarray(second, np.float32)
        third = np.asarray(garment_colour(g), np.float32)
        if np.abs(third - self.base).mean() < 0.15 or np.abs(third - self.second).mean() < 0.15:
            third = np.clip(0.5 * (self.base + self.second) + np.float32(0.35) * np.sign(0.5 - self.base), 0, 1)
        self.third = third.astype(np.float32)
        self.pattern = pattern
        self.side = side
        self.period = g.uniform(0.02, 0.07)
        self.duty = g.uniform(0.25, 0.55)
        if pattern == "pinstripes":
            self.period, self.duty = g.uniform(0.012, 0.03), g.uniform(0.12, 0.22)
        elif pattern in ("plaid", "gingham", "checks"):
            self.period = g.uniform(0.025, 0.09)
        self.radius = self.period * g.uniform(0.15, 0.3)
        self.print_centre = np.asarray(print_centre, np.float32) + np.float32([0, g.uniform(-0.04, 0.02), 0])
        self.print_kind = int(g.integers(4))
        self.print_size = g.uniform(0.05, 0.1)
        self.text_rows = int(g.integers(1, 4))
        self.block_height = print_centre[1] - g.uniform(0.05, 0.15)
        self.seed = int(g.integers(2 ** 31))
        # Fine weave (sub-pixel at most sizes), heather grain (a few pixels), folds and creases.
        self.weave = SineNoise(rng, 150.0 if pattern == "denim" else 80.0, anisotropy=(1, 3, 1))
        self.grain = SineNoise(g, 45.0, waves=8)
        self.streaks = SineNoise(g, 110.0, waves=8, anisotropy=(1, 0.08, 1))
        self.folds = SineNoise(g, 9.0, waves=5)
        self.creases = SineNoise(g, 22.0, waves=5, anisotropy=(0.35, 1, 0.35))
        self.fold_amount = g.uniform(0.03, 0.1)
        self.camo = (SineNoise(g, 9.0, waves=6), SineNoise(g, 14.0, waves=6))
        self.fade = SineNoise(g, 5.0, waves=3)
        self.gloss = 0.15 if pattern not in ("denim", "knit", "heather") else 0.05

    # ---- masks: where the second (and third) colour shows ----------------------------------------
    def _arc(self, pc, pr) -> np.ndarray:
        """A horizontal coordinate around the body (metres): around the torso's axis on the torso, around
        the limb's own axis on a trouser leg (pc of a limb is its cross-section)."""
        if self.side:
            return np.arctan2(pc[:, 0], pc[:, 2]) * np.sqrt(pc[:, 0] ** 2 + pc[:, 2] ** 2)
        return np.arctan2(pr[:, 0], pr[:, 2]) * np.float32(0.15)

    def _colour(self, pc, pb, pr) -> np.ndarray:
        x, y, z = pr[:, 0], pr[:, 1], pr[:, 2]
        n = len(pr)
        pattern, base, second, third = self.pattern, self.base, self.second, self.third
        if pattern == "hstripes":
            return mix(base, second, stripes(y, self.period, self.duty))
        if pattern in ("vstripes", "pinstripes"):
            return mix(base, second, stripes(self._arc(pc, pr), self.period, self.duty, soft=0.002))
        if pattern == "checks":
            return mix(base, second, checks(x + 0.5 * z, y, self.period) * 0.9)
        if pattern == "gingham":
            a = stripes(x + 0.5 * z, self.period, 0.5)
            b = stripes(y, self.period, 0.5)
            return mix(mix(base, 0.5 * (base + second), np.maximum(a, b)), second, a * b)
        if pattern == "plaid":
            u = x + 0.5 * z
            wide = np.maximum(stripes(u, self.period, 0.35), stripes(y, self.period, 0.35))
            thin = np.maximum(stripes(u + 0.4 * self.period, self.period, 0.08, 0.002),
                              stripes(y + 0.4 * self.period, self.period, 0.08, 0.002))
            both = stripes(u, self.period, 0.35) * stripes(y, self.period, 0.35)
            colour = mix(base, 0.55 * base + 0.45 * second, wide)
            return mix(mix(colour, second, both), third, thin)
        if pattern == "dots":
            return mix(base, second, dots(pr, self.period, self.radius))
        if pattern == "ditsy":
            q, h = hash3(pr, 0.03, self.seed)
            q = q + (np.stack([hash01(h * 1e6, h, 1), hash01(h * 1e6, h, 2), hash01(h * 1e6, h, 3)], 1) - 0.5) * 0.012
            r = np.sqrt((q * q).sum(1))
            petals = 1 - smoothstep(0.0045, 0.0065, r)
            centre = 1 - smoothstep(0.0015, 0.0025, r)
            flower = np.where(h[:, None] < 0.5, second, third)
            colour = mix(base, flower, petals)
            return mix(colour, np.float32([0.95, 0.88, 0.35]), centre * (h > 0.2))
        if pattern == "camo":
            a, b = self.camo[0](pr), self.camo[1](pr + 0.3)
            colour = mix(base, second, smoothstep(0.2, 0.28, a))
            return mix(colour, third, smoothstep(0.45, 0.53, b))
        if pattern in ("print", "text"):
            u, v = x - self.print_centre[0], y - self.print_centre[1]
            front = smoothstep(0.0, 0.02, pb[:, 2])
            if pattern == "text":
                return self._text(base, second, u, v, front)
            return self._print(base, second, third, u, v, front)
        if pattern == "colourblock":
            return mix(base, second, smoothstep(self.block_height + 0.004, self.block_height - 0.004, y))
        if pattern == "side_stripe":
            # Along the outer side of a leg: the limb's canonical radial angle near its lateral direction.
            ang = np.arctan2(pc[:, 2], pc[:, 0] * (self.side or 1))
            return mix(base, second, 1 - smoothstep(0.18, 0.24, np.abs(ang)))
        if pattern == "denim":
            # Warp threads run down the leg: streaky noise, a lighter, faded front, darker seams.
            streak = 1 + 0.07 * self.streaks(pr) + 0.05 * self.grain(pr)
            # The front of a leg is canonical -z (see `body.limb_affine`), of the hips bone +z.
            front = -pc[:, 2] / (np.sqrt(pc[:, 0] ** 2 + pc[:, 2] ** 2) + 1e-6) if self.side else pb[:, 2] * 20
            fade = smoothstep(0.0, 0.8, front)
            fade = fade * (0.5 + 0.5 * smoothstep(-0.5, 0.8, self.fade(pr)))
            light = np.clip(base * 1.5 + 0.1, 0, 1)
            colour = mix(base, light, (0.45 * fade).astype(np.float32)) * streak[:, None]
            if self.side:
                seam = 1 - smoothstep(0.03, 0.06, np.abs(np.arctan2(pc[:, 2], pc[:, 0] * self.side)))
                colour = colour * (1 - 0.35 * seam)[:, None]
            return colour
        if pattern == "knit":
            rib = 0.5 + 0.5 * np.sin(self._arc(pc, pr) * np.float32(2 * np.pi / 0.016))
            return base * (0.86 + 0.14 * rib)[:, None] * _noise_scale(self.grain, 0.06, pr)
        if pattern == "heather":
            return base * _noise_scale(self.grain, 0.12, pr) * _noise_scale(self.streaks, 0.05, pr)
        return np.broadcast_to(base, (n, 3))

    def _print(self, base, second, third, u, v, front):
        s = self.print_size
        k = self.print_kind
        disc = ellipse(u, v, 0, 0, s, s, soft=0.05)
        if k == 0:
            return mix(base, second, disc * front)
        if k == 1:
            ring = disc * (1 - ellipse(u, v, 0, 0, 0.6 * s, 0.6 * s, 0.08))
            return mix(mix(base, second, ring * front), third, ellipse(u, v, 0, 0, 0.3 * s, 0.3 * s, 0.1) * front)
        if k == 2:
            diamond = 1 - smoothstep(0.95 * s, s, np.abs(u) + np.abs(v))
            inner = 1 - smoothstep(0.55 * s, 0.6 * s, np.abs(u) + np.abs(v))
            return mix(mix(base, second, diamond * front), third, inner * front)
        # A badge: a rounded rectangle in the second colour, stripes of the third across it.
        box = (1 - smoothstep(1.1 * s - 0.004, 1.1 * s, np.abs(u))) * (1 - smoothstep(0.7 * s - 0.004, 0.7 * s, np.abs(v)))
        bands = stripes(v + 0.7 * s, 0.35 * s, 0.4, soft=0.002) * (1 - smoothstep(0.9 * s - 0.003, 0.9 * s, np.abs(u)))
        return mix(mix(base, second, box * front), third, bands * box * front)

    def _text(self, base, second, u, v, front):
        """Rows of "letters": cells of a small grid on or off at random, in words with gaps, like lettering
        printed across the chest."""
        cw, ch = 0.007, 0.009  # a cell; a letter is 3 x 5 cells, a row 6 to 12 letters
        width = self.print_size * 1.6
        cx, cy = np.floor((u + width) / cw), np.floor((v + 0.02) / ch)
        letter, row = np.floor(cx / 4), np.floor(cy / 7)
        in_letter = (np.mod(cx, 4) < 3) & (np.mod(cy, 7) < 5)
        word_gap = hash01(letter, row, self.seed + 5) < 0.15
        on = (hash01(cx, cy, self.seed) < 0.55) & in_letter & ~word_gap
        inside = (u > -width) & (u < width) & (row >= 0) & (row < self.text_rows)
        return mix(base, second, (on & inside).astype(np.float32) * front)

    def __call__(self, pc, pb, pr):
        pr32 = pr.astype(np.float32)
        colour = self._colour(pc.astype(np.float32), pb.astype(np.float32), pr32).astype(np.float32)
        amount = 0.12 if self.pattern == "denim" else 0.05
        shade = (1.0 + amount * self.weave(pr32) + self.fold_amount * self.folds(pr32)
                 + 0.4 * self.fold_amount * self.creases(pr32))
        return colour * shade[:, None]


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
        return mix(self.colour, self.sole, m.astype(np.float32)) * _noise_scale(self.noise, 0.04, pb)
