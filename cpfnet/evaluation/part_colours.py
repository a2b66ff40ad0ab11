"""Does the output wear the photo's clothes? The mean colour of each body part, output against photo.

For every frame the pipeline made, the output frame is cut at that frame's crop box and each LIP part the
generated parsing shows (at least `min_pixels` pixels) is averaged; the photo's crop is averaged per part of
its own parsing. The distance is CIE76 Delta E in CIELAB (about 2.3 is a just-noticeable difference, 10
"similar colours", 50 a different colour) between the two means of the same part.
"""

from __future__ import annotations

from typing import Iterable

import cv2
import numpy as np

from cpfnet.body.parsing_labels import LABEL_NAMES
from cpfnet.ops.crop import crop_box
from cpfnet.transfer.target import Target


def _lab(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float64) * [100 / 255, 1, 1] - [0, 128, 128]


def part_means(image: np.ndarray, labels: np.ndarray, min_pixels: int) -> dict[int, np.ndarray]:
    """{LIP id: mean CIELAB colour} of the parts (not background) of image [S, S, 3] with labels [S, S]."""
    lab = _lab(image)
    return {int(k): lab[labels == k].mean(axis=0) for k in np.unique(labels)
            if k != 0 and (labels == k).sum() >= min_pixels}


def part_colour_distances(outputs: Iterable[dict], target: Target, min_pixels: int = 20) -> dict[str, float]:
    """Mean Delta E per part name over the frames of `outputs` (TransferPipeline.outputs dicts: "frame",
    "box", "parsing" probabilities [20, S, S]), against the target photo's crop (prepared at the same S);
    "all": over every part and frame."""
    reference = part_means(target.image, target.parsing, min_pixels)
    found: dict[int, list[float]] = {}
    for out in outputs:
        parsing = out["parsing"]
        labels = parsing.argmax(0).cpu().numpy() if hasattr(parsing, "cpu") else np.asarray(parsing).argmax(0)
        crop = crop_box(out["frame"], out["box"], labels.shape[0])
        for k, mean in part_means(crop, labels, min_pixels).items():
            if k in reference:
                found.setdefault(k, []).append(float(np.linalg.norm(mean - reference[k])))
    result = {LABEL_NAMES[k]: float(np.mean(v)) for k, v in sorted(found.items())}
    if found:
        result["all"] = float(np.mean([d for v in found.values() for d in v]))
    return result
