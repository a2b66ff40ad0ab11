"""Transfer with the pix2pixHD baseline (IV-A2): the same interface as `cpfnet.transfer.TransferPipeline`.

    source poses (photo pixels) --crop boxes--> crop-pixel poses --> pose maps
    frame by frame: x^t = G(pose maps, I_a, X^{t-L..t-1}) --> the whole crop pasted into the photo

The generator makes the whole crop, background included, so the crop replaces the photo inside its box.
Memory is flat in the video's length: one frame at a time, only the last L outputs are kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from torch import nn

from cpfnet.body.pose_maps import render_pose_maps
from cpfnet.dataset.readers import image_to_tensor, tensor_to_image
from cpfnet.ops.crop import follow_boxes, paste_back, photo_to_crop
from cpfnet.stages.registry import pipeline_stage
from cpfnet.stages.weights import load_stage
from cpfnet.timing import Timings
from cpfnet.transfer.pipeline import FramePipeline
from cpfnet.transfer.target import Target

class Pix2PixHDPipeline(FramePipeline):
    """Make the target person dance the source's poses with the baseline generator.

    `follow_person`: the crop box moves with the neck, as TransferPipeline's does (the framing of prepared real
    videos, whose crops follow the dancer); False keeps the target's own box in every frame, the framing of
    fixed-camera training videos such as `cpfnet synth`'s. The generator makes the background from I_a, so it
    can only reproduce the framing it was trained on.
    """

    def __init__(self, generator: nn.Module, size: int, pose_sigma: float, device: str | torch.device = "cpu",
                 follow_person: bool = True):
        self.generator = generator.to(device).eval().requires_grad_(False)
        self.size = size
        self.sigma = pose_sigma
        self.device = torch.device(device)
        self.follow_person = follow_person
        self.previous_frames = generator.previous_frames
        self.timings = Timings()  # seconds per part: generator, paste

    @classmethod
    def from_checkpoints(cls, runs: str | Path, device: str = "cpu", **kwargs) -> "Pix2PixHDPipeline":
        """The generator of RUNS/baseline-pix2pixhd (latest checkpoint) at the size it was trained at."""
        networks, config = load_stage(runs, pipeline_stage(cls).name, device)
        return cls(networks["generator"], config.data.size, config.data.pose_sigma, device, **kwargs)

    def boxes(self, poses: np.ndarray, target: Target, anchor_frame: int = 0) -> np.ndarray:
        """Per-frame crop boxes [T, 4] in photo pixels."""
        if self.follow_person:
            return follow_boxes(poses, target.box, anchor_frame)
        return np.tile(np.asarray(target.box, np.float64), (len(poses), 1))

    @torch.inference_mode()
    def outputs(self, poses: np.ndarray, target: Target, anchor_frame: int = 0) -> Iterator[dict]:
        """As `frames`, with each frame's crop box: {"frame": RGB uint8 [H, W, 3], "box": (x0, y0, x1, y1)
        in photo pixels, "crop": the generated crop [3, S, S] in [-1, 1]}."""
        boxes = self.boxes(poses, target, anchor_frame)
        crop_poses = photo_to_crop(poses, boxes, self.size)
        appearance = image_to_tensor(target.resized(self.size).image)[None].to(self.device)
        # At the first frame there is no earlier output (and no ground truth): copies of I_a stand in, as in
        # training (cpfnet.baselines.pix2pixhd.task).
        history = [appearance] * self.previous_frames
        for pose, box in zip(crop_poses, boxes):
            with self.timings("generator"):
                kp = torch.from_numpy(np.ascontiguousarray(pose[None], np.float32)).to(self.device)
                maps = render_pose_maps(kp, self.size, self.size, self.sigma)
                previous = torch.stack(history, dim=1) if self.previous_frames else None
                crop = self.generator(maps, appearance, previous)["frame"]
                if self.previous_frames:
                    history = history[1:] + [crop]
            with self.timings("paste"):
                frame = paste_back(target.background, tensor_to_image(crop[0]), box)
            yield {"frame": frame, "box": box, "crop": crop[0]}
