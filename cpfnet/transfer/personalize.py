"""Personalisation at transfer time: fine-tune the foreground generator on the target photo itself.

The shipped generator has seen only synthetic people. Before a transfer, `personalize` teaches it this one
person, with self-supervised pairs whose motion is known exactly (iPERCore's personalize step does the same
on its source images):

    pose'  = a random pose near the photo's (cpfnet.body.pose_jitter)
    I_a'   = the photo's person moved into pose' by the geometric part-wise flow (cpfnet.body.limb_flow)
    target = the photo itself, in its own pose

The generator, given I_a' as its appearance image and the flow stage's F, V from pose' to the photo's pose,
learns to give back the real photo: the person's true colours and textures, including what I_a' lost to
the warp (parts hidden by the move), which is what it must invent in a dance. The loss is the generator's
own (L1 + perceptual, on the pixel-blended output when the generator blends). Parsing, flow and fusion stay
as trained.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, replace

import numpy as np
import torch
from tqdm import tqdm

from cpfnet.body.limb_flow import geometric_flow
from cpfnet.body.pose_jitter import perturb_pose
from cpfnet.body.pose_maps import render_pose_maps
from cpfnet.dataset.readers import image_to_tensor
from cpfnet.nn.perceptual import PerceptualLoss
from cpfnet.ops.foreground import extract_foreground, one_hot_parsing
from cpfnet.ops.warp import warp
from cpfnet.stages.flow.prior import run_flow
from cpfnet.stages.foreground.network import blend_with_warp
from cpfnet.transfer.models import TrainedStages
from cpfnet.transfer.target import Target


@dataclass
class PersonalizeResult:
    """The stages with the fine-tuned generator, and the reconstruction loss (L1 on held-out pairs, in
    [-1, 1] units) before and after, with the seconds it took."""

    stages: TrainedStages
    loss_before: float
    loss_after: float
    seconds: float


class _Pairs:
    """Self-supervised pairs of one photo at the stages' crop size (see the module docstring)."""

    def __init__(self, stages: TrainedStages, target: Target, device: torch.device):
        t = target.resized(stages.size)
        self.stages, self.device, self.size = stages, device, stages.size
        self.sigma = stages.pose_sigma
        self.pose = t.pose.astype(np.float32)
        self.labels = torch.from_numpy(t.parsing.astype(np.int64))[None].to(device)
        image = image_to_tensor(t.image)[None].to(device)
        self.truth = extract_foreground(image, self.labels)  # [1, 3, S, S]: the real person on black
        self.parsing = one_hot_parsing(self.labels)

    def maps(self, poses: np.ndarray) -> torch.Tensor:
        kp = torch.from_numpy(np.ascontiguousarray(poses, np.float32)).to(self.device)
        return render_pose_maps(kp, self.size, self.size, self.sigma)

    @torch.no_grad()
    def batch(self, rng: np.random.Generator, n: int) -> dict[str, torch.Tensor]:
        moved = np.stack([perturb_pose(self.pose, rng) for _ in range(n)])
        photo_pose = np.repeat(self.pose[None], n, axis=0)
        # I_a': the photo's person warped into pose' (flow from pose' pixels into the photo).
        geo = geometric_flow(torch.from_numpy(photo_pose), torch.from_numpy(moved), self.size, self.size)
        flow_in = geo["flow"].to(self.device)
        appearance = warp(self.truth.expand(n, -1, -1, -1), flow_in)
        labels = warp(self.labels[:, None].float().expand(n, -1, -1, -1), flow_in, mode="nearest")[:, 0].long()
        appearance = extract_foreground(appearance, labels)
        # F, V from the photo's pose (now the frame) into pose' (now the appearance image), as at transfer.
        out = run_flow(self.stages.flow, self.maps(moved), self.maps(photo_pose), torch.from_numpy(moved),
                       torch.from_numpy(photo_pose))
        return {"appearance": appearance, "flow": out["flow"], "visibility": out["visibility"],
                "parsing": self.parsing.expand(n, -1, -1, -1)}


def _output(generator, batch: dict) -> torch.Tensor:
    out = generator(batch["parsing"], batch["flow"], batch["visibility"], appearance=batch["appearance"])
    if "blend" in out:
        return blend_with_warp(out["foreground"], warp(batch["appearance"], batch["flow"]), out["blend"])
    return out["foreground"]


def personalize(stages: TrainedStages, target: Target, steps: int, batch_size: int = 4, lr: float = 1e-4,
                perceptual_weight: float = 1.0, seed: int = 0, device: str | torch.device = "cpu",
                progress: bool = True) -> PersonalizeResult:
    """Fine-tune a copy of `stages.foreground` on `target` for `steps` Adam steps (lr, betas 0.5/0.999 as
    the paper's stages); returns the stages with the copy in place (the originals are untouched)."""
    if stages.flow is None:
        raise ValueError("personalisation needs a flow stage (the generator was trained without appearance flow)")
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    device = torch.device(device)
    started = time.perf_counter()
    pairs = _Pairs(stages, target, device)
    held_out = pairs.batch(np.random.default_rng(10_000 + seed), 8)
    generator = copy.deepcopy(stages.foreground).to(device)
    generator.requires_grad_(True)
    # The three shallow layers, as the tiny and fast configs train the stages: crops are small.
    perceptual = PerceptualLoss(layer_weights=(1 / 32, 1 / 16, 1 / 8)).to(device) if perceptual_weight else None

    def held_out_loss() -> float:
        generator.eval()
        with torch.no_grad():
            return float((_output(generator, held_out) - pairs.truth).abs().mean())

    before = held_out_loss()
    optimizer = torch.optim.Adam(generator.parameters(), lr=lr, betas=(0.5, 0.999))
    rng = np.random.default_rng(seed)
    generator.train()
    for _ in tqdm(range(steps), desc="personalize", unit="step", disable=not progress):
        batch = pairs.batch(rng, batch_size)
        fake = _output(generator, batch)
        truth = pairs.truth.expand_as(fake)
        loss = (fake - truth).abs().mean()
        if perceptual is not None:
            loss = loss + perceptual_weight * perceptual(fake, truth)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    after = held_out_loss()
    generator.requires_grad_(False)
    return PersonalizeResult(replace(stages, foreground=generator), before, after, time.perf_counter() - started)
