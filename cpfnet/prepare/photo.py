"""One photo in memory -> its crop, parsing, keypoints and clean background (the transfer pipeline's target),
with the same crop-mask-parse step as a prepared video's frames (`cpfnet.prepare.crop_parse`)."""

from __future__ import annotations

import logging

import numpy as np

from cpfnet.errors import UserError
from cpfnet.ops.crop import crop_box
from cpfnet.prepare.background import inpaint_background
from cpfnet.prepare.config import PrepareConfig
from cpfnet.prepare.crop_parse import crop_and_parse
from cpfnet.prepare.crop_track import crop_boxes, person_box
from cpfnet.prepare.pose_mediapipe import detect_photo
from cpfnet.prepare.segmentation import mask_box

log = logging.getLogger(__name__)


def prepare_photo(image: np.ndarray, config: PrepareConfig | None = None) -> dict[str, np.ndarray]:
    """One photo in memory, as `prepare_video` would write it (the transfer pipeline's target photo).

    Args:
        image: RGB uint8 [H, W, 3], upright (`read_photo` reads files so).
    Returns:
        dict: `image` crop [S, S, 3], `parsing` [S, S] uint8 LIP, `keypoints` [18, 3] in crop pixels,
        `box` [4] (x0, y0, x1, y1) in photo pixels, `background` [S, S, 3] (the crop's clean background),
        `background_full` [H, W, 3], `keypoints_full` [18, 3] and `mask_full` [H, W] bool in photo pixels.
        Raises UserError when nobody is in the photo.
    """
    config = config or PrepareConfig()
    config.validate()
    h, w = image.shape[:2]
    det = detect_photo(image, config.mask_threshold)
    box = person_box(det.keypoints, mask_box(det.mask)) if det.found else None
    if box is None:
        raise UserError("no person found in the photo; give a photo of one person, whole body in view")
    if det.several:
        log.warning("more than one person in the photo; kept the largest")
    boxes, _ = crop_boxes(np.array([box]), config.padding, "fixed", frame_size=(w, h))
    size = config.size
    cropped = crop_and_parse(image, boxes[0], size, det.keypoints, config.min_confidence, mask=det.mask)
    background_full = inpaint_background(image, det.mask, method=config.inpaint_method)
    return {"image": cropped.image, "parsing": cropped.parsing, "keypoints": cropped.keypoints, "box": boxes[0],
            "background": crop_box(background_full, boxes[0], size), "background_full": background_full,
            "keypoints_full": det.keypoints, "mask_full": det.mask}
