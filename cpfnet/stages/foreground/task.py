"""Stage 2b training (paper III-C, IV-A3): G_fg(I_a, x_parsing^i, F, V) -> x_fg^i against a conditional
discriminator D(I_a, x_parsing^i, x_fg^i); they alternate, lr 2e-4 and 2e-5; weights adv 0.01, L1 1, per 1.

- I_a: the appearance frame's foreground (person on black, cpfnet.ops.foreground); target x_fg^i: frame i's.
- x_parsing^i: by default the ground-truth parsing of frame i, one-hot (teacher forcing: G_fg learns from
  clean parsings while stage 1 trains independently); `parsing_input: generated` uses the trained parsing
  stage's softmax instead, as transfer will.
- F, V: the trained flow stage (RUNS/flow), frozen, from the appearance pose and frame i's pose, as at
  transfer time; real videos have no ground-truth flow. `generator.use_flow: false` (the ablation "w/o
  appearance flow") trains without it.
- The chain is `cpfnet.stages.chain.run_stages`, the one transfer runs; G_fg trains through it.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from cpfnet.configs.experiment import Config
from cpfnet.dataset.readers import AppearanceFrames
from cpfnet.ops.foreground import extract_foreground, one_hot_parsing
from cpfnet.stages.chain import Appearance, crop_foreground, run_stages
from cpfnet.stages.foreground.network import ForegroundDiscriminator
from cpfnet.training.conditional_gan import ConditionalGANTask
from cpfnet.training.task import StepResult
from cpfnet.training.visuals import flow_to_rgb, parsing_to_rgb


class ForegroundTask(ConditionalGANTask):
    optimized = {"generator": ("generator",), "discriminator": ("discriminator",)}

    @classmethod
    def build_networks(cls, config: Config) -> dict[str, nn.Module]:
        return {**super().build_networks(config),
                "discriminator": ForegroundDiscriminator(**asdict(config.foreground.discriminator))}

    @classmethod
    def requirements(cls, config: Config, runs: Path) -> list[str]:
        section = config.foreground
        return (["parsing"] if section.parsing_input == "generated" else []) + \
            (["flow"] if section.generator.use_flow else [])

    def dataset(self, data: Path) -> AppearanceFrames:
        return AppearanceFrames(data, size=self.size)

    def generator_step(self, batch: dict) -> StepResult:
        """batch: AppearanceFrames items (appearance_image/parsing/pose, image, parsing, pose)."""
        section, frozen_stages = self.section, self.prerequisites
        teacher, use_flow = section.parsing_input == "ground_truth", section.generator.use_flow
        appearance = self.image(extract_foreground(batch["appearance_image"], batch["appearance_parsing"]))
        inputs = Appearance(parsing=None if teacher else self.image(one_hot_parsing(batch["appearance_parsing"])),
                            pose_maps=self.pose_maps(batch["appearance_pose"]) if use_flow else None,
                            pose=batch["appearance_pose"].to(self.device), image=appearance)
        made = run_stages(None if teacher else frozen_stages["parsing"]["generator"],
                          frozen_stages["flow"]["flow"] if use_flow else None,
                          self.models["generator"], inputs, self.pose_maps(batch["pose"]),
                          poses=batch["pose"].to(self.device),
                          parsing=self.image(one_hot_parsing(batch["parsing"])) if teacher else None)
        target = self.image(extract_foreground(batch["image"], batch["parsing"]))
        fake = crop_foreground(made, appearance)  # with a blend head: m * warped I_a + (1 - m) * x_fg
        outputs = {"parsing": made["parsing"], "appearance": appearance, "target": target, "fake": fake}
        if made["flow"] is not None:
            outputs.update(flow=made["flow"], visibility=made["visibility"])
        losses = self.generator_losses(outputs)
        if made["blend"] is not None:
            # The generated pixels alone are also pulled to the target, so what the photo hides is learnt
            # even where the blend trusts the warp.
            losses["l1_generated"] = section.loss.l1_weight * (made["foreground"] - target).abs().mean()
            outputs["blend"] = made["blend"]
        return StepResult(losses, {}, outputs)

    def conditions(self, outputs: dict) -> tuple[torch.Tensor, ...]:
        return outputs["appearance"], outputs["parsing"]

    def images(self, batch: dict, result: StepResult) -> dict[str, torch.Tensor]:
        out = result.outputs
        columns = {"appearance": out["appearance"], "parsing": parsing_to_rgb(out["parsing"])}
        if "flow" in out:
            columns["flow"] = flow_to_rgb(out["flow"])
        if "blend" in out:
            columns["blend"] = out["blend"].expand(-1, 3, -1, -1) * 2 - 1
        return {**columns, "generated": out["fake"], "target": out["target"]}
