"""The conditional-GAN training that stage 2b and the pix2pixHD baseline share (paper III-C, IV-A2, IV-A3).

A generator step adds the adversarial, L1 and perceptual terms (eq. 3, 4) with the foreground stage's loss
config; the discriminator step scores real and fake under the same conditions; generator and discriminator
have their own optimizers (`generator_optimizer`, `discriminator_optimizer` of the stage's section).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch

from cpfnet.configs.common import OptimizerConfig
from cpfnet.configs.experiment import Config
from cpfnet.nn.perceptual import PerceptualLoss
from cpfnet.stages.foreground.losses import foreground_discriminator_loss, foreground_generator_loss
from cpfnet.training.task import StepResult, Task, frozen


class ConditionalGANTask(Task):
    """Adversarial training with the foreground stage's losses. The section has `loss`, `perceptual`,
    `generator_optimizer` and `discriminator_optimizer`; the networks include "discriminator". Subclasses say
    what the discriminator is conditioned on (`conditions`) and put "fake" and "target" in their outputs."""

    def __init__(self, config: Config, runs: Path, ctx):
        super().__init__(config, runs, ctx)
        self.perceptual = (PerceptualLoss(**asdict(self.section.perceptual)).to(self.device)
                           if self.section.loss.perceptual_weight else None)

    def optimizer_config(self, name: str) -> OptimizerConfig:
        return self.section.generator_optimizer if name == "generator" else self.section.discriminator_optimizer

    def conditions(self, outputs: dict) -> tuple[torch.Tensor, ...]:
        """The discriminator's inputs besides the image, from the generator step's outputs."""
        raise NotImplementedError

    def generator_losses(self, outputs: dict) -> dict[str, torch.Tensor]:
        """outputs: "fake", "target" and what `conditions` reads -> weighted generator loss terms."""
        fake_logits = None
        if self.section.loss.adversarial_weight:
            # The bare discriminator (not its DDP wrapper), frozen: gradients reach the fake image only.
            with frozen(self.networks["discriminator"]) as discriminator:
                fake_logits = discriminator(*self.conditions(outputs), outputs["fake"])["logits"]
        return foreground_generator_loss(outputs["fake"], outputs["target"], fake_logits, self.perceptual,
                                         self.section.loss)

    def discriminator_step(self, batch: dict, generated: StepResult) -> StepResult:
        out = generated.outputs
        n = out["fake"].shape[0]
        # Real and fake in one forward pass (per-sample norms make it the same as two), so DDP sees one call.
        conditions = [c.repeat(2, 1, 1, 1) for c in self.conditions(out)]
        logits = self.models["discriminator"](*conditions, torch.cat([out["target"], out["fake"].detach()]))["logits"]
        return StepResult(foreground_discriminator_loss([x[:n] for x in logits], [x[n:] for x in logits],
                                                        self.section.loss))
