"""What each region of one identity's body is made of: skin, the face, hair, the top, the bottom's pieces
(hips and skirt, each trouser leg) and the shoes, built from the identity's look.

The materials draw their noise from the body's texture stream in a fixed order (skin, face, hair, the
bottom's three pieces, the top, the right then the left shoe): that order is part of a seed's meaning.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cpfnet.body.parsing_labels import LABEL
from cpfnet.synth.fabric import Fabric
from cpfnet.synth.identity import Look
from cpfnet.synth.materials import Face, Hair, Material, Shoe, Skin
from cpfnet.synth.proportions import Proportions
from cpfnet.synth.skeleton import BONE


@dataclass
class BodyMaterials:
    """The materials of one body. Skin and the bottom's fabrics are colour functions: the parts that use them
    carry different labels (arms, legs, neck; pants, skirt, dress)."""

    skin: Skin
    face: Material
    hair: Material
    top: Material
    bottom_label: int
    bottom_fabric: dict[int, Fabric]  # -1 right leg, 0 hips and skirt, 1 left leg
    shoes: dict[int, Shoe]  # -1 right, 1 left


def body_materials(look: Look, p: Proportions, rest: np.ndarray, rng: np.random.Generator) -> BodyMaterials:
    """The materials of a body with `look`, proportions `p` and rest bone origins `rest` [B, 3]."""
    hs, chest = p.hs, p.chest
    skin = Skin(look.skin, rng)
    face = Material(LABEL["face"], Face(look.skin, rng, hs, look.eye_colour,
                                        tuple(0.8 * np.asarray(look.hair_colour)), look.lip_colour))
    hair = Material(LABEL["hair"], Hair(look.hair_colour, rng))
    dress = look.bottom == "dress"
    bottom_label = {"pants": LABEL["pants"], "shorts": LABEL["pants"], "skirt": LABEL["skirt"],
                    "dress": LABEL["dress"]}[look.bottom]
    print_centre = (0.0, rest[BONE["chest"]][1] + 0.5 * chest, 0.0)
    bottom_fabric = {side: Fabric(look.bottom_colour, look.bottom_second, look.bottom_pattern, rng,
                                  print_centre, side=side) for side in (-1, 0, 1)}
    top_fabric = bottom_fabric[0] if dress else Fabric(look.top_colour, look.top_second, look.top_pattern, rng,
                                                       print_centre)
    top = Material(LABEL["dress"] if dress else LABEL["upper_clothes"], top_fabric)
    shoes = {side: Shoe(look.shoe_colour, look.sole_colour, -p.ankle_h + 0.012 * p.s, rng) for side in (-1, 1)}
    return BodyMaterials(skin=skin, face=face, hair=hair, top=top, bottom_label=bottom_label,
                         bottom_fabric=bottom_fabric, shoes=shoes)
