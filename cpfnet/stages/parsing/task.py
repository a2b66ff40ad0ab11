"""Stage 1 training (paper III-B, IV-A3): G_parsing(I_parsing, s_pose^i) -> x_parsing^i.

Self-reconstruction: I_parsing is the parsing of the video's appearance frame, s_pose^i the pose of frame i,
the target frame i's parsing. Loss: L1 + pixel-wise softmax cross-entropy, weight 10 each (eq. 2).
"""

from __future__ import annotations

from pathlib import Path

import torch

from cpfnet.dataset.readers import AppearanceFrames
from cpfnet.ops.foreground import one_hot_parsing
from cpfnet.stages.parsing.losses import parsing_loss
from cpfnet.training.task import StepResult, Task
from cpfnet.training.visuals import parsing_to_rgb, pose_to_rgb


class ParsingTask(Task):
    optimized = {"generator": ("generator",)}

    def dataset(self, data: Path) -> AppearanceFrames:
        return AppearanceFrames(data, size=self.size)

    def generator_step(self, batch: dict) -> StepResult:
        """batch: appearance_parsing [B, S, S], pose [B, 18, 3], parsing [B, S, S] (AppearanceFrames)."""
        appearance = self.image(one_hot_parsing(batch["appearance_parsing"]))
        pose_maps = self.pose_maps(batch["pose"])
        out = self.models["generator"](appearance, pose_maps)
        losses = parsing_loss(out["logits"], batch["parsing"], self.section.loss)
        accuracy = (out["logits"].detach().argmax(dim=1) == batch["parsing"]).float().mean()
        return StepResult(losses, {"pixel_accuracy": accuracy}, {"pose_maps": pose_maps, "logits": out["logits"]})

    def images(self, batch: dict, result: StepResult) -> dict[str, torch.Tensor]:
        return {"appearance": batch["appearance_image"], "appearance parsing": parsing_to_rgb(batch["appearance_parsing"]),
                "pose": pose_to_rgb(result.outputs["pose_maps"]), "generated": parsing_to_rgb(result.outputs["logits"]),
                "target": parsing_to_rgb(batch["parsing"]), "frame": batch["image"]}
