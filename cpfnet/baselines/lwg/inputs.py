"""The three streams' inputs (LWG's "flow composition" module, without the body model): pure functions.

LWG separates the source image into its foreground and its masked background, and warps the foreground by the
transformation flow T into I_syn. The masks come from the rendered SMPL silhouettes there; here the source's
from I_a's parsing, the frame's from the visibility map that comes with T (1 - P(background)).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cpfnet.ops.batch import broadcast_batch
from cpfnet.ops.warp import warp


def dilate(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """Grow a mask [B, 1, H, W] in [0, 1] by `radius` pixels (a (2r+1)^2 max filter); radius 0 keeps it."""
    if radius <= 0:
        return mask
    return F.max_pool2d(mask, 2 * radius + 1, stride=1, padding=radius)


def margin_pixels(margin: float, size: int) -> int:
    """The background margin as pixels at crop size `size` (LWG erodes its background mask by 7 pixels at 256:
    a margin of about 0.03 of the crop)."""
    return int(round(margin * size))


def source_inputs(appearance: torch.Tensor, appearance_mask: torch.Tensor, appearance_pose_maps: torch.Tensor,
                  margin: int) -> dict[str, torch.Tensor]:
    """What depends on the photo only (computed once per target at transfer). I_a [B, 3, S, S] in [-1, 1],
    its person mask [B, 1, S, S], its pose maps [B, P, S, S], the margin in pixels around the person that the
    background stream must fill -> {"background_input" [B, 4, S, S] (I_a with the grown person set to 0, and
    the background mask), "source_input" [B, 3 + P + 1, S, S] (I_a's person, 0 elsewhere, and C_s),
    "foreground" [B, 3, S, S] (I_a's person), "background_mask" [B, 1, S, S]}."""
    if appearance.ndim != 4 or appearance.shape[1] != 3:
        raise ValueError(f"appearance must be [B, 3, S, S], got {tuple(appearance.shape)}")
    shape = (appearance.shape[0], 1, *appearance.shape[2:])
    if appearance_mask.shape != shape or appearance_pose_maps.shape[2:] != appearance.shape[2:]:
        raise ValueError(f"appearance_mask must be {shape} and the pose maps [B, P, S, S] like the appearance, got "
                         f"{tuple(appearance_mask.shape)} and {tuple(appearance_pose_maps.shape)}")
    background_mask = 1 - dilate(appearance_mask, margin)
    foreground = appearance * appearance_mask
    return {"background_input": torch.cat([appearance * background_mask, background_mask], dim=1),
            "source_input": torch.cat([foreground, appearance_pose_maps, appearance_mask], dim=1),
            "foreground": foreground, "background_mask": background_mask}


def transfer_input(foreground: torch.Tensor, pose_maps: torch.Tensor, flow: torch.Tensor,
                   frame_mask: torch.Tensor) -> torch.Tensor:
    """G_TSF's input: I_syn (I_a's person [B or 1, 3, S, S] warped by T [B, 2, S, S], masked by the frame's
    person mask [B, 1, S, S]) and C_t (the frame's pose maps [B, P, S, S], the mask) -> [B, 3 + P + 1, S, S]."""
    b = pose_maps.shape[0]
    if frame_mask.shape != (b, 1, *pose_maps.shape[2:]) or flow.shape != (b, 2, *pose_maps.shape[2:]):
        raise ValueError(f"flow [B, 2, S, S] and frame_mask [B, 1, S, S] must match the pose maps "
                         f"{tuple(pose_maps.shape)}, got {tuple(flow.shape)} and {tuple(frame_mask.shape)}")
    warped = warp(broadcast_batch(foreground, b, "foreground"), flow)
    return torch.cat([warped * frame_mask, pose_maps, frame_mask], dim=1)
