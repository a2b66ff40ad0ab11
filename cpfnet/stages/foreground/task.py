"""Stage 2b training (paper III-C, IV-A3): G_fg(I_a, x_parsing^i, F, V) -> x_fg^i against a conditional
discriminator D(I_a, x_parsing^i, x_fg^i); they alternate, lr 2e-4 and 2e-5; weights adv 0.01, L1 1, per 1.

- I_a: the appearance frame's foreground (person on black, cpfnet.ops.foreground); target x_fg^i: frame i's.
- x_parsing^i: by default the ground-truth parsing of frame i, one-hot (teacher forcing: G_fg learns from
  clean parsings while stage 1 trains independently); `parsing_input: generated` uses the trained parsing
  stage's softmax instead, as transfer will.
- F, V: the trained flow stage (RUNS/flow), frozen, from the appearance pose and frame i's pose, as at
  transfer time; real videos have no ground-truth flow. `generator.use_flow: false` (the ablation "w/o
  appearance flow") trains without it.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from cpfnet.configs.experiment import Config
from cpfnet.dataset.readers import AppearanceFrames
from cpfnet.ops.foreground import extract_foreground, one_hot_parsing
from cpfnet.stages.foreground.network import ForegroundDiscriminator
from cpfnet.training.conditional_gan import ConditionalGANTask
from cpfnet.training.task import StepResult, Task
from cpfnet.training.visuals import flow_to_rgb, parsing_to_rgb


def frame_conditions(task: Task, appearance_parsing: torch.Tensor, appearance_pose: torch.Tensor,
                     parsing: torch.Tensor, pose: torch.Tensor, parsing_input: str,
                     use_flow: bool) -> dict[str, torch.Tensor]:
    """What G_fg needs for a batch of frames, from the frozen earlier stages (no gradients).

    appearance_parsing [N, S, S] ids, appearance_pose [N, 18, 3], the frames' parsing [N, S, S] ids and pose
    [N, 18, 3] -> {"parsing": [N, 20, S, S] one-hot or softmax, and with use_flow "flow" [N, 2, S, S],
    "visibility" [N, 3, S, S] probabilities}.
    """
    with torch.no_grad():
        pose_maps = task.pose_maps(pose)
        if parsing_input == "generated":
            generator = task.prerequisites["parsing"]["generator"]
            x_parsing = generator(task.image(one_hot_parsing(appearance_parsing)), pose_maps)["probs"]
        else:
            x_parsing = task.image(one_hot_parsing(parsing))
        out = {"parsing": x_parsing}
        if use_flow:
            flow = task.prerequisites["flow"]["flow"](task.pose_maps(appearance_pose), pose_maps)
            out.update(flow=flow["flow"], visibility=flow["visibility"])
    return out


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
        section = self.section
        inputs = frame_conditions(self, batch["appearance_parsing"], batch["appearance_pose"], batch["parsing"],
                                  batch["pose"], section.parsing_input, section.generator.use_flow)
        appearance = self.image(extract_foreground(batch["appearance_image"], batch["appearance_parsing"]))
        target = self.image(extract_foreground(batch["image"], batch["parsing"]))
        fake = self.models["generator"](inputs["parsing"], inputs.get("flow"), inputs.get("visibility"),
                                        appearance=appearance)["foreground"]
        outputs = {**inputs, "appearance": appearance, "target": target, "fake": fake}
        return StepResult(self.generator_losses(outputs), {}, outputs)

    def conditions(self, outputs: dict) -> tuple[torch.Tensor, ...]:
        return outputs["appearance"], outputs["parsing"]

    def images(self, batch: dict, result: StepResult) -> dict[str, torch.Tensor]:
        out = result.outputs
        columns = {"appearance": out["appearance"], "parsing": parsing_to_rgb(out["parsing"])}
        if "flow" in out:
            columns["flow"] = flow_to_rgb(out["flow"])
        return {**columns, "generated": out["fake"], "target": out["target"]}
