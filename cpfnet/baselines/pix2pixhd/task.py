"""Training the pix2pixHD baseline (paper IV-A2) as stage `baseline-pix2pixhd` of the shared trainer.

On clips of K = `clip_length` consecutive frames (self-reconstruction, like every stage: I_a is the video's
appearance frame), the generator makes the frames in order, x^t = G(s_pose^t, I_a, X^{t-L..t-1}):

- the previous frames are the generator's own outputs, as at transfer time. Before the clip has L outputs the
  missing ones are copies of I_a, which is what transfer can give the first frame of a video (it has no earlier
  output, and no ground truth): each clip then trains the start of a video as well as its continuation;
- with `detach_previous` (default) they enter as constants, as vid2vid feeds its previous outputs: the
  memory of a step does not grow with the clip, and the generator is not pushed to make frames that help later
  frames more than they look right. `detach_previous: false` backpropagates through the whole clip;
- the losses are stage 2b's on every frame of the clip against the real frame (background included), the
  discriminator judging (pose maps, I_a, frame); generator and discriminator alternate, lr 2e-4 / 2e-5.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from cpfnet.baselines.pix2pixhd.network import Pix2PixHDDiscriminator
from cpfnet.configs.experiment import Config
from cpfnet.dataset.readers import Clips
from cpfnet.training.conditional_gan import ConditionalGANTask
from cpfnet.training.task import StepResult
from cpfnet.training.visuals import pose_to_rgb


def generate_clip(generator: nn.Module, pose_maps: torch.Tensor, appearance: torch.Tensor, previous_frames: int,
                  detach_previous: bool = True) -> torch.Tensor:
    """Make a clip frame by frame, each from the previous L outputs (I_a copies before there are L).

    pose_maps [B, K, 35, S, S], appearance [B, 3, S, S] -> frames [B, K, 3, S, S] in [-1, 1].
    """
    history = [appearance] * previous_frames
    frames = []
    for t in range(pose_maps.shape[1]):
        previous = torch.stack(history[len(history) - previous_frames:], dim=1) if previous_frames else None
        frame = generator(pose_maps[:, t], appearance, previous)["frame"]
        frames.append(frame)
        history.append(frame.detach() if detach_previous else frame)
    return torch.stack(frames, dim=1)


class Pix2PixHDTask(ConditionalGANTask):
    optimized = {"generator": ("generator",), "discriminator": ("discriminator",)}

    @classmethod
    def build_networks(cls, config: Config) -> dict[str, nn.Module]:
        return {**super().build_networks(config),
                "discriminator": Pix2PixHDDiscriminator(**asdict(config.baseline.discriminator))}

    def dataset(self, data: Path) -> Clips:
        return Clips(data, length=self.section.clip_length, size=self.size)

    def generator_step(self, batch: dict) -> StepResult:
        """batch: Clips items (images, poses [B, K, ...], appearance_image [B, 3, S, S], ...)."""
        section = self.section
        b, k = batch["poses"].shape[:2]
        pose_maps = self.pose_maps(batch["poses"].flatten(0, 1))  # [B*K, 35, S, S]
        appearance = self.image(batch["appearance_image"])
        fake = generate_clip(self.models["generator"], pose_maps.unflatten(0, (b, k)), appearance,
                             section.generator.previous_frames, section.detach_previous).flatten(0, 1)
        target = self.image(batch["images"].flatten(0, 1))
        outputs = {"pose_maps": pose_maps, "appearance": appearance.repeat_interleave(k, dim=0), "target": target,
                   "fake": fake, "clip_length": torch.tensor(k)}
        return StepResult(self.generator_losses(outputs), {}, outputs)

    def conditions(self, outputs: dict) -> tuple[torch.Tensor, ...]:
        return outputs["pose_maps"], outputs["appearance"]

    def images(self, batch: dict, result: StepResult) -> dict[str, torch.Tensor]:
        """The last frame of each clip: the one made from generated previous frames."""
        out = result.outputs
        last = torch.arange(int(out["clip_length"]) - 1, out["fake"].shape[0], int(out["clip_length"]))
        return {"appearance": out["appearance"][last], "pose": pose_to_rgb(out["pose_maps"][last]),
                "generated": out["fake"][last], "target": out["target"][last]}
