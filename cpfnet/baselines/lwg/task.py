"""Training Liquid Warping GAN (IV-A2) as stage `baseline-lwg` of the shared trainer.

Self-reconstruction, as the paper adapts LWG: the source is the video's appearance frame I_a, the reference
one of its frames. The transformation flow T (LWG: from SMPL fits) is, by `flow_source`:

- `predicted`: the trained flow stage (RUNS/flow), frozen, from the appearance pose and the frame's pose, as
  at transfer time (works on real videos; needs RUNS/flow);
- `ground_truth`: the synthetic dancers' exact flow and visibility (`cpfnet synth` data only).

The frame's person mask that goes into C_t is 1 - P(background) of the flow stage's visibility, or the exact
visibility's foreground. Generator and discriminator alternate (lr 2e-4 both, as LWG).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from cpfnet.baselines.lwg.inputs import margin_pixels, source_inputs, transfer_input
from cpfnet.baselines.lwg.losses import liquid_warping_generator_loss
from cpfnet.baselines.lwg.network import LiquidWarpingDiscriminator, compose
from cpfnet.configs.experiment import Config
from cpfnet.dataset.readers import AppearanceFrames
from cpfnet.errors import UserError
from cpfnet.ops.foreground import person_mask
from cpfnet.stages.flow.losses import BACKGROUND  # the visibility label of background pixels
from cpfnet.stages.flow.prior import run_flow
from cpfnet.training.conditional_gan import ConditionalGANTask
from cpfnet.training.task import StepResult, frozen
from cpfnet.training.visuals import flow_to_rgb, pose_to_rgb



class FramesWithFlow(AppearanceFrames):
    """AppearanceFrames items plus the frame's exact appearance flow [2, S, S] and visibility [S, S]
    (synthetic videos only)."""

    def __init__(self, videos, size: int | None = None):
        super().__init__(videos, size)
        missing = [str(r.video.root) for r in self.videos if not r.video.has_flow]
        if missing:
            raise UserError(f"{missing[0]} has no ground-truth flow; baseline-lwg with flow_source: ground_truth "
                            "trains on synthetic dancers (`cpfnet synth`), use flow_source: predicted otherwise")

    def __getitem__(self, n: int) -> dict:
        item = super().__getitem__(n)
        v, i = self.index[n]
        r = self.videos[v]
        item.update(flow=r.flow(i), visibility=r.labels(r.video.visibility(i)))
        return item


class LiquidWarpingTask(ConditionalGANTask):
    optimized = {"generator": ("generator",), "discriminator": ("discriminator",)}

    @classmethod
    def build_networks(cls, config: Config) -> dict[str, nn.Module]:
        return {**super().build_networks(config),
                "discriminator": LiquidWarpingDiscriminator(**asdict(config.lwg.discriminator))}

    @classmethod
    def requirements(cls, config: Config, runs: Path) -> list[str]:
        return ["flow"] if config.lwg.flow_source == "predicted" else []

    def dataset(self, data: Path) -> AppearanceFrames:
        if self.section.flow_source == "ground_truth":
            return FramesWithFlow(data, size=self.size)
        return AppearanceFrames(data, size=self.size)

    def transformation(self, batch: dict, appearance_maps: torch.Tensor,
                       pose_maps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """T [B, 2, S, S] and the frame's person mask [B, 1, S, S], by `flow_source`."""
        if self.section.flow_source == "ground_truth":
            return self.image(batch["flow"]), self.image((batch["visibility"] != BACKGROUND).unsqueeze(1).float())
        with torch.no_grad():
            out = run_flow(self.prerequisites["flow"]["flow"], appearance_maps, pose_maps,
                           batch["appearance_pose"].to(self.device), batch["pose"].to(self.device))
        return out["flow"], 1 - out["visibility"][:, BACKGROUND:BACKGROUND + 1]

    def generator_step(self, batch: dict) -> StepResult:
        """batch: AppearanceFrames items (+ flow, visibility with flow_source ground_truth)."""
        section = self.section
        appearance = self.image(batch["appearance_image"])
        appearance_person = self.image(person_mask(batch["appearance_parsing"]))
        appearance_maps, pose_maps = self.pose_maps(batch["appearance_pose"]), self.pose_maps(batch["pose"])
        flow, frame_mask = self.transformation(batch, appearance_maps, pose_maps)
        inputs = source_inputs(appearance, appearance_person, appearance_maps,
                               margin_pixels(section.background_margin, self.size))
        transfer = transfer_input(inputs["foreground"], pose_maps, flow, frame_mask)
        made = self.models["generator"](inputs["background_input"], inputs["source_input"], transfer, flow)
        outputs = {
            "appearance": appearance, "target": self.image(batch["image"]),
            "source": compose(made["source_color"], made["source_mask"], made["background"]),
            "fake": compose(made["transfer_color"], made["transfer_mask"], made["background"]),
            "source_mask": made["source_mask"], "transfer_mask": made["transfer_mask"],
            "appearance_person": appearance_person, "frame_person": self.image(person_mask(batch["parsing"])),
            "condition": transfer[:, 3:], "synthesized": transfer[:, :3],
            "background": made["background"], "flow": flow, "pose_maps": pose_maps,
        }
        logits = None
        if section.loss.adversarial_weight:
            with frozen(self.networks["discriminator"]) as discriminator:
                logits = discriminator(outputs["condition"], outputs["fake"])["logits"]
        losses = liquid_warping_generator_loss(outputs, logits, self.perceptual, section.loss)
        return StepResult(losses, {"person_weight": made["transfer_mask"].detach().mean()}, outputs)

    def conditions(self, outputs: dict) -> tuple[torch.Tensor, ...]:
        return (outputs["condition"],)

    def images(self, batch: dict, result: StepResult) -> dict[str, torch.Tensor]:
        out = result.outputs
        return {"appearance": out["appearance"], "background": out["background"], "pose": pose_to_rgb(out["pose_maps"]),
                "flow": flow_to_rgb(out["flow"]), "warped": out["synthesized"], "generated": out["fake"],
                "reconstructed": out["source"], "target": out["target"]}

