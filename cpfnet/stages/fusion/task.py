"""Stage 3 training (paper III-D, IV-A3): fg_mask^t = F(bg, x_fg^t, x^{t-1}), x^t = x_fg^t * mask +
bg * (1 - mask) (eq. 5), on K consecutive frames; L1 + perceptual against the real frames, lr 1e-4.

x_fg^t comes from the trained, frozen earlier stages in RUNS (parsing unless `parsing_input: ground_truth`,
flow unless the foreground stage was trained with use_flow false, foreground) through
`cpfnet.stages.chain.run_stages`, as at transfer time. The first frame is not synthesised: its previous-frame
input for frame 2 is the plain overlay of x_fg^1 on the background by the parsing's person mask. Frames 2..K
are then made in order, each from the previous output (gradients flow through the whole clip), and the loss
is the mean over them. With `loss_on: photo_pixels` the loss judges instead what transfer's default pixel
path shows: the appearance foreground warped along the flow, composed by the warped appearance mask x the
fusion mask (dilated as transfer dilates it); the recurrence still carries eq. 5's frame, as transfer's does.
x^{t-1} is `cpfnet.stages.chain.previous_frame`, transfer's: the previous output is moved from its frame's
crop box (meta.json's) into the current one, the current background where it does not reach (a real video's
crop follows the dancer; a synthetic video's box is fixed, and nothing moves).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch

from cpfnet.configs.experiment import Config
from cpfnet.dataset.readers import Clips
from cpfnet.errors import UserError
from cpfnet.nn.perceptual import PerceptualLoss
from cpfnet.ops.foreground import extract_foreground, one_hot_parsing, person_mask
from cpfnet.ops.warp import warp
from cpfnet.stages.chain import Appearance, crop_foreground, previous_frame, run_stages
from cpfnet.stages.fusion.losses import fusion_loss
from cpfnet.stages.fusion.network import compose, photo_bound
from cpfnet.stages.weights import foreground_uses_flow
from cpfnet.training.task import StepResult, Task


class FusionTask(Task):
    optimized = {"generator": ("fusion",)}

    @classmethod
    def requirements(cls, config: Config, runs: Path) -> list[str]:
        return (["parsing"] if config.fusion.parsing_input == "generated" else []) + \
            (["flow"] if foreground_uses_flow(runs) else []) + ["foreground"]

    def __init__(self, config: Config, runs: Path, ctx):
        super().__init__(config, runs, ctx)
        self.use_flow = foreground_uses_flow(self.runs)
        if self.section.loss_on == "photo_pixels" and not self.use_flow:
            raise UserError(f"fusion.loss_on: photo_pixels needs appearance flow, but {self.runs}/foreground was "
                            "trained with use_flow: false; set fusion.loss_on: eq5")
        self.perceptual = (PerceptualLoss(**asdict(self.section.perceptual)).to(self.device)
                           if self.section.loss.perceptual_weight else None)

    def dataset(self, data: Path) -> Clips:
        return Clips(data, length=self.section.clip_length, size=self.size)

    def foregrounds(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """x_fg^t and x_parsing^t of every frame of the clips, [B, K, 3, S, S] and [B, K, 20, S, S], and with
        `loss_on: photo_pixels` the appearance foreground and its person mask warped along the flow
        [B, K, 4, S, S] (else None)."""
        b, k = batch["poses"].shape[:2]
        frozen_stages, teacher = self.prerequisites, self.section.parsing_input == "ground_truth"

        def frames(x: torch.Tensor) -> torch.Tensor:  # per-clip [B, ...] -> per-frame [B*K, ...]
            return x.repeat_interleave(k, dim=0)

        with torch.no_grad():
            appearance = self.image(extract_foreground(batch["appearance_image"], batch["appearance_parsing"]))
            inputs = Appearance(
                parsing=None if teacher else self.image(one_hot_parsing(frames(batch["appearance_parsing"]))),
                pose_maps=self.pose_maps(frames(batch["appearance_pose"])) if self.use_flow else None,
                pose=frames(batch["appearance_pose"]).to(self.device), image=frames(appearance))
            made = run_stages(None if teacher else frozen_stages["parsing"]["generator"],
                              frozen_stages["flow"]["flow"] if self.use_flow else None,
                              frozen_stages["foreground"]["generator"], inputs,
                              self.pose_maps(batch["poses"].flatten(0, 1)),
                              poses=batch["poses"].flatten(0, 1).to(self.device),
                              parsing=self.image(one_hot_parsing(batch["parsings"].flatten(0, 1))) if teacher else None)
            foreground = crop_foreground(made, inputs.image)
            photo = None
            if self.section.loss_on == "photo_pixels":
                mask = self.image(person_mask(frames(batch["appearance_parsing"])))
                photo = warp(torch.cat([inputs.image, mask], dim=1), made["flow"]).unflatten(0, (b, k))
        return foreground.unflatten(0, (b, k)), made["parsing"].unflatten(0, (b, k)), photo

    def generator_step(self, batch: dict) -> StepResult:
        """batch: Clips items (images, parsings, poses, backgrounds, boxes [B, K, ...], appearance_*)."""
        foregrounds, parsings, photo = self.foregrounds(batch)
        backgrounds, images = self.image_clip(batch["backgrounds"]), self.image_clip(batch["images"])
        boxes = batch["boxes"]
        # III-D: frame 1 is not synthesised; its plain overlay is frame 2's previous frame.
        previous = previous_frame(None, foregrounds[:, 0], backgrounds[:, 0], parsings[:, 0])
        terms, masks = [], []
        for t in range(1, foregrounds.shape[1]):
            moved = previous_frame(previous, foregrounds[:, t], backgrounds[:, t], parsings[:, t], boxes[:, t - 1],
                                   boxes[:, t])
            out = self.models["fusion"](backgrounds[:, t], foregrounds[:, t], moved, person_mask(parsings[:, t]))
            previous = out["frame"]
            masks.append(out["mask"])
            judged = previous if photo is None else compose(
                photo[:, t, :3], backgrounds[:, t], photo[:, t, 3:] * photo_bound(out["mask"]))
            terms.append(fusion_loss(judged, images[:, t], self.perceptual, self.section.loss))
        losses = {name: torch.stack([t[name] for t in terms]).mean() for name in terms[0]}
        return StepResult(losses, {}, {"foreground": foregrounds[:, -1], "mask": masks[-1], "frame": previous,
                                       "background": backgrounds[:, -1], "target": images[:, -1]})

    def image_clip(self, x: torch.Tensor) -> torch.Tensor:
        """[B, K, 3, S, S] clip -> the device (per-frame memory format is applied when frames are taken)."""
        return x.to(self.device)

    def images(self, batch: dict, result: StepResult) -> dict[str, torch.Tensor]:
        out = result.outputs
        return {"background": out["background"], "foreground": out["foreground"],
                "mask": (out["mask"] * 2 - 1).expand(-1, 3, -1, -1), "frame": out["frame"], "target": out["target"]}
