"""Cloth: the material of tops, bottoms and dresses, a base colour with a pattern as a solid texture of the
surface point (the coordinate systems `pc`, `pb`, `pr` of `cpfnet.synth.materials`), times weave, heather
and folds."""

from __future__ import annotations

import numpy as np

from cpfnet.synth.palette import garment_colour
from cpfnet.synth.textures import (SineNoise, checks, dots, ellipse, hash01, hash3, mix, noise_scale, smoothstep,
                                   stripes)


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
            # The front of a leg is canonical -z (see `primitives.limb_affine`), of the hips bone +z.
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
            return base * (0.86 + 0.14 * rib)[:, None] * noise_scale(self.grain, 0.06, pr)
        if pattern == "heather":
            return base * noise_scale(self.grain, 0.12, pr) * noise_scale(self.streaks, 0.05, pr)
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
