"""The motion-transfer pipeline: composes the trained stages; inference only (no training code).

    source poses (photo pixels) --per-frame crop boxes--> crop-pixel poses --batches--> stage 1 -> x_parsing
                                                                                 stage 2a -> F, V
                                          I_a encoded once per target ---------> stage 2b -> x_fg
    frame by frame: stage 3 mask on the crop (eq. 5) -> x_fg pasted into the photo's full-size background

Memory is flat in the video's length: frames are made in batches of `batch_size` and handed on as soon
as they exist; only the poses [T, 18, 3] are held whole.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterator

import cv2
import numpy as np
import torch

from cpfnet.body.pose_maps import render_pose_maps
from cpfnet.dataset.readers import image_to_tensor, tensor_to_image
from cpfnet.ops.crop import crop_box, paste_back
from cpfnet.ops.foreground import extract_foreground, one_hot_parsing, person_mask
from cpfnet.stages.fusion.network import compose
from cpfnet.transfer.models import TrainedStages, load_trained_stages
from cpfnet.transfer.retarget import ROOT
from cpfnet.transfer.target import Target, photo_to_crop


def follow_boxes(poses: np.ndarray, box, anchor_frame: int = 0, min_confidence: float = 0.1) -> np.ndarray:
    """Per-frame crop boxes [T, 4] for poses [T, 18, 3] in photo pixels: the target's own box, moved with
    the neck. The side stays the target's, so the person keeps the scale of the appearance image I_a."""
    neck = poses[:, ROOT, :2].astype(np.float64)
    seen = poses[:, ROOT, 2] >= min_confidence
    if not seen.any():
        return np.tile(np.asarray(box, np.float64), (len(poses), 1))
    t = np.arange(len(poses))
    neck = np.stack([np.interp(t, t[seen], neck[seen, k]) for k in range(2)], axis=1)  # fill gaps
    shift = neck - neck[min(anchor_frame, len(poses) - 1)]
    return np.asarray(box, np.float64)[None] + np.concatenate([shift, shift], axis=1)


@dataclass
class StageTimer:
    """Seconds spent per stage, for the benchmark and the progress bar."""

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    def add(self, name: str, since: float) -> float:
        now = time.perf_counter()
        self.seconds[name] += now - since
        return now


class FramePipeline:
    """What every video-making pipeline offers: `outputs(poses, target, anchor_frame)` yields a dict per
    frame with at least "frame"; `frames` keeps only the pictures."""

    def frames(self, poses: np.ndarray, target: Target, anchor_frame: int = 0) -> Iterator[np.ndarray]:
        """Yield the output frames, RGB uint8 [H, W, 3] at the photo's size.

        Args:
            poses: [T, 18, 3] the (retargeted) dance in the target photo's pixels.
            target: the prepared target photo.
            anchor_frame: the frame whose crop box is the target's own.
        """
        for out in self.outputs(poses, target, anchor_frame):
            yield out["frame"]

    def outputs(self, poses: np.ndarray, target: Target, anchor_frame: int = 0) -> Iterator[dict]:
        raise NotImplementedError


class TransferPipeline(FramePipeline):
    """Make the target person dance the source's poses.

    Use `TransferPipeline.from_checkpoints(runs)` (None: the weights shipped with cpfnet), then
    `frames(poses, target)` for full-size RGB frames, or `cpfnet.transfer.video.transfer_video` for files.
    """

    def __init__(self, stages: TrainedStages, device: str | torch.device = "cpu", use_fusion: bool = True,
                 batch_size: int = 8, size: int | None = None):
        if use_fusion and stages.fusion is None:
            raise ValueError("use_fusion needs a fusion stage")
        self.stages = stages
        self.device = torch.device(device)
        self.use_fusion = use_fusion
        self.batch_size = batch_size
        self.size = size or stages.size
        # Pose maps are drawn in pixels: keep the Gaussians' size relative to the body what training saw.
        self.sigma = stages.pose_sigma * self.size / stages.size
        self.timer = StageTimer()

    @classmethod
    def from_checkpoints(cls, runs=None, device: str = "cpu", use_fusion: bool = True, **kwargs) -> "TransferPipeline":
        return cls(load_trained_stages(runs, device, need_fusion=use_fusion), device, use_fusion, **kwargs)

    @property
    def use_flow(self) -> bool:
        return self.stages.use_flow

    def _pose_maps(self, keypoints: np.ndarray) -> torch.Tensor:
        kp = torch.from_numpy(np.ascontiguousarray(keypoints, np.float32)).to(self.device)
        return render_pose_maps(kp, self.size, self.size, self.sigma)

    def _target_tensors(self, target: Target) -> dict[str, torch.Tensor]:
        """The target's inputs at the pipeline's size, encoded once: [1, ...] tensors."""
        target = target.resized(self.size)
        parsing = torch.from_numpy(target.parsing.astype(np.int64))[None].to(self.device)
        image = image_to_tensor(target.image)[None].to(self.device)
        appearance = extract_foreground(image, parsing)
        return {
            "parsing_one_hot": one_hot_parsing(parsing),
            "pose_maps": self._pose_maps(target.pose[None]),
            "features": self.stages.foreground.encode_appearance(appearance),
        }

    def _foregrounds(self, inputs: dict, poses: np.ndarray) -> dict[str, torch.Tensor | None]:
        """Stages 1 and 2 for a batch of crop-pixel poses [N, 18, 3] -> {"foreground": x_fg [N, 3, S, S],
        "parsing": x_parsing probabilities [N, 20, S, S], "flow" [N, 2, S, S] and "visibility" probabilities
        [N, 3, S, S] (None without flow)}."""
        n = len(poses)
        start = time.perf_counter()
        maps = self._pose_maps(poses)
        parsing = self.stages.parsing(inputs["parsing_one_hot"].expand(n, -1, -1, -1), maps)["probs"]
        start = self.timer.add("parsing", start)
        flow = visibility = None
        if self.use_flow:
            out = self.stages.flow(inputs["pose_maps"].expand(n, -1, -1, -1), maps)
            flow, visibility = out["flow"], out["visibility"]
            start = self.timer.add("flow", start)
        foreground = self.stages.foreground(parsing, flow, visibility,
                                            appearance_features=inputs["features"])["foreground"]
        self.timer.add("foreground", start)
        return {"foreground": foreground, "parsing": parsing, "flow": flow, "visibility": visibility}

    @torch.inference_mode()
    def outputs(self, poses: np.ndarray, target: Target, anchor_frame: int = 0) -> Iterator[dict]:
        """As `frames`, with what made each frame (for evaluation): {"frame": RGB uint8 [H, W, 3], "box": its
        crop box (x0, y0, x1, y1) in photo pixels, "parsing": x_parsing probabilities [20, S, S], "flow"
        [2, S, S] and "visibility" probabilities [3, S, S] (None without flow), "mask" [S, S] of eq. 5}; the
        tensors on the pipeline's device, in crop pixels."""
        boxes = follow_boxes(poses, target.box, anchor_frame)
        crop_poses = photo_to_crop(poses, boxes, self.size)
        inputs = self._target_tensors(target)
        previous_full = None
        for first in range(0, len(poses), self.batch_size):
            chunk = slice(first, first + self.batch_size)
            made = self._foregrounds(inputs, crop_poses[chunk])
            foregrounds, parsings = made["foreground"], made["parsing"]
            for k, box in enumerate(boxes[chunk]):
                start = time.perf_counter()
                background = image_to_tensor(crop_box(target.background, box, self.size))[None].to(self.device)
                fg, parsing = foregrounds[k:k + 1], parsings[k:k + 1]
                if self.use_fusion:
                    if previous_full is None:  # III-D: the first frame's previous frame is the plain overlay
                        previous = compose(fg, background, person_mask(parsing))
                    else:
                        previous = image_to_tensor(crop_box(previous_full, box, self.size))[None].to(self.device)
                    mask = self.stages.fusion(background, fg, previous)["mask"]
                else:  # the ablation "w/o fusion": the generated parsing is the mask
                    mask = person_mask(parsing)
                start = self.timer.add("fusion", start)
                # Eq. 5 at the photo's resolution: only the person is upsampled, the background stays sharp.
                previous_full = paste_back(target.background, tensor_to_image(fg[0]), box,
                                           mask[0, 0].float().cpu().numpy())
                self.timer.add("paste", start)
                yield {"frame": previous_full, "box": box, "parsing": parsings[k], "mask": mask[0, 0],
                       "flow": None if made["flow"] is None else made["flow"][k],
                       "visibility": None if made["visibility"] is None else made["visibility"][k]}


def side_by_side(source: np.ndarray, skeleton: np.ndarray, result: np.ndarray) -> np.ndarray:
    """source | source skeleton | result, each scaled to the result's height (the paper's figures)."""
    height = result.shape[0]

    def fit(image: np.ndarray) -> np.ndarray:
        width = max(2, round(image.shape[1] * height / image.shape[0]))
        return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)

    return np.concatenate([fit(source), fit(skeleton), result], axis=1)
