"""few-shot vid2vid's losses here: vid2vid's (`cpfnet.baselines.vid2vid.losses`) plus the example-warping term.

The example I_a warped by the example flow w_e should explain frame t where the mask keeps it: few-shot vid2vid
trains that flow against FlowNet2's flow between the example and the frame; without FlowNet2, the warping term
`reference_warp_weight` x L1(warp(I_a, w_e), real^t) (weight 1, as the previous-frame term).
"""

from __future__ import annotations

from dataclasses import dataclass

from cpfnet.baselines.vid2vid.losses import Vid2VidLossConfig, warp_loss

__all__ = ["FewShotLossConfig", "warp_loss"]


@dataclass
class FewShotLossConfig(Vid2VidLossConfig):
    """vid2vid's terms, then the weight of the example-warping term."""

    reference_warp_weight: float = 1.0
