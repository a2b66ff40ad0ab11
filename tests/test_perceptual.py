"""Perceptual loss (eq. 4): the HED VGG16 port (layout, Caffe BGR input), the torchvision VGG19 option, frozen
weights, gradients to the image, and one-line errors for bad weight files."""

import logging

import h5py
import numpy as np
import pytest
import torch
from torch import nn
import torch.nn.functional as F

from cpfnet.errors import UserError
from cpfnet.nn.perceptual import PerceptualConfig, PerceptualLoss, hed_weights_path


@pytest.fixture(scope="module")
def hed() -> PerceptualLoss:
    return PerceptualLoss()


def test_hed_first_layer_matches_the_file_with_caffe_bgr_input(hed):
    """relu1_1 equals the file's conv1_1 applied, in numpy, to BGR 0..255 minus the Caffe mean."""
    torch.manual_seed(0)
    image = torch.rand(1, 3, 6, 7) * 2 - 1
    with h5py.File(hed_weights_path(), "r") as f:
        kernel = f["block1/layers/conv2d/vars/0"][()]  # (kh, kw, in, out), in = B, G, R
        bias = f["block1/layers/conv2d/vars/1"][()]
    bgr = (image[0].numpy().transpose(1, 2, 0)[:, :, ::-1] + 1) * 127.5 - np.array([104.00699, 116.66877, 122.67892])
    padded = np.pad(bgr, ((1, 1), (1, 1), (0, 0)))
    expected = np.zeros((6, 7, 64))
    for i in range(6):
        for j in range(7):
            expected[i, j] = np.einsum("abc,abcd->d", padded[i:i + 3, j:j + 3], kernel) + bias
    expected = np.maximum(expected, 0).transpose(2, 0, 1)
    got = hed.features(image)[0][0].numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-3)


def test_features_shapes_and_loss_properties(hed):
    torch.manual_seed(0)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    assert [tuple(f.shape) for f in hed.features(x)] == [(2, 64, 32, 32), (2, 128, 16, 16), (2, 256, 8, 8),
                                                        (2, 512, 4, 4), (2, 512, 2, 2)]
    assert hed(x, x).item() == 0.0
    y = (x + 0.3 * torch.randn_like(x)).clamp(-1, 1)
    assert hed(y, x) > 0
    # Frozen: nothing to train or save, always in eval mode, and the gradient reaches the prediction only.
    assert list(hed.parameters()) == [] and hed.state_dict() == {}
    hed.train()
    assert not hed.training
    y.requires_grad_()
    target = x.clone().requires_grad_()
    hed(y, target).backward()
    assert y.grad is not None and y.grad.abs().sum() > 0 and target.grad is None


def test_logs_backbone_and_layer_weights(caplog):
    with caplog.at_level(logging.INFO, logger="cpfnet.nn.perceptual"):
        loss = PerceptualLoss(layer_weights=(1.0, 0.5))
    assert "VGG16 of HED" in caplog.text and "relu2_1" in caplog.text
    torch.manual_seed(0)
    x, y = torch.rand(1, 3, 16, 16) * 2 - 1, torch.rand(1, 3, 16, 16) * 2 - 1
    fx, fy = loss.features(x), loss.features(y)
    assert len(fx) == 2
    torch.testing.assert_close(loss(x, y), F.l1_loss(fx[0], fy[0]) + 0.5 * F.l1_loss(fx[1], fy[1]))


def _torchvision_vgg19() -> nn.Sequential:
    """torchvision's vgg19().features layout (cfg 'E'), random weights."""
    layers, prev = [], 3
    for v in (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"):
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(prev, v, 3, padding=1), nn.ReLU()]
            prev = v
    return nn.Sequential(*layers)


def test_vgg19_state_dict_option(tmp_path, caplog):
    torch.manual_seed(0)
    features = _torchvision_vgg19()
    state = {f"features.{k}": v for k, v in features.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(4, 4)  # a whole-model state dict has more keys: ignored
    path = tmp_path / "vgg19.pth"
    torch.save(state, path)
    with caplog.at_level(logging.INFO, logger="cpfnet.nn.perceptual"):
        loss = PerceptualLoss(**{**PerceptualConfig().__dict__, "backbone": "vgg19", "weights": str(path)})
    assert "ImageNet VGG19" in caplog.text
    image = torch.rand(1, 3, 32, 32) * 2 - 1
    normalised = ((image + 1) / 2 - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)) / torch.tensor(
        [0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        expected = [features[:k + 1](normalised) for k in (1, 6, 11, 20, 29)]  # relu1_1 ... relu5_1
        got = loss.features(image)
    for e, g in zip(expected, got):
        torch.testing.assert_close(g, e, rtol=1e-4, atol=1e-4)


def test_bad_weight_files_raise_one_line_user_errors(tmp_path):
    with pytest.raises(UserError, match="not found"):
        PerceptualLoss(weights=str(tmp_path / "missing.weights.h5"))
    garbage = tmp_path / "garbage.h5"
    garbage.write_bytes(b"not an hdf5 file")
    with pytest.raises(UserError, match="cannot read HED"):
        PerceptualLoss(weights=str(garbage))
    with pytest.raises(UserError, match="needs a weights file"):
        PerceptualLoss(backbone="vgg19")
    with pytest.raises(UserError, match="cannot read a torchvision VGG19") as info:
        PerceptualLoss(backbone="vgg19", weights=str(garbage))
    assert "\n" not in str(info.value)
    wrong = tmp_path / "wrong.pth"
    torch.save({"features.0.weight": torch.zeros(8, 3, 3, 3)}, wrong)
    with pytest.raises(UserError, match="cannot read a torchvision VGG19"):
        PerceptualLoss(backbone="vgg19", weights=str(wrong))
    with pytest.raises(UserError, match="unknown perceptual backbone"):
        PerceptualLoss(backbone="resnet")
    with pytest.raises(UserError) as info:
        PerceptualLoss(backbone="vgg19", weights=str(wrong))
    assert "\n" not in str(info.value)
