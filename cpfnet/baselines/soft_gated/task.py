"""Training Soft-Gated Warping-GAN (IV-A2) as stage `baseline-soft-gated` of the shared trainer.

Self-reconstruction on single frames (AppearanceFrames), I_a the video's appearance frame. One step trains the
three trained parts together, each by its own losses (the paper [10] trains them one after the other; here
they share a run, and what one part gives the next is a constant, so they learn as if trained in turn):

- the parser: G_parsing(I_parsing, s_pose^t) against the frame's parsing (stage 1's L1 + cross-entropy);
- the matcher: M(I_parsing, x_parsing) by how well I_parsing, warped by its flow, matches x_parsing;
- the generator: G(s_pose^t, x_parsing, I_a, flow) against the frame, the discriminator judging
  (pose maps, x_parsing, I_a, frame); adversarial, L1, perceptual and pyramidal hierarchy terms.

x_parsing is the frame's true parsing, one-hot (`parsing_input: ground_truth`, teacher forcing, as stage 2b)
or the parser's softmax (`generated`, detached). The flow reaches the generator detached: the matcher learns
geometry from the parsings only, as [10]'s matcher, trained before the Warping-GAN, does.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from cpfnet.baselines.soft_gated.losses import matcher_loss, soft_gated_generator_loss
from cpfnet.baselines.soft_gated.network import SoftGatedDiscriminator
from cpfnet.configs.experiment import Config
from cpfnet.dataset.readers import AppearanceFrames
from cpfnet.ops.foreground import one_hot_parsing
from cpfnet.ops.warp import warp
from cpfnet.stages.parsing.losses import parsing_loss
from cpfnet.training.conditional_gan import ConditionalGANTask
from cpfnet.training.task import StepResult, frozen
from cpfnet.training.visuals import parsing_to_rgb, pose_to_rgb


class SoftGatedTask(ConditionalGANTask):
    optimized = {"generator": ("parser", "matcher", "generator"), "discriminator": ("discriminator",)}

    @classmethod
    def build_networks(cls, config: Config) -> dict[str, nn.Module]:
        return {**super().build_networks(config),
                "discriminator": SoftGatedDiscriminator(**asdict(config.soft_gated.discriminator))}

    def dataset(self, data: Path) -> AppearanceFrames:
        return AppearanceFrames(data, size=self.size)

    def generator_step(self, batch: dict) -> StepResult:
        """batch: AppearanceFrames items (appearance_image/parsing, image, parsing, pose)."""
        section = self.section
        pose_maps = self.pose_maps(batch["pose"])
        source = self.image(one_hot_parsing(batch["appearance_parsing"]))
        parsed = self.models["parser"](source, pose_maps)
        losses = {f"parsing_{k}": v for k, v in parsing_loss(parsed["logits"], batch["parsing"],
                                                              section.parsing_loss).items()}
        if section.parsing_input == "generated":
            parsing = parsed["probs"].detach()
        else:
            parsing = self.image(one_hot_parsing(batch["parsing"]))
        flow = self.models["matcher"](source, parsing)["flow"]
        if section.loss.matcher_weight:
            losses["matcher"] = section.loss.matcher_weight * matcher_loss(source, parsing, flow)
        appearance = self.image(batch["appearance_image"])
        made = self.models["generator"](pose_maps, parsing, appearance, flow.detach())
        outputs = {"pose_maps": pose_maps, "parsing": parsing, "appearance": appearance, "flow": flow.detach(),
                   "target": self.image(batch["image"]), "fake": made["frame"], "gate": made["gate"]}
        losses.update(self.generator_losses(outputs))
        accuracy = (parsed["logits"].detach().argmax(dim=1) == batch["parsing"]).float().mean()
        return StepResult(losses, {"parsing_accuracy": accuracy, "gate": made["gate"].detach().mean()}, outputs)

    def conditions(self, outputs: dict) -> tuple[torch.Tensor, ...]:
        return outputs["pose_maps"], outputs["parsing"], outputs["appearance"]

    def generator_losses(self, outputs: dict) -> dict[str, torch.Tensor]:
        """Stage II's terms; the frozen discriminator sees the real and the fake frame in one pass (its
        features on both feed the hierarchy term)."""
        config = self.section.loss
        logits = fake_features = real_features = None
        if config.adversarial_weight or config.hierarchy_weight:
            n = outputs["fake"].shape[0]
            conditions = [c.repeat(2, 1, 1, 1) for c in self.conditions(outputs)]
            with frozen(self.networks["discriminator"]) as discriminator:
                judged = discriminator(*conditions, torch.cat([outputs["target"], outputs["fake"]]))
            logits = [x[n:] for x in judged["logits"]]
            real_features = [[f[:n] for f in scale] for scale in judged["features"]]
            fake_features = [[f[n:] for f in scale] for scale in judged["features"]]
        return soft_gated_generator_loss(outputs["fake"], outputs["target"], logits, fake_features, real_features,
                                         self.perceptual, config)

    def images(self, batch: dict, result: StepResult) -> dict[str, torch.Tensor]:
        out = result.outputs
        return {"appearance": out["appearance"], "pose": pose_to_rgb(out["pose_maps"]),
                "parsing": parsing_to_rgb(out["parsing"]), "matched": warp(out["appearance"], out["flow"]),
                "generated": out["fake"], "target": out["target"]}
