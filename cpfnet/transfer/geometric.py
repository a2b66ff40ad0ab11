"""The non-learned transfer: the photo's person moved part by part into each frame's pose (no networks).

Every frame is the photo's inpainted background with the photo's own pixels warped by the geometric
part-wise flow (cpfnet.body.limb_flow) at the photo's full resolution, and the photo's person mask warped
with them as the blend weight. It is both a baseline of the real benchmark ("geometric warp alone") and the
pixel path's flow when no flow stage is used. What the photo does not show (a turned back, a revealed torso)
is left as whatever the warp samples there: filling it in is the generator's job.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import torch

from cpfnet.transfer.pipeline import FramePipeline
from cpfnet.transfer.pixel_path import body_region, composite, geometric_region_flow, photo_source, warp_photo
from cpfnet.transfer.target import Target


class GeometricWarpPipeline(FramePipeline):
    """`outputs(poses, target)` yields {"frame": RGB uint8 [H, W, 3] at the photo's size, "box": the region
    (x0, y0, x1, y1) of the photo that was redrawn}; needs a target with its full-size photo and mask."""

    def __init__(self, device: str | torch.device = "cpu"):
        self.device = torch.device(device)

    @torch.inference_mode()
    def outputs(self, poses: np.ndarray, target: Target, anchor_frame: int = 0) -> Iterator[dict]:
        if target.photo is None or target.photo_mask is None:
            raise ValueError("the geometric warp needs the target's full-size photo and mask (prepare_target)")
        source = photo_source(target.photo, target.photo_mask, self.device)
        photo_pose = target.pose_in_photo
        height, width = target.background.shape[:2]
        for pose in poses:
            region = body_region(pose, width, height)
            if region[2] <= region[0] or region[3] <= region[1]:
                yield {"frame": target.background.copy(), "box": region}
                continue
            geo = geometric_region_flow(photo_pose, pose, region)
            warped = warp_photo(source, geo["flow"].to(self.device), geo["reach"].to(self.device))
            yield {"frame": composite(target.background, region, warped["image"], warped["alpha"]), "box": region}
