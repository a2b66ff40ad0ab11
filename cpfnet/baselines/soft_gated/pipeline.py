"""Transfer with the Soft-Gated Warping-GAN baseline (IV-A2): the same interface as TransferPipeline.

    I_a, I_parsing (one-hot): appearance features encoded once per target
    per batch of frames: pose maps -> parser -> x_parsing (one-hot of its argmax, as [10]'s stage I gives a
        parsing map and stage II trained on one-hot parsings) -> matcher flow -> generator -> the whole crop
    the crop pasted into the photo (it has the background in it, as the pix2pixHD baseline's)

Frames are independent (the method is frame by frame): they run in batches of `batch_size`; memory is flat in
the video's length.
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
from cpfnet.ops.foreground import one_hot_parsing
from cpfnet.stages.registry import pipeline_stage
from cpfnet.stages.weights import load_stage
from cpfnet.timing import Timings
from cpfnet.transfer.pipeline import FramePipeline
from cpfnet.transfer.target import Target

class SoftGatedPipeline(FramePipeline):
    """Make the target person dance the source's poses with Soft-Gated Warping-GAN.

    `follow_person`: the crop box moves with the neck (prepared real videos' framing) or stays the target's
    own box (fixed-camera training videos such as `cpfnet synth`'s); see Pix2PixHDPipeline."""

    def __init__(self, parser: nn.Module, matcher: nn.Module, generator: nn.Module, size: int, pose_sigma: float,
                 device: str | torch.device = "cpu", follow_person: bool = True, batch_size: int = 8):
        self.device = torch.device(device)
        self.parser, self.matcher, self.generator = (
            net.to(self.device).eval().requires_grad_(False) for net in (parser, matcher, generator))
        self.size = size
        self.sigma = pose_sigma
        self.follow_person = follow_person
        self.batch_size = batch_size
        self.timings = Timings()

    @classmethod
    def from_checkpoints(cls, runs: str | Path, device: str = "cpu", **kwargs) -> "SoftGatedPipeline":
        """The networks of RUNS/baseline-soft-gated (latest checkpoint) at the size they were trained at."""
        networks, config = load_stage(runs, pipeline_stage(cls).name, device)
        return cls(networks["parser"], networks["matcher"], networks["generator"], config.data.size,
                   config.data.pose_sigma, device, **kwargs)

    def boxes(self, poses: np.ndarray, target: Target, anchor_frame: int = 0) -> np.ndarray:
        if self.follow_person:
            return follow_boxes(poses, target.box, anchor_frame)
        return np.tile(np.asarray(target.box, np.float64), (len(poses), 1))

    @torch.inference_mode()
    def outputs(self, poses: np.ndarray, target: Target, anchor_frame: int = 0) -> Iterator[dict]:
        """As `frames`, with each frame's crop box: {"frame": RGB uint8 [H, W, 3], "box": (x0, y0, x1, y1) in
        photo pixels, "crop": the generated crop [3, S, S] in [-1, 1], "parsing": x_parsing probabilities
        [20, S, S], "matcher_flow": the matcher's flow [2, S, S]}."""
        boxes = self.boxes(poses, target, anchor_frame)
        crop_poses = photo_to_crop(poses, boxes, self.size)
        resized = target.resized(self.size)
        appearance = image_to_tensor(resized.image)[None].to(self.device)
        source = one_hot_parsing(torch.from_numpy(resized.parsing.astype(np.int64))[None]).to(self.device)
        features = self.generator.encode_appearance(appearance)
        for first in range(0, len(poses), self.batch_size):
            chunk = slice(first, first + self.batch_size)
            with self.timings("parser"):
                kp = torch.from_numpy(np.ascontiguousarray(crop_poses[chunk], np.float32)).to(self.device)
                maps = render_pose_maps(kp, self.size, self.size, self.sigma)
                probs = self.parser(source.expand(len(kp), -1, -1, -1), maps)["probs"]
                parsing = one_hot_parsing(probs.argmax(dim=1))
            with self.timings("matcher"):
                flow = self.matcher(source, parsing)["flow"]
            with self.timings("generator"):
                crops = self.generator(maps, parsing, flow=flow, appearance_features=features)["frame"]
            for k, box in enumerate(boxes[chunk]):
                with self.timings("paste"):
                    frame = paste_back(target.background, tensor_to_image(crops[k]), box)
                yield {"frame": frame, "box": box, "crop": crops[k], "parsing": probs[k], "matcher_flow": flow[k]}
