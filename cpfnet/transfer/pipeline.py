"""The motion-transfer pipeline: composes the trained stages; inference only (no training code).

    source poses (photo pixels) --per-frame crop boxes--> crop-pixel poses --batches--> stage 1 -> x_parsing
                                                                                 stage 2a -> F, V
                                          I_a encoded once per target ---------> stage 2b -> x_fg
    frame by frame: stage 3 mask on the crop (eq. 5; x^{t-1}: the last output moved into this frame's crop)
                    -> x_fg pasted into the photo's full-size background by the mask

Stages 1-2b and x^{t-1} are `cpfnet.stages.chain`'s, the same code training runs. The default pixel path
without fusion (the shipped weights) pastes the photo's own pixels, moved by F within stage 1's mask
(`cpfnet.transfer.pixel_path`): nothing there shows x_fg, so stage 2b does not run (`generates`).

Memory is flat in the video's length: frames are made in batches of `batch_size` and handed on as soon
as they exist; only the poses [T, 18, 3] are held whole. Stages 1-2b run in a worker thread; with `overlap`
(the default on a GPU, or with fusion) they make the next batch while this one is fused and pasted,
without it (the default on a CPU without fusion) the two take turns (`cpfnet.overlap`; the frames are
the same). `precision` ("fp32", "bf16", "fp16", "auto": `cpfnet.precision`) is what the networks
compute in; their outputs are float32 either way.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Iterator

import cv2
import numpy as np
import torch

from cpfnet.body.pose_maps import render_pose_maps
from cpfnet.compiled import compiled
from cpfnet.dataset.readers import image_to_tensor, tensor_to_image
from cpfnet.denormals import flushed
from cpfnet.ops.crop import crop_box, follow_boxes, paste_back, photo_to_crop
from cpfnet.ops.foreground import extract_foreground, one_hot_parsing, person_mask
from cpfnet.ops.workspace import FrameBuffers, Workspace
from cpfnet.openmp import release_threads
from cpfnet.overlap import ahead, in_turn
from cpfnet.precision import autocast, for_precision, resolve_precision
from cpfnet.stages.chain import Appearance, crop_foreground, previous_frame, run_stages
from cpfnet.stages.fusion.network import photo_bound
from cpfnet.timing import Timings
from cpfnet.transfer.models import TrainedStages, load_trained_stages
from cpfnet.transfer.personalize import personalize
from cpfnet.transfer.pixel_path import (box_region, composite, crop_flow_to_photo, paste_photo, photo_rgba,
                                        photo_source, sample_crop, warp_photo)
from cpfnet.transfer.target import Target

BATCH_PIXELS = 4 * 128 * 128  # crop pixels per batch of stages 1-2b when the batch size is not given


def auto_batch_size(size: int) -> int:
    """Frames per batch at crop `size`: as many as fit `BATCH_PIXELS` (at most 8, at least 1). Activations grow
    with the batch and, on a CPU, the speed does not: measured with the shipped weights at 256 px onto a 720 x
    1280 photo, peak memory 1481 MB at 8 frames, 985 at 2 and 889 at 1, the time the same within 10%."""
    return max(1, min(8, BATCH_PIXELS // (size * size)))


NETWORKS = ("parsing", "flow", "foreground", "fusion")


def running_stages(stages: TrainedStages, precision: str, device: torch.device, compile_networks: bool
                    ) -> TrainedStages:
    """The stages' networks as the pipeline runs them: at `precision` (bf16 weights on a CPU:
    `cpfnet.precision.for_precision`), then through torch.compile when asked (eager where that cannot run,
    `cpfnet.compiled`)."""
    def running(network):
        network = for_precision(network, precision, device)
        return compiled(network) if compile_networks else network

    return dataclasses.replace(stages, **{name: running(getattr(stages, name)) for name in NETWORKS})


class FramePipeline:
    """What every video-making pipeline offers: `outputs(poses, target, anchor_frame)` yields a dict per
    frame with at least "frame"; `frames` keeps only the pictures."""

    def frames(self, poses: np.ndarray, target: Target, anchor_frame: int = 0,
               frame_buffers: int = 0) -> Iterator[np.ndarray]:
        """Yield the output frames, RGB uint8 [H, W, 3] at the photo's size.

        Args:
            poses: [T, 18, 3] the (retargeted) dance in the target photo's pixels.
            target: the prepared target photo.
            anchor_frame: the frame whose crop box is the target's own.
            frame_buffers: > 0 allows the pipeline to reuse a frame's array that many frames later (the
                consumer is done with it by then, as an encoder is); a pipeline may ignore it (this one does).
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

    def __init__(self, stages: TrainedStages, device: str | torch.device = "cpu", use_fusion: bool | None = None,
                 batch_size: int | None = None, size: int | None = None, pixel_path: bool | None = None,
                 generate_hidden: bool = False, precision: str = "fp32", overlap: bool | None = None,
                 compile_networks: bool = False):
        if use_fusion and stages.fusion is None:
            raise ValueError("use_fusion needs a fusion stage")
        # None: fuse when the stages have a fusion stage (the shipped weights have none: README).
        use_fusion = stages.fusion is not None if use_fusion is None else use_fusion
        # The pixel path (issue 9): on by default wherever there is a flow to warp the photo by.
        if pixel_path and not stages.use_flow:
            raise ValueError("the pixel path warps the photo by the flow: it needs a flow stage")
        self.pixel_path = stages.use_flow if pixel_path is None else pixel_path
        # With the pixel path, what fills the parts the photo does not show: the photo's pixels wherever the
        # flow points (default: on real footage they score better than the generated ones, README "What the
        # shipped weights do on real photos"), or the generator's, mixed by its blend weight m.
        self.generate_hidden = generate_hidden
        self.plain_stages = stages  # personalisation tunes these, not their compiled or bf16 forms
        self.compile_networks = compile_networks
        self.device = torch.device(device)
        self.precision = resolve_precision(precision, self.device)
        self.stages = running_stages(stages, self.precision, self.device, compile_networks)
        self.use_fusion = use_fusion
        self.size = size or stages.size
        self.batch_size = batch_size or auto_batch_size(self.size)
        # Pose maps are drawn in pixels: keep the Gaussians' size relative to the body what training saw.
        self.sigma = stages.pose_sigma * self.size / stages.size
        self.timings = Timings()  # seconds per part: parsing, flow, foreground, fusion, paste
        # Side by side where the networks leave the CPU's cores free (a GPU) or this thread has networks of its
        # own to run (fusion). Otherwise on a CPU the networks' OpenMP team keeps every core busy, and the
        # paste and x264's threads beside it slowed it more than they gained: the parts take turns (the
        # shipped weights on 2 cores 3-7% faster in turn, 15-40 MB less memory; `tiny`, fused, 5-12% slower:
        # README "Performance").
        self.overlap = (self.device.type != "cpu" or use_fusion) if overlap is None else overlap

    @classmethod
    def from_checkpoints(cls, runs=None, device: str = "cpu", use_fusion: bool | None = None,
                         **kwargs) -> "TransferPipeline":
        return cls(load_trained_stages(runs, device, need_fusion=use_fusion), device, use_fusion, **kwargs)

    def personalized(self, target: Target, steps: int, progress: bool = True) -> "TransferPipeline":
        """This pipeline with its generator fine-tuned on `target` for `steps` steps (cpfnet.transfer.personalize)
        and `generate_hidden` on (the default pixel path never shows the generator's pixels); this one is left
        as it is."""
        tuned = copy.copy(self)
        tuned.generate_hidden = True
        tuned.plain_stages = personalize(self.plain_stages, target, steps, device=self.device, progress=progress).stages
        tuned.stages = running_stages(tuned.plain_stages, self.precision, self.device, self.compile_networks)
        tuned.timings = Timings()
        return tuned

    @property
    def use_flow(self) -> bool:
        return self.stages.use_flow

    def _keypoints(self, keypoints: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(keypoints, np.float32)).to(self.device)

    def _pose_maps(self, keypoints: torch.Tensor) -> torch.Tensor:
        return render_pose_maps(keypoints, self.size, self.size, self.sigma)

    def _appearance(self, target: Target, generating: bool) -> tuple[Appearance, torch.Tensor]:
        """The target's inputs at the pipeline's size, encoded once for every frame: [1, ...] tensors, and I_a
        itself. I_parsing and I_pose go in as their shares of stages 1 and 2a's first convolutions
        (`encode_appearance`), I_a as the generator's features when stage 2b runs (`generating`)."""
        target = target.resized(self.size)
        parsing = torch.from_numpy(target.parsing.astype(np.int64))[None].to(self.device)
        image = extract_foreground(image_to_tensor(target.image)[None].to(self.device), parsing)
        pose = self._keypoints(target.pose[None])
        stages, pose_maps = self.stages, self._pose_maps(pose)
        with torch.inference_mode(), autocast(self.precision, self.device):
            features = stages.foreground.encode_appearance(image) if generating else None
            appearance = Appearance(pose=pose, features=features)
            # Networks without the split first convolution (any of the plain (I, s_pose) contract) take the maps.
            if hasattr(stages.parsing, "encode_appearance"):
                appearance.parsing_encoded = stages.parsing.encode_appearance(one_hot_parsing(parsing))
            else:
                appearance.parsing = one_hot_parsing(parsing)
            if stages.flow is not None and hasattr(stages.flow, "encode_appearance"):
                appearance.pose_encoded = stages.flow.encode_appearance(pose_maps)
            else:
                appearance.pose_maps = pose_maps
        return appearance, image

    def generates(self, target: Target) -> bool:
        """Whether the frames onto `target` use the generated foreground x_fg (stage 2b): with fusion (its
        input), `generate_hidden`, or without the pixel path. The default pixel path shows the photo's own
        pixels moved by the flow within stage 1's mask, so stage 2b is skipped there (at 256 px a third of
        the networks' time, the frames the same)."""
        return self.use_fusion or self.generate_hidden or not (self.pixel_path and target.photo is not None)

    def _batches(self, crop_poses: np.ndarray, appearance: Appearance, appearance_image: torch.Tensor,
                 pixels: bool, generating: bool) -> Iterator:
        """Stages 1-2b (2b only when `generating`) on each batch of frames: (first frame's index, run_stages'
        outputs in float32, the foreground the later stages see, or None). Without fusion the outputs also
        hold eq. 5's mask [B, 1, S, S] ("mask") and, with the pixel path (`pixels`), its bound ("bound"),
        without it the foregrounds as uint8 images ("crops"); the other one None."""
        for first in range(0, len(crop_poses), self.batch_size):
            # Per thread too: subnormals made the networks 2-3x slower (cpfnet.denormals).
            with torch.inference_mode(), flushed():  # inference mode is per thread, and this may run in a worker
                keypoints = self._keypoints(crop_poses[first:first + self.batch_size])
                with autocast(self.precision, self.device):
                    made = run_stages(self.stages.parsing, self.stages.flow,
                                      self.stages.foreground if generating else None, appearance,
                                      self._pose_maps(keypoints), poses=keypoints, timings=self.timings)
                made = {k: v.float() if isinstance(v, torch.Tensor) else v for k, v in made.items()}
                foreground = crop_foreground(made, appearance_image) if generating else None
                if not self.use_fusion:  # the caller then pastes without torch: `outputs`
                    made["mask"] = person_mask(made["parsing"])  # the ablation "w/o fusion"
                    made["bound"] = photo_bound(made["mask"]) if pixels else None
                    made["crops"] = None if pixels else [tensor_to_image(crop) for crop in foreground]
            yield first, made, foreground

    def _paste_pixels(self, target: Target, source, box, made: dict, k: int,
                      mask: torch.Tensor, work: Workspace, out: np.ndarray | None) -> np.ndarray:
        """Eq. 5 with the pixel path (cpfnet.transfer.pixel_path), on the crop box's part of the photo at the
        photo's resolution: the flow, upsampled, samples the full-size photo and its person mask (`source`:
        `photo_rgba`'s by default, `photo_source`'s with `generate_hidden`), within eq. 5's mask `mask`
        [1, 1, S, S] (a learned flow is defined everywhere, also off the body).

        By default every pixel is the photo's own, the warped photo mask the silhouette. With
        `generate_hidden`, the blend weight m (or, for a generator without a blend head, the visibility's
        'visible' probability) mixes those real pixels with the generated ones, and the silhouette is the
        warped photo mask where the photo shows the part, the fusion mask (eq. 5) where it hides it."""
        # Eq. 5's mask (the fusion stage's, or stage 1's person mask without one), a little dilated at crop
        # resolution, bounds where the warped photo may show.
        bound = photo_bound(mask) if self.use_fusion else made["bound"][k:k + 1]
        flow = made["flow"][k:k + 1]
        if not self.generate_hidden:
            return paste_photo(target.background, source, flow, box, target.box, bound, out=out, work=work)
        height, width = target.background.shape[:2]
        region = box_region(box, width, height)
        if region[2] <= region[0] or region[3] <= region[1]:
            return target.background.copy() if out is None else out
        warped = warp_photo(source, crop_flow_to_photo(flow, box, target.box, region))
        visible = made["visibility"][k:k + 1, :1]
        weight = made["blend"][k:k + 1] if made.get("blend") is not None else visible
        m, v, generated, mask_up, bound_up = (sample_crop(x, box, region) for x in (
            weight, visible, made["foreground"][k:k + 1] * 127.5 + 127.5, mask, bound))
        image = m * warped["image"] + (1 - m) * generated
        alpha = (v * warped["alpha"] + (1 - v) * mask_up) * bound_up
        return composite(target.background, region, image, alpha.clamp(0, 1), out=out)

    def frames(self, poses: np.ndarray, target: Target, anchor_frame: int = 0,
               frame_buffers: int = 0) -> Iterator[np.ndarray]:
        for out in self.outputs(poses, target, anchor_frame, frame_buffers):
            yield out["frame"]

    @torch.inference_mode()
    def outputs(self, poses: np.ndarray, target: Target, anchor_frame: int = 0,
                frame_buffers: int = 0) -> Iterator[dict]:
        """As `frames`, with what made each frame (for evaluation): {"frame": RGB uint8 [H, W, 3], "box": its
        crop box (x0, y0, x1, y1) in photo pixels, "parsing": x_parsing probabilities [20, S, S], "flow"
        [2, S, S] and "visibility" probabilities [3, S, S] (None without flow), "foreground": x_fg [3, S, S]
        in [-1, 1] (None where the frames do not use it, `generates`), "mask" [S, S] of eq. 5}; the tensors
        on the pipeline's device, in crop pixels.

        `frame_buffers` > 0: the frames cycle through that many buffers (`FrameBuffers`), each overwritten that
        many frames later, for consumers done with a frame by then (an encoder); 0: a new array per frame."""
        stages, timings = self.stages, self.timings
        boxes = follow_boxes(poses, target.box, anchor_frame, whole_pixels=True)  # the paste upsamples faster
        crop_poses = photo_to_crop(poses, boxes, self.size)
        generating, pixels = self.generates(target), self.pixel_path and target.photo is not None
        appearance, appearance_image = self._appearance(target, generating)
        photo = None if not pixels else (photo_source(target.photo, target.photo_mask, self.device)
                                         if self.generate_hidden else photo_rgba(target.photo, target.photo_mask))
        previous = previous_box = None  # the last eq. 5 output and its box
        work = Workspace()  # the paste's buffers, reused from frame to frame (this generator's thread only)
        buffers = FrameBuffers(target.background, frame_buffers) if frame_buffers else None
        shrunk: dict = {}  # the background's area shrink, made once: every frame's box has the target's size
        batches = self._batches(crop_poses, appearance, appearance_image, pixels, generating)
        # Stages 1-2b run in a worker thread of their own, whose OpenMP team starts with subnormals flushed
        # (this thread's predates that: cpfnet.denormals). Without fusion this thread runs no torch kernel from
        # here on: its team, freed, would be a second one beside the worker's, and libgomp slows both
        # (cpfnet.openmp).
        release_threads()
        batches = (ahead(batches, depth=1, name="cpfnet-networks") if self.overlap
                   else in_turn(batches, name="cpfnet-networks"))
        for first, made, crop_fgs in batches:
            chunk = slice(first, first + self.batch_size)
            for k, box in enumerate(boxes[chunk]):
                fg = None if crop_fgs is None else crop_fgs[k:k + 1]
                parsing = made["parsing"][k:k + 1]
                if self.use_fusion:
                    with timings("fusion"):
                        background = image_to_tensor(crop_box(target.background, box, self.size,
                                                              shrunk=shrunk))[None].to(self.device)
                        with autocast(self.precision, self.device):
                            fused = stages.fusion(background, fg,
                                                  previous_frame(previous, fg, background, parsing, previous_box, box),
                                                  person_mask(parsing))
                        mask, previous, previous_box = fused["mask"].float(), fused["frame"].float(), box
                else:  # the ablation "w/o fusion": the generated parsing is the mask (made by the worker)
                    mask = made["mask"][k:k + 1]
                with timings("paste"):
                    out = buffers.next() if buffers else None
                    if pixels:
                        frame = self._paste_pixels(target, photo, box, made, k, mask, work, out)
                    else:  # eq. 5 at the photo's resolution: the person upsampled, the background sharp
                        crop = made["crops"][k] if not self.use_fusion else tensor_to_image(fg[0])
                        frame = paste_back(target.background, crop, box, mask[0, 0].float().cpu().numpy(),
                                           work=work, out=out)
                yield {"frame": frame, "box": box, "parsing": made["parsing"][k], "foreground": None if fg is None else fg[0],
                       "mask": mask[0, 0], "flow": None if made["flow"] is None else made["flow"][k],
                       "visibility": None if made["visibility"] is None else made["visibility"][k]}


def side_by_side(source: np.ndarray, skeleton: np.ndarray, result: np.ndarray) -> np.ndarray:
    """source | source skeleton | result, each scaled to the result's height (the paper's figures)."""
    height = result.shape[0]

    def fit(image: np.ndarray) -> np.ndarray:
        width = max(2, round(image.shape[1] * height / image.shape[0]))
        return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)

    return np.concatenate([fit(source), fit(skeleton), result], axis=1)
