"""Training vid2vid (paper IV-A2) as stage `baseline-vid2vid` of the shared trainer; few-shot vid2vid reuses it.

On clips of K = `clip_length` consecutive frames (self-reconstruction: I_a is the video's appearance frame),
the generator makes the frames in order, each from the previous L generated frames and their poses:

- before the clip has L outputs the missing previous frames are copies of I_a with I_a's pose maps, which is
  what transfer can give the first frame of a video (as the pix2pixHD baseline does);
- `detach_previous` (default): the previous outputs enter as constants, as vid2vid feeds them;
- losses: stage 2b's image terms on every frame (D_I on (s_pose^t, I_a, x^t)), the video GAN on every window
  of the clip (D_V), and the flow-warping term: the *real* frame before t (I_a for the clip's first frame)
  warped by the predicted flow against the real frame t. The generators also return what `extra_losses`
  of a subclass needs (few-shot vid2vid: the example warped by its flow);
- D_I and D_V step together on the same optimizer (lr 2e-5), after the generator (lr 2e-4).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from cpfnet.baselines.pix2pixhd import Pix2PixHDDiscriminator
from cpfnet.baselines.vid2vid.losses import temporal_discriminator_loss, temporal_generator_loss, warp_loss
from cpfnet.baselines.vid2vid.network import TemporalDiscriminator
from cpfnet.configs.experiment import Config
from cpfnet.dataset.readers import Clips
from cpfnet.ops.warp import identity_flow
from cpfnet.stages import registry
from cpfnet.training.conditional_gan import ConditionalGANTask
from cpfnet.training.task import StepResult, frozen
from cpfnet.training.visuals import flow_to_rgb, pose_to_rgb


def generate_clip(generator: nn.Module, pose_maps: torch.Tensor, appearance: torch.Tensor,
                  appearance_pose_maps: torch.Tensor, previous_frames: int,
                  detach_previous: bool = True) -> dict[str, torch.Tensor]:
    """Make a clip frame by frame, each from the previous L outputs and their pose maps (I_a and its pose
    maps before there are L).

    pose_maps [B, K, P, S, S], appearance [B, 3, S, S], appearance_pose_maps [B, P, S, S] -> the generator's
    outputs stacked on time: {"frame": [B, K, 3, S, S], "flow": [B, K, 2, S, S], ...}.
    """
    frames, poses = [appearance] * previous_frames, [appearance_pose_maps] * previous_frames
    steps = []
    for t in range(pose_maps.shape[1]):
        out = generator(pose_maps[:, t], torch.stack(poses[-previous_frames:], dim=1),
                        torch.stack(frames[-previous_frames:], dim=1), appearance, appearance_pose_maps)
        steps.append(out)
        frames.append(out["frame"].detach() if detach_previous else out["frame"])
        poses.append(pose_maps[:, t])
    return {k: torch.stack([s[k] for s in steps], dim=1) for k in steps[0]}


class Vid2VidTask(ConditionalGANTask):
    optimized = {"generator": ("generator",), "discriminator": ("discriminator", "temporal_discriminator")}

    @classmethod
    def build_networks(cls, config: Config) -> dict[str, nn.Module]:
        section = config.stage(registry.task_stage(cls).name)
        return {**super().build_networks(config),
                "discriminator": Pix2PixHDDiscriminator(**asdict(section.discriminator)),
                "temporal_discriminator": TemporalDiscriminator(**asdict(section.temporal_discriminator))}

    def dataset(self, data: Path) -> Clips:
        return Clips(data, length=self.section.clip_length, size=self.size)

    def generator_step(self, batch: dict) -> StepResult:
        """batch: Clips items (images, poses [B, K, ...], appearance_image [B, 3, S, S], appearance_pose)."""
        section = self.section
        b, k = batch["poses"].shape[:2]
        pose_maps = self.pose_maps(batch["poses"].flatten(0, 1)).unflatten(0, (b, k))  # [B, K, P, S, S]
        appearance = self.image(batch["appearance_image"])
        appearance_pose_maps = self.pose_maps(batch["appearance_pose"])
        clip = generate_clip(self.models["generator"], pose_maps, appearance, appearance_pose_maps,
                             section.generator.previous_frames, section.detach_previous)
        target = self.image(batch["images"])  # [B, K, 3, S, S]
        outputs = {"pose_maps": pose_maps.flatten(0, 1), "appearance": appearance.repeat_interleave(k, dim=0),
                   "target": target.flatten(0, 1), "fake": clip["frame"].flatten(0, 1),
                   "clip_pose_maps": pose_maps, "clip_target": target, "clip_fake": clip["frame"],
                   "flow": clip["flow"].flatten(0, 1), "mask": clip["mask"].flatten(0, 1),
                   "clip_length": torch.tensor(k)}
        losses = self.generator_losses(outputs)
        loss = section.loss
        if loss.temporal_adversarial_weight:
            with frozen(self.networks["temporal_discriminator"]) as discriminator:
                logits = discriminator(pose_maps, clip["frame"])["logits"]
            losses.update(temporal_generator_loss(logits, loss))
        if loss.warp_weight:
            real_previous = torch.cat([appearance[:, None], target[:, :-1]], dim=1).flatten(0, 1)
            losses["warp"] = loss.warp_weight * warp_loss(outputs["flow"], real_previous, outputs["target"])
        losses.update(self.extra_losses(clip, outputs, appearance))
        metrics = {"mask_mean": outputs["mask"].detach().mean()}
        return StepResult(losses, metrics, outputs)

    def extra_losses(self, clip: dict, outputs: dict, appearance: torch.Tensor) -> dict[str, torch.Tensor]:
        """Loss terms a subclass adds for its own outputs."""
        return {}

    def conditions(self, outputs: dict) -> tuple[torch.Tensor, ...]:
        return outputs["pose_maps"], outputs["appearance"]

    def discriminator_step(self, batch: dict, generated: StepResult) -> StepResult:
        result = super().discriminator_step(batch, generated)
        out = generated.outputs
        b = out["clip_fake"].shape[0]
        logits = self.models["temporal_discriminator"](
            out["clip_pose_maps"].repeat(2, 1, 1, 1, 1),
            torch.cat([out["clip_target"], out["clip_fake"].detach()]))["logits"]
        # Windows are stacked clip by clip: the first half of every scale's batch is the real clips'.
        halves = [(x[:x.shape[0] // 2], x[x.shape[0] // 2:]) for x in logits]
        assert all(r.shape[0] % b == 0 for r, _ in halves)
        result.losses.update(temporal_discriminator_loss([r for r, _ in halves], [f for _, f in halves],
                                                         self.section.loss))
        return result

    def images(self, batch: dict, result: StepResult) -> dict[str, torch.Tensor]:
        """The last frame of each clip (made from generated previous frames), its flow and mask."""
        out = result.outputs
        n = int(out["clip_length"])
        last = torch.arange(n - 1, out["fake"].shape[0], n)
        mask = out["mask"][last] * 2 - 1
        flow = out["flow"][last]
        absolute = flow + identity_flow(flow.shape[0], *flow.shape[2:], device=flow.device, dtype=flow.dtype)
        return {"appearance": out["appearance"][last], "pose": pose_to_rgb(out["pose_maps"][last]),
                "flow": flow_to_rgb(absolute), "mask": mask.expand(-1, 3, -1, -1),
                "generated": out["fake"][last], "target": out["target"][last]}
