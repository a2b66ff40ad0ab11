"""The stage chain, written once for training and transfer (paper Fig. 2, III-B to III-D).

    stage 1   x_parsing^i = G_parsing(I_parsing, s_pose^i)                 (or the true parsing: teacher forcing)
    stage 2a  F, V        = FlowNet(I_pose, s_pose^i)                       (skipped without appearance flow;
                                                                           `cpfnet.stages.flow.prior.run_flow`)
    stage 2b  x_fg^i      = G_fg(I_a, x_parsing^i, F, V)
    stage 3   x^{t-1}     = `previous_frame`, the fusion network's third input

`run_stages` is pure: the networks and tensors come in, named outputs go out. Stages 1 and 2a always run
without gradients (wherever the chain is used they are trained, frozen conditions); stage 2b runs in the
caller's grad mode, so the foreground stage trains its generator through the chain, while the fusion stage
and transfer call it under `no_grad` / `inference_mode`.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from torch import nn

from cpfnet.ops.crop import crop_flow
from cpfnet.ops.foreground import person_mask
from cpfnet.ops.warp import warp
from cpfnet.stages.flow.prior import run_flow
from cpfnet.stages.foreground.network import blend_with_warp
from cpfnet.stages.fusion.network import compose
from cpfnet.timing import Timings


@dataclass
class Appearance:
    """What the chain needs of the target (I_a), per target ([1, ...], broadcast over the frames) or per frame
    ([N, ...], training's batches of videos). Only what the chain will use must be given.

    parsing: I_parsing one-hot [1 or N, 20, S, S] (stage 1; not needed with teacher-forced parsing), or
    parsing_encoded: its `ParsingGenerator.encode_appearance` output, computed once per target;
    pose_maps: I_pose [1 or N, 35, S, S] (stage 2a; not needed without flow), or
    pose_encoded: their `FlowRegressor.encode_appearance` output, computed once per target;
    pose: the appearance keypoints [1 or N, 18, 3] in crop pixels (stage 2a with its geometric prior only);
    image: the appearance foreground I_a [1 or N, 3, S, S] in [-1, 1] (`cpfnet.ops.foreground`), or
    features: its `ForegroundGenerator.encode_appearance` output, computed once per target."""

    parsing: torch.Tensor | None = None
    pose_maps: torch.Tensor | None = None
    pose: torch.Tensor | None = None
    image: torch.Tensor | None = None
    features: Sequence[torch.Tensor] | None = None
    parsing_encoded: torch.Tensor | None = None
    pose_encoded: torch.Tensor | None = None


def _frames(x: torch.Tensor, n: int) -> torch.Tensor:
    return x.expand(n, *x.shape[1:]) if x.shape[0] == 1 and n > 1 else x


def run_stages(parsing_net: nn.Module | None, flow_net: nn.Module | None, foreground_net: nn.Module | None,
               appearance: Appearance, pose_maps: torch.Tensor, poses: torch.Tensor | None = None,
               parsing: torch.Tensor | None = None, timings: Timings | None = None) -> dict[str, torch.Tensor | None]:
    """Stages 1 -> 2a -> 2b for a batch of frames.

    Args:
        parsing_net: G_parsing ((I_parsing, pose maps) -> {"probs"}); may be None with `parsing`.
        flow_net: the flow regressor ((I_pose, pose maps) -> {"flow", "visibility"}), None for a foreground
            generator trained without appearance flow (the ablation).
        foreground_net: G_fg (or its DDP wrapper: it is only called, with `appearance=` or
            `appearance_features=`); None skips stage 2b (transfer's default pixel path shows only the
            photo's own pixels, moved by F: x_fg would be computed for nothing).
        appearance: the target's tensors (`Appearance`).
        pose_maps: s_pose^i of the frames [N, 35, S, S].
        poses: the frames' keypoints [N, 18, 3] in crop pixels, for a flow network with the geometric prior
            (with `appearance.pose`; `run_flow` computes the prior exactly when the network takes it).
        parsing: teacher forcing (training's `parsing_input: ground_truth`): the frames' true parsing one-hot
            [N, 20, S, S] is x_parsing instead of stage 1's output.
        timings: adds the seconds of "parsing", "flow" and "foreground" (transfer's per-stage figures).
    Returns:
        {"parsing": x_parsing [N, 20, S, S] probabilities (or the given one-hot), "flow" F [N, 2, S, S] in
        appearance-image pixels and "visibility" V [N, 3, S, S] probabilities (both None without flow_net),
        "foreground": x_fg [N, 3, S, S] in [-1, 1] as generated, "blend": a pixel-blend generator's m
        [N, 1, S, S] (else None; `blend_with_warp` is left to the caller, which may warp the photo at full
        resolution); both None without foreground_net}.
    """
    n = pose_maps.shape[0]

    def timed(name: str):
        return timings(name) if timings is not None else contextlib.nullcontext()

    with torch.no_grad():
        if parsing is None:
            if parsing_net is None or (appearance.parsing is None and appearance.parsing_encoded is None):
                raise ValueError("stage 1 needs parsing_net and appearance.parsing (or give the true parsing)")
            with timed("parsing"):
                if appearance.parsing_encoded is not None:
                    parsing = parsing_net(None, pose_maps, appearance_encoded=appearance.parsing_encoded)["probs"]
                else:
                    parsing = parsing_net(_frames(appearance.parsing, n), pose_maps)["probs"]
        flow = visibility = None
        if flow_net is not None:
            if appearance.pose_maps is None and appearance.pose_encoded is None:
                raise ValueError("stage 2a needs appearance.pose_maps")
            with timed("flow"):
                maps = None if appearance.pose_encoded is not None else _frames(appearance.pose_maps, n)
                out = run_flow(flow_net, maps, pose_maps, appearance.pose, poses, appearance.pose_encoded)
            flow, visibility = out["flow"], out["visibility"]
    if foreground_net is None:
        return {"parsing": parsing, "flow": flow, "visibility": visibility, "foreground": None, "blend": None}
    if (appearance.image is None) == (appearance.features is None):
        raise ValueError("give exactly one of appearance.image and appearance.features")
    with timed("foreground"):
        if appearance.features is not None:
            foreground = foreground_net(parsing, flow, visibility, appearance_features=appearance.features)
        else:
            foreground = foreground_net(parsing, flow, visibility, appearance=_frames(appearance.image, n))
    return {"parsing": parsing, "flow": flow, "visibility": visibility, "foreground": foreground["foreground"],
            "blend": foreground.get("blend")}


def crop_foreground(made: dict, appearance_image: torch.Tensor) -> torch.Tensor:
    """The foreground at crop resolution that later stages see: x_fg, or for a pixel-blend generator
    m * warp(I_a, F) + (1 - m) * x_fg (`blend_with_warp`), with I_a [1 or N, 3, S, S] the appearance foreground.
    Training (foreground, fusion) and transfer's fusion input take it from here. None where stage 2b was
    skipped."""
    if made["foreground"] is None or made.get("blend") is None:
        return made["foreground"]
    n = made["foreground"].shape[0]
    return blend_with_warp(made["foreground"], warp(_frames(appearance_image, n), made["flow"]), made["blend"])


def _boxes(boxes) -> np.ndarray:
    if isinstance(boxes, torch.Tensor):
        boxes = boxes.detach().cpu().double().numpy()
    return np.asarray(boxes, np.float64).reshape(-1, 4)


def previous_frame(previous: torch.Tensor | None, foreground: torch.Tensor, background: torch.Tensor,
                   parsing: torch.Tensor, previous_boxes=None, boxes=None) -> torch.Tensor:
    """x^{t-1}, the fusion network's previous-frame input for frame t (III-D), in frame t's crop. The one
    definition training and transfer share.

    - No frame made yet (`previous` None): the plain overlay of frame t's `foreground` [B, 3, S, S] on its
      `background` [B or 1, 3, S, S] by `parsing`'s person mask (ids [B, S, S] or probabilities
      [B, 20, S, S]). Training takes a clip's first frame so (it is not synthesised, as the paper says) and
      starts fusing at the second; transfer fuses every frame, the first with its own overlay.
    - Otherwise `previous` [B, 3, S, S] is the last eq. 5 output at crop resolution, in the crop of
      `previous_boxes` [B, 4]; it is moved into the crop of `boxes` [B, 4] (both in the photo's pixels: a
      real video's crop follows the dancer), and where the old crop does not reach, frame t's `background`
      shows (as in the full-size frame the previous output was pasted into). Equal boxes (a fixed crop, as
      synthetic videos have) leave it as it is. Gradients flow through the move.
    """
    if previous is None:
        return compose(foreground, background, person_mask(parsing))
    if previous_boxes is None or boxes is None:
        return previous
    previous_boxes, boxes = _boxes(previous_boxes), _boxes(boxes)
    if np.array_equal(previous_boxes, boxes):
        return previous
    size = previous.shape[-1]
    flow = torch.from_numpy(crop_flow(previous_boxes, boxes, size)).to(previous.device, previous.dtype)
    moved = warp(previous, flow)
    reach = warp(torch.ones_like(previous[:, :1]), flow)  # 1 inside the old crop, 0 outside, soft at its edge
    return moved + background.expand_as(previous) * (1.0 - reach)
