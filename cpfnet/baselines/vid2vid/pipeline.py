"""Transfer with the vid2vid baseline (IV-A2); few-shot vid2vid's pipeline is this one with its generator.
The same interface as `cpfnet.transfer.TransferPipeline` (`frames`, `outputs`, `size`, `timings`).

    source poses (photo pixels) --crop boxes--> crop-pixel poses --> pose maps
    frame by frame: x^t = G(s_pose^t, s_pose^{t-L..t-1}, x^{t-L..t-1}, I_a, s_pose(I_a))
                    --> the whole crop pasted into the photo

The generator makes the whole crop, background included, so the crop replaces the photo inside its box.
Before the first frame the L previous frames are copies of I_a with I_a's pose, as in training. Memory is
flat in the video's length: one frame at a time, only the last L outputs and their pose maps are kept.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import torch

from cpfnet.baselines.pix2pixhd.pipeline import Pix2PixHDPipeline
from cpfnet.body.pose_maps import render_pose_maps
from cpfnet.dataset.readers import image_to_tensor, tensor_to_image
from cpfnet.ops.crop import paste_back, photo_to_crop
from cpfnet.transfer.target import Target


class Vid2VidPipeline(Pix2PixHDPipeline):
    """Make the target person dance the source's poses with a trained sequential baseline generator.

    `follow_person`: the crop box moves with the neck, as TransferPipeline's does (prepared real videos);
    False keeps the target's own box in every frame (fixed-camera training videos such as `cpfnet synth`'s).
    The generator paints the background from I_a, so it reproduces only the framing it was trained on.
    Construction, loading and crop boxes are the pix2pixHD pipeline's (the same kind of sequential generator).
    """

    def _pose_maps(self, keypoints: np.ndarray) -> torch.Tensor:
        kp = torch.from_numpy(np.ascontiguousarray(keypoints, np.float32)).to(self.device)
        return render_pose_maps(kp, self.size, self.size, self.sigma)

    @torch.inference_mode()
    def outputs(self, poses: np.ndarray, target: Target, anchor_frame: int = 0) -> Iterator[dict]:
        """As `frames`, with each frame's crop box: {"frame": RGB uint8 [H, W, 3], "box": (x0, y0, x1, y1) in
        photo pixels, "crop": the generated crop [3, S, S] in [-1, 1], "mask": the previous-frame mask
        [1, S, S] (1 = hallucinated), "flow": its offsets [2, S, S]}."""
        boxes = self.boxes(poses, target, anchor_frame)
        crop_poses = photo_to_crop(poses, boxes, self.size)
        resized = target.resized(self.size)
        appearance = image_to_tensor(resized.image)[None].to(self.device)
        appearance_pose = self._pose_maps(resized.pose[None])
        frames, pose_history = [appearance] * self.previous_frames, [appearance_pose] * self.previous_frames
        for pose, box in zip(crop_poses, boxes):
            with self.timings("generator"):
                maps = self._pose_maps(pose[None])
                out = self.generator(maps, torch.stack(pose_history, dim=1), torch.stack(frames, dim=1), appearance,
                                     appearance_pose)
                crop = out["frame"]
                frames, pose_history = frames[1:] + [crop], pose_history[1:] + [maps]
            with self.timings("paste"):
                frame = paste_back(target.background, tensor_to_image(crop[0]), box)
            yield {"frame": frame, "box": box, "crop": crop[0], "mask": out["mask"][0], "flow": out["flow"][0]}
