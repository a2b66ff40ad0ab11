"""Training few-shot vid2vid (paper IV-A2) as stage `baseline-fewshot-vid2vid`: vid2vid's clip training
(`cpfnet.baselines.vid2vid.task`) with the few-shot generator, which also sees I_a's pose maps (the example's
semantic map), and the example-warping loss."""

from __future__ import annotations

import torch

from cpfnet.baselines.fewshot_vid2vid.losses import warp_loss
from cpfnet.baselines.vid2vid.task import Vid2VidTask


class FewShotVid2VidTask(Vid2VidTask):
    """Its generator comes from its section (`FewShotVid2VidStageConfig.generator_class`)."""

    def extra_losses(self, clip: dict, outputs: dict, appearance: torch.Tensor) -> dict[str, torch.Tensor]:
        weight = self.section.loss.reference_warp_weight
        if not weight or "reference_flow" not in clip:
            return {}
        k = clip["reference_flow"].shape[1]
        return {"reference_warp": weight * warp_loss(clip["reference_flow"].flatten(0, 1),
                                                     appearance.repeat_interleave(k, dim=0), outputs["target"])}
