"""Transfer with the Liquid Warping GAN baseline (IV-A2): the same interface as TransferPipeline.

    once per target: I_a's masks, G_BG's background, G_SID's features
    per batch of frames: T and the frame's person mask, from
        - `flows` given to `outputs` (a fitted body's flow, e.g. rendered SMPL: LWG's own source of T), or
        - the flow stage (RUNS/flow) from the appearance pose and the frame's pose (the default)
      -> I_syn, C_t -> G_TSF with the Liquid Warping Blocks -> x^_t = A_t * P_t + (1 - A_t) * bg^
    the whole crop pasted into the photo (it has G_BG's background, as the pix2pixHD baseline's crop)

A flow given from outside follows cpfnet's appearance-flow contract, in the pipeline's crop: for every pixel
of frame t's S x S crop, the (x, y) pixel of the target's S x S crop I_a it comes from (pixel centres at
i + 0.5), with a visibility map (0 visible in I_a, 1 hidden there, 2 background) whose foreground is the frame's
person. `load_flows(path)` reads them from an .npz file (`flow` [T, 2, S, S] float32, `visibility` [T, S, S]
uint8). With `follow_person=True` the frame crops move with the neck (`follow_boxes`): a fitted body's flow
must be rendered for those crops; `follow_person=False` keeps the target's own box in every frame.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import torch
from torch import nn

from cpfnet.baselines.lwg.inputs import margin_pixels, source_inputs, transfer_input
from cpfnet.baselines.lwg.network import compose
from cpfnet.body.pose_maps import render_pose_maps
from cpfnet.dataset.readers import image_to_tensor, tensor_to_image
from cpfnet.errors import UserError
from cpfnet.ops.crop import follow_boxes, paste_back, photo_to_crop
from cpfnet.ops.foreground import person_mask
from cpfnet.stages.flow.losses import BACKGROUND
from cpfnet.stages.flow.prior import run_flow
from cpfnet.stages.registry import pipeline_stage
from cpfnet.stages.weights import has_stage, load_stage
from cpfnet.timing import Timings
from cpfnet.transfer.pipeline import FramePipeline
from cpfnet.transfer.target import Target

def load_flows(path: str | Path, size: int | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """An .npz of per-frame transformation flows -> [(flow [2, S, S] float32, visibility [S, S] uint8)].

    Keys: `flow` [T, 2, S, S] (absolute I_a crop pixels) and `visibility` [T, S, S] (0, 1, 2). `size`: the
    pipeline's crop size, which S must equal."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"flow file {path} not found")
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in ("flow", "visibility") if k not in data]
            if missing:
                raise UserError(f"{path} has no {missing[0]!r} array; it needs flow [T, 2, S, S] and visibility "
                                "[T, S, S]")
            flow, visibility = data["flow"].astype(np.float32), data["visibility"].astype(np.uint8)
    except (OSError, ValueError, EOFError, AttributeError, TypeError, zipfile.BadZipFile) as exc:
        raise UserError(f"{path}: truncated or not an .npz of flows ({type(exc).__name__}: {str(exc)[:80]})") from None
    if flow.ndim != 4 or flow.shape[1] != 2 or visibility.shape != (flow.shape[0], *flow.shape[2:]):
        raise UserError(f"{path}: flow must be [T, 2, S, S] and visibility [T, S, S], got {flow.shape} and "
                        f"{visibility.shape}")
    if size is not None and flow.shape[2:] != (size, size):
        raise UserError(f"{path}: the flows are {flow.shape[3]}x{flow.shape[2]}, the pipeline runs at {size}x{size}")
    return list(zip(flow, visibility))


class LiquidWarpingPipeline(FramePipeline):
    """Make the target person dance the source's poses with Liquid Warping GAN.

    `flow_network`: the flow stage's FlowRegressor, the default source of T; None when every call of
    `outputs` is given `flows`. `follow_person` as Pix2PixHDPipeline's."""

    def __init__(self, generator: nn.Module, size: int, pose_sigma: float, background_margin: float,
                 flow_network: nn.Module | None = None, device: str | torch.device = "cpu",
                 follow_person: bool = True, batch_size: int = 8):
        self.device = torch.device(device)
        self.generator = generator.to(self.device).eval().requires_grad_(False)
        self.flow_network = (None if flow_network is None
                             else flow_network.to(self.device).eval().requires_grad_(False))
        self.size = size
        self.sigma = pose_sigma
        self.margin = margin_pixels(background_margin, size)
        self.follow_person = follow_person
        self.batch_size = batch_size
        self.given_flows: list | None = None  # a fitted body's flows for every call (from_checkpoints' flow_file)
        self.timings = Timings()

    @classmethod
    def from_checkpoints(cls, runs: str | Path, device: str = "cpu", need_flow_stage: bool = True,
                         flow_file: str | Path | None = None, **kwargs) -> "LiquidWarpingPipeline":
        """RUNS/baseline-lwg's generator and RUNS/flow's network (the source of T). `need_flow_stage=False`
        loads without RUNS/flow when there is none: every `outputs` call must then be given `flows`.
        `flow_file`: an .npz of a fitted body's flows (`load_flows`) used whenever `outputs` is given none (then
        RUNS/flow is not needed)."""
        networks, config = load_stage(runs, pipeline_stage(cls).name, device)
        flow_network = None
        if (need_flow_stage and flow_file is None) or has_stage(runs, "flow"):
            if not has_stage(runs, "flow"):
                raise UserError(f"{Path(runs) / 'flow'} has no checkpoint: baseline-lwg takes its transformation "
                                f"flow from the flow stage (cpfnet train flow --config NAME --data DIR --runs {runs}), "
                                "or give a fitted body's flows")
            flows, flow_config = load_stage(runs, "flow", device)
            if (flow_config.data.size, flow_config.data.pose_sigma) != (config.data.size, config.data.pose_sigma):
                raise UserError(f"{runs}: the flow stage was trained at size {flow_config.data.size}, baseline-lwg "
                                f"at {config.data.size}; train both with one config")
            flow_network = flows["flow"]
        pipeline = cls(networks["generator"], config.data.size, config.data.pose_sigma,
                       config.lwg.background_margin, flow_network, device, **kwargs)
        if flow_file is not None:
            pipeline.given_flows = load_flows(flow_file, pipeline.size)
        return pipeline

    def boxes(self, poses: np.ndarray, target: Target, anchor_frame: int = 0) -> np.ndarray:
        if self.follow_person:
            return follow_boxes(poses, target.box, anchor_frame)
        return np.tile(np.asarray(target.box, np.float64), (len(poses), 1))

    def _pose_maps(self, keypoints: np.ndarray) -> torch.Tensor:
        kp = torch.from_numpy(np.ascontiguousarray(keypoints, np.float32)).to(self.device)
        return render_pose_maps(kp, self.size, self.size, self.sigma)

    def _given(self, flows: Iterator, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The next n (flow, visibility) pairs given -> T [n, 2, S, S], visibility one-hot [n, 3, S, S]."""
        pairs = [next(flows, None) for _ in range(n)]
        if any(p is None for p in pairs):
            raise UserError("fewer flows were given than there are frames")
        flow = torch.stack([torch.as_tensor(np.asarray(f), dtype=torch.float32) for f, _ in pairs]).to(self.device)
        labels = torch.stack([torch.as_tensor(np.asarray(v)).long() for _, v in pairs]).to(self.device)
        if flow.shape != (n, 2, self.size, self.size) or labels.shape != (n, self.size, self.size):
            raise UserError(f"each given flow must be [2, {self.size}, {self.size}] with a [{self.size}, {self.size}] "
                            f"visibility, got {tuple(flow.shape[1:])} and {tuple(labels.shape[1:])}")
        return flow, torch.nn.functional.one_hot(labels.clamp(0, 2), 3).permute(0, 3, 1, 2).float()

    @torch.inference_mode()
    def outputs(self, poses: np.ndarray, target: Target, anchor_frame: int = 0,
                flows: Iterable[tuple[np.ndarray, np.ndarray]] | None = None) -> Iterator[dict]:
        """As `frames`, with each frame's crop box and what made it: {"frame": RGB uint8 [H, W, 3], "box",
        "crop" [3, S, S] in [-1, 1], "flow" T [2, S, S], "visibility" [3, S, S] probabilities (one-hot when
        given), "mask" A_t [S, S]}. `flows`: per frame (flow [2, S, S], visibility [S, S]) to use instead of
        the flow stage's (see the module docstring)."""
        flows = self.given_flows if flows is None else flows
        if flows is None and self.flow_network is None:
            raise UserError("this pipeline has no flow stage: give the transformation flows (flows=...)")
        given = None if flows is None else iter(flows)
        boxes = self.boxes(poses, target, anchor_frame)
        crop_poses = photo_to_crop(poses, boxes, self.size)
        resized = target.resized(self.size)
        with self.timings("source"):
            appearance = image_to_tensor(resized.image)[None].to(self.device)
            appearance_person = person_mask(torch.from_numpy(resized.parsing.astype(np.int64))[None]).to(self.device)
            appearance_maps = self._pose_maps(resized.pose[None])
            source_side = source_inputs(appearance, appearance_person, appearance_maps, self.margin)
            background = self.generator.background(source_side["background_input"])
            source = self.generator.encode_source(source_side["source_input"])
        for first in range(0, len(poses), self.batch_size):
            chunk = slice(first, first + self.batch_size)
            maps = self._pose_maps(crop_poses[chunk])
            n = len(maps)
            with self.timings("flow"):
                if given is not None:
                    flow, visibility = self._given(given, n)
                else:
                    kp = torch.from_numpy(np.ascontiguousarray(crop_poses[chunk], np.float32))
                    out = run_flow(self.flow_network, appearance_maps.expand(n, -1, -1, -1), maps,
                                   torch.from_numpy(resized.pose[None].astype(np.float32)), kp)
                    flow, visibility = out["flow"], out["visibility"]
            with self.timings("generator"):
                frame_person = 1 - visibility[:, BACKGROUND:BACKGROUND + 1]
                made = self.generator.transfer(transfer_input(source_side["foreground"], maps, flow, frame_person),
                                               source, flow)
                crops = compose(made["color"], made["mask"], background)
            for k, box in enumerate(boxes[chunk]):
                with self.timings("paste"):
                    frame = paste_back(target.background, tensor_to_image(crops[k]), box)
                yield {"frame": frame, "box": box, "crop": crops[k], "flow": flow[k], "visibility": visibility[k],
                       "mask": made["mask"][k, 0]}
