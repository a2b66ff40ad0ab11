"""Stage 2a with its geometric prior: the one call training, the stage chain and personalisation share.

A flow network built with `geometric_prior` takes the part-wise affine flow of the two skeletons
(cpfnet.body.limb_flow) as an input and predicts a correction to it; one built without takes the pose maps
only. `run_flow` computes the prior exactly when the network wants it.
"""

from __future__ import annotations

import torch
from torch import nn

from cpfnet.body.limb_flow import geometric_flow


def wants_prior(flow_net: nn.Module) -> bool:
    """Whether `flow_net` (or the network inside its DistributedDataParallel wrapper) takes the prior."""
    return bool(getattr(getattr(flow_net, "module", flow_net), "geometric_prior", False))


def geometric_prior(appearance_pose: torch.Tensor, pose: torch.Tensor, size: int) -> dict[str, torch.Tensor]:
    """The part-wise flow and visibility of frames against the appearance image, on S x S crops:
    keypoints [N or 1, 18, 3] and [N, 18, 3] in crop pixels -> {"flow": [N, 2, S, S], "visibility": [N, 3, S, S]}."""
    if appearance_pose.shape[0] == 1 and pose.shape[0] > 1:
        appearance_pose = appearance_pose.expand(pose.shape[0], -1, -1)
    out = geometric_flow(appearance_pose.float(), pose.float(), size, size)
    return {"flow": out["flow"], "visibility": out["visibility"]}


def run_flow(flow_net: nn.Module, appearance_maps: torch.Tensor | None, pose_maps: torch.Tensor,
             appearance_pose: torch.Tensor | None = None, pose: torch.Tensor | None = None,
             appearance_encoded: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """flow_net(I_pose maps [N, 35, S, S], s_pose maps [N, 35, S, S]) with the geometric prior from the
    keypoints (appearance_pose [N or 1, 18, 3], pose [N, 18, 3], crop pixels) when the network takes it.
    `appearance_encoded` (the network's `encode_appearance` of I_pose) may stand for appearance_maps."""
    encoded = {} if appearance_encoded is None else {"appearance_encoded": appearance_encoded}
    if not wants_prior(flow_net):
        return flow_net(appearance_maps, pose_maps, **encoded)
    if appearance_pose is None or pose is None:
        raise ValueError("this flow network takes the geometric prior: give the keypoints of both poses")
    prior = geometric_prior(appearance_pose.to(pose_maps.device), pose.to(pose_maps.device), pose_maps.shape[-1])
    return flow_net(appearance_maps, pose_maps, prior={k: v.to(pose_maps.dtype) for k, v in prior.items()},
                    **encoded)
