"""Stage 2a training (paper III-C, "Flow Regression Network"): (I_pose, s_pose^i) -> appearance flow F and
visibility V, against the synthetic dancers' rendered ground truth (FlowPairs). Loss: end-point error plus
visibility cross-entropy; the plain EPE in pixels and the visibility accuracy are logged as metrics.
"""

from __future__ import annotations

from pathlib import Path

import torch

from cpfnet.dataset.readers import FlowPairs
from cpfnet.stages.flow.losses import BACKGROUND, flow_loss, flow_metrics
from cpfnet.stages.flow.prior import run_flow
from cpfnet.training.task import StepResult, Task
from cpfnet.training.visuals import flow_to_rgb, pose_to_rgb, visibility_to_rgb


class FlowTask(Task):
    optimized = {"generator": ("flow",)}

    def dataset(self, data: Path) -> FlowPairs:
        return FlowPairs(data, size=self.size)

    def generator_step(self, batch: dict) -> StepResult:
        """batch: appearance_pose, pose [B, 18, 3], flow [B, 2, S, S], visibility [B, S, S] (FlowPairs)."""
        appearance_maps, pose_maps = self.pose_maps(batch["appearance_pose"]), self.pose_maps(batch["pose"])
        out = run_flow(self.models["flow"], appearance_maps, pose_maps, batch["appearance_pose"].to(self.device),
                       batch["pose"].to(self.device))
        losses = flow_loss(out["flow"], out["visibility_logits"], batch["flow"], batch["visibility"], self.section.loss)
        metrics = flow_metrics(out["flow"].detach(), out["visibility_logits"].detach(), batch["flow"],
                               batch["visibility"])
        return StepResult(losses, metrics, {"appearance_maps": appearance_maps, "pose_maps": pose_maps, **out})

    def images(self, batch: dict, result: StepResult) -> dict[str, torch.Tensor]:
        out = result.outputs
        white = torch.ones_like(out["flow"][:, :1]).expand(-1, 3, -1, -1)
        # Background pixels have no flow: white, by the predicted or true visibility.
        flow = torch.where(out["visibility_logits"].argmax(1, keepdim=True) == BACKGROUND, white, flow_to_rgb(out["flow"]))
        target = torch.where(batch["visibility"][:, None] == BACKGROUND, white, flow_to_rgb(batch["flow"]))
        return {"appearance pose": pose_to_rgb(out["appearance_maps"]), "pose": pose_to_rgb(out["pose_maps"]),
                "flow": flow, "target flow": target,
                "visibility": visibility_to_rgb(out["visibility_logits"]),
                "target visibility": visibility_to_rgb(batch["visibility"])}
