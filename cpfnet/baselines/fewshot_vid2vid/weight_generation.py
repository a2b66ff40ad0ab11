"""E's parts in few-shot vid2vid (Wang et al., NeurIPS 2019, Sec. 3.2) besides the example feature extractor:
E_A, the attention from the current pose to the examples' positions, and E_P, the MLP that turns pooled
example features into one SPADE layer's modulation weights."""

from __future__ import annotations

import math

import torch
from torch import nn

from cpfnet.nn.blocks import ConvBlock


class ExampleAttention(nn.Module):
    """E_A: soft correspondence from the current pose to the examples' positions.

    `attend(features [B*K, C, h, w], weights)` recombines example features for the current frame with the
    weights from `weights(pose_maps [B, P, H, W], example_pose_maps [B*K, P, H, W], K)`: [B, K*h*w, h*w],
    each column a softmax over the K examples' positions.
    """

    def __init__(self, pose_channels: int, ch: list[int], n_downsample: int, norm: str):
        super().__init__()

        def tower() -> nn.Sequential:
            return nn.Sequential(ConvBlock(pose_channels, ch[0], 3, norm=norm, act="lrelu"),
                                 *[ConvBlock(ch[i], ch[i + 1], 3, stride=2, norm=norm, act="lrelu",
                                             padding_mode="zeros") for i in range(n_downsample)])

        self.key, self.query = tower(), tower()

    def weights(self, pose_maps: torch.Tensor, example_pose_maps: torch.Tensor, k: int) -> torch.Tensor:
        query = self.query(pose_maps)  # [B, C, h, w]
        key = self.key(example_pose_maps)  # [B*K, C, h, w]
        b, c, h, w = query.shape
        key = key.reshape(b, k, c, h * w).permute(0, 1, 3, 2).reshape(b, k * h * w, c)
        energy = torch.bmm(key, query.reshape(b, c, h * w)) / math.sqrt(c)
        return energy.softmax(dim=1)

    @staticmethod
    def attend(features: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
        bk, c, h, w = features.shape
        b = attention.shape[0]
        k = bk // b
        flat = features.reshape(b, k, c, h * w).permute(0, 2, 1, 3).reshape(b, c, k * h * w)
        return torch.bmm(flat, attention).reshape(b, c, h, w)


class WeightGenerator(nn.Module):
    """E_P for one SPADE layer: example features q [B, C, D] (one row per output channel) -> (gamma_w [B, C, E],
    gamma_b [B, C], beta_w [B, C, E], beta_b [B, C])."""

    def __init__(self, descriptor: int, embedding_channels: int, n_fc_layers: int):
        super().__init__()
        layers: list[nn.Module] = []
        width = descriptor
        for _ in range(n_fc_layers):
            layers += [nn.Linear(width, descriptor), nn.LeakyReLU(0.2)]
            width = descriptor
        layers.append(nn.Linear(width, 2 * (embedding_channels + 1)))
        self.mlp = nn.Sequential(*layers)
        self.embedding_channels = embedding_channels
        self.scale = 1 / math.sqrt(embedding_channels)

    def forward(self, q: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.mlp(q)
        e = self.embedding_channels
        return (out[..., :e] * self.scale, out[..., e], out[..., e + 1:2 * e + 1] * self.scale, out[..., 2 * e + 1])

