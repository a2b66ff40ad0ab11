"""H's building blocks in few-shot vid2vid (Wang et al., NeurIPS 2019): SPADE (Park et al. 2019), its residual
block, and the label embedding of the pose maps whose levels modulate them. A SPADE layer's modulation convs
are either its own or, `adaptive`, generated per sample by E (`weight_generation`)."""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from cpfnet.nn.blocks import norm_layer


def lrelu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2)


class SPADE(nn.Module):
    """Spatially-adaptive normalisation: norm(x) * (1 + gamma) + beta, gamma and beta 1x1 convs of the label
    embedding. With `adaptive`, the convs' weights come per sample from the weight generator.

    x [B, C, H, W], embedding [B, E, H, W], weights (adaptive only): (gamma_w [B, C, E], gamma_b [B, C],
    beta_w [B, C, E], beta_b [B, C]) -> [B, C, H, W].
    """

    def __init__(self, channels: int, embedding_channels: int, adaptive: bool, norm: str = "instance"):
        super().__init__()
        self.norm = norm_layer(norm, channels)
        if isinstance(self.norm, nn.BatchNorm2d):
            self.norm = nn.BatchNorm2d(channels, affine=False)
        self.channels, self.embedding_channels, self.adaptive = channels, embedding_channels, adaptive
        if not adaptive:
            self.gamma = nn.Conv2d(embedding_channels, channels, 1)
            self.beta = nn.Conv2d(embedding_channels, channels, 1)

    def forward(self, x: torch.Tensor, embedding: torch.Tensor, weights=None) -> torch.Tensor:
        if self.adaptive:
            if weights is None:
                raise ValueError("this SPADE layer's weights are generated: pass them")
            gamma_w, gamma_b, beta_w, beta_b = weights
            gamma = torch.einsum("bce,behw->bchw", gamma_w, embedding) + gamma_b[..., None, None]
            beta = torch.einsum("bce,behw->bchw", beta_w, embedding) + beta_b[..., None, None]
        else:
            gamma, beta = self.gamma(embedding), self.beta(embedding)
        return self.norm(x) * (1 + gamma) + beta


class SPADEResBlock(nn.Module):
    """SPADE's residual block: x_s + conv(act(SPADE(conv(act(SPADE(x)))))), 3x3 convs through
    min(fin, fout) channels, a SPADE-normalised 1x1 shortcut when fin != fout.

    x [B, fin, H, W], embedding [B, E, H, W], weights: {"0", "1", "s"} generated SPADE weights (adaptive)
    -> [B, fout, H, W].
    """

    def __init__(self, fin: int, fout: int, embedding_channels: int, adaptive: bool, norm: str = "instance"):
        super().__init__()
        middle = min(fin, fout)
        self.norm_0 = SPADE(fin, embedding_channels, adaptive, norm)
        self.conv_0 = nn.Conv2d(fin, middle, 3, padding=1)
        self.norm_1 = SPADE(middle, embedding_channels, adaptive, norm)
        self.conv_1 = nn.Conv2d(middle, fout, 3, padding=1)
        self.learned_shortcut = fin != fout
        if self.learned_shortcut:
            self.norm_s = SPADE(fin, embedding_channels, adaptive, norm)
            self.conv_s = nn.Conv2d(fin, fout, 1, bias=False)

    def norms(self) -> dict[str, SPADE]:
        out = {"0": self.norm_0, "1": self.norm_1}
        if self.learned_shortcut:
            out["s"] = self.norm_s
        return out

    def forward(self, x: torch.Tensor, embedding: torch.Tensor, weights: dict | None = None) -> torch.Tensor:
        w = weights or {}
        shortcut = self.conv_s(self.norm_s(x, embedding, w.get("s"))) if self.learned_shortcut else x
        dx = self.conv_0(lrelu(self.norm_0(x, embedding, w.get("0"))))
        dx = self.conv_1(lrelu(self.norm_1(dx, embedding, w.get("1"))))
        return shortcut + dx


class LabelEmbedding(nn.Module):
    """Encoder-decoder from the pose maps to one feature map per level: [B, P, H, W] -> [e_0 .. e_n],
    e_l [B, ch[l], H / 2**l, W / 2**l] (few-shot vid2vid's label embedding for SPADE)."""

    def __init__(self, in_channels: int, ch: list[int], n_downsample: int):
        super().__init__()
        self.first = nn.Conv2d(in_channels, ch[0], 3, padding=1)
        self.down = nn.ModuleList(nn.Conv2d(ch[i], ch[i + 1], 3, stride=2, padding=1) for i in range(n_downsample))
        self.up = nn.ModuleList(nn.ConvTranspose2d(ch[i + 1], ch[i], 3, stride=2, padding=1, output_padding=1)
                                for i in range(n_downsample))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = lrelu(self.first(x))
        for down in self.down:
            x = lrelu(down(x))
        levels = [x]
        for up in reversed(self.up):
            levels.append(lrelu(up(levels[-1])))
        return levels[::-1]

