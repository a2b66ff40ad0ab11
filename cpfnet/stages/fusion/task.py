"""Stage 3 training (paper III-D, IV-A3): fg_mask^t = F(bg, x_fg^t, x^{t-1}), x^t = x_fg^t * mask +
bg * (1 - mask) (eq. 5), on K consecutive frames; L1 + perceptual against the real frames, lr 1e-4.

x_fg^t comes from the trained, frozen earlier stages in RUNS (parsing unless `parsing_input: ground_truth`,
flow unless the foreground stage was trained with use_flow false, foreground), as at transfer time. The first
frame is not synthesised: its previous-frame input for frame 2 is the plain overlay of x_fg^1 on the
background by the parsing's person mask. Frames 2..K are then made in order, each from the previous output
(gradients flow through the whole clip), and the loss is the mean over them.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch

from cpfnet.configs.experiment import Config
from cpfnet.dataset.readers import Clips
from cpfnet.nn.perceptual import PerceptualLoss
from cpfnet.ops.foreground import extract_foreground, person_mask
from cpfnet.stages.foreground.task import frame_conditions
from cpfnet.stages.fusion.losses import fusion_loss
from cpfnet.stages.fusion.network import compose
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
        self.perceptual = (PerceptualLoss(**asdict(self.section.perceptual)).to(self.device)
                           if self.section.loss.perceptual_weight else None)

    def dataset(self, data: Path) -> Clips:
        return Clips(data, length=self.section.clip_length, size=self.size)

    def foregrounds(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """x_fg^t of every frame of the clips [B, K, 3, S, S], and frame 1's person mask [B, 1, S, S]."""
        b, k = batch["poses"].shape[:2]

        def frames(x: torch.Tensor) -> torch.Tensor:  # per-clip [B, ...] -> per-frame [B*K, ...]
            return x.repeat_interleave(k, dim=0)

        inputs = frame_conditions(self, frames(batch["appearance_parsing"]), frames(batch["appearance_pose"]),
                                  batch["parsings"].flatten(0, 1), batch["poses"].flatten(0, 1),
                                  self.section.parsing_input, self.use_flow)
        with torch.no_grad():
            appearance = self.image(extract_foreground(batch["appearance_image"], batch["appearance_parsing"]))
            generator = self.prerequisites["foreground"]["generator"]
            fg = generator(inputs["parsing"], inputs.get("flow"), inputs.get("visibility"),
                           appearance=frames(appearance))["foreground"]
            parsing = inputs["parsing"].unflatten(0, (b, k))[:, 0]
            mask = person_mask(batch["parsings"][:, 0] if self.section.parsing_input == "ground_truth" else parsing)
        return fg.unflatten(0, (b, k)), mask

    def generator_step(self, batch: dict) -> StepResult:
        """batch: Clips items (images, parsings, poses, backgrounds [B, K, ...], appearance_*)."""
        foregrounds, mask = self.foregrounds(batch)
        backgrounds, images = self.image_clip(batch["backgrounds"]), self.image_clip(batch["images"])
        previous = compose(foregrounds[:, 0], backgrounds[:, 0], mask)
        terms, masks = [], []
        for t in range(1, foregrounds.shape[1]):
            out = self.models["fusion"](backgrounds[:, t], foregrounds[:, t], previous)
            previous = out["frame"]
            masks.append(out["mask"])
            terms.append(fusion_loss(previous, images[:, t], self.perceptual, self.section.loss))
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
