"""The Kinetics-400 I3D port: TF 'SAME' arithmetic, exhaustive weight conversion, and predictions that make
sense (the real dance clip is recognised as dancing, stably under noise and mirroring)."""

import copy
import math
import pickle
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from cpfnet.errors import UserError
from cpfnet.evaluation.fvd import preprocess_clip
from cpfnet.evaluation.i3d import I3D, MIN_FRAMES, max_pool_same, same_padding
from cpfnet.evaluation.i3d_weights import (convert_flax_checkpoint, default_checkpoint_path, load_i3d,
                                           read_flax_checkpoint)
from cpfnet.evaluation.kinetics_labels import KINETICS_400_LABELS

REAL = Path(__file__).resolve().parents[2] / "shared" / "real"
DANCE_CLASSES = {name for name in KINETICS_400_LABELS if "danc" in name} | {"zumba", "doing aerobics"}


@pytest.fixture(scope="module")
def flat_checkpoint():
    return read_flax_checkpoint(default_checkpoint_path())


@pytest.fixture(scope="module")
def model():
    return load_i3d()


@pytest.mark.parametrize("size, kernel, stride, expected", [
    (224, 7, 2, (2, 3)),  # Conv3d_1a: asymmetric, the extra pixel after
    (30, 7, 2, (2, 3)),
    (112, 3, 2, (0, 1)),  # MaxPool3d_2a
    (15, 3, 2, (1, 1)),
    (8, 2, 2, (0, 0)),  # MaxPool3d_5a on 8 steps
    (7, 2, 2, (0, 1)),
    (28, 3, 1, (1, 1)),
    (5, 1, 1, (0, 0)),
])
def test_same_padding_matches_tensorflow(size, kernel, stride, expected):
    assert same_padding(size, kernel, stride) == expected
    before, after = expected
    # TF's rule: the output has ceil(size / stride) positions.
    assert (size + before + after - kernel) // stride + 1 == math.ceil(size / stride)


def test_max_pool_same_never_picks_the_padding():
    x = -1.0 - torch.rand(1, 2, 3, 7, 7)  # all negative: a zero pad would win at the borders
    out = max_pool_same(x, (1, 3, 3), (1, 2, 2))
    assert out.shape == (1, 2, 3, 4, 4) and (out < -1.0).all()
    # 'SAME' pads one cell on each side here: the corner windows hold 2x2 real cells.
    assert out[0, 0, 0, 0, 0] == x[0, 0, 0, :2, :2].max() and out[0, 0, 0, 3, 3] == x[0, 0, 0, 5:, 5:].max()


@pytest.mark.parametrize("kernel, stride", [((1, 3, 3), (1, 2, 2)), ((3, 3, 3), (1, 1, 1)), ((3, 3, 3), (2, 2, 2)),
                                            ((2, 2, 2), (2, 2, 2))])
def test_separable_max_pool_equals_max_pool3d(kernel, stride):
    x = torch.randn(2, 3, 7, 10, 9)
    padded = torch.nn.functional.pad(x, [p for size, k, s in zip((9, 10, 7), kernel[::-1], stride[::-1])
                                         for p in same_padding(size, k, s)], value=float("-inf"))
    assert torch.equal(max_pool_same(x, kernel, stride), torch.nn.functional.max_pool3d(padded, kernel, stride))


def test_input_checks():
    net = I3D()
    with pytest.raises(ValueError, match="224"):
        net(torch.zeros(1, 3, 16, 112, 112))
    with pytest.raises(ValueError, match="at least 9 frames"):
        net(torch.zeros(1, 3, MIN_FRAMES - 1, 224, 224))


def test_every_checkpoint_array_is_used_exactly_once(flat_checkpoint):
    state = convert_flax_checkpoint(flat_checkpoint)
    assert len(flat_checkpoint) == 230  # 58 convolutions, 57 batch norms (bias, mean, var)
    assert set(state) == set(I3D().state_dict()) and len(state) == len(flat_checkpoint)
    # Kernel layout: Flax [kT, kH, kW, Cin, Cout] -> PyTorch [Cout, Cin, kT, kH, kW].
    kernel = flat_checkpoint["params/Mixed_4b/Branch_1/Conv3d_0b_3x3/Conv_0/kernel"]
    weight = state["Mixed_4b.Branch_1.Conv3d_0b_3x3.conv.weight"]
    assert weight[17, 5, 2, 0, 1].item() == kernel[2, 0, 1, 5, 17]
    assert torch.equal(state["Logits.Conv3d_0c_1x1.conv.bias"],
                       torch.from_numpy(flat_checkpoint["params/Logits/Conv3d_0c_1x1/Conv_0/bias"]))
    mean = flat_checkpoint["batch_stats/Conv3d_1a_7x7/BatchNorm_0/mean"]
    assert torch.equal(state["Conv3d_1a_7x7.bn.running_mean"], torch.from_numpy(mean.reshape(-1)))


def test_a_checkpoint_that_does_not_fit_is_refused(flat_checkpoint):
    extra = dict(flat_checkpoint, **{"params/Mixed_6a/Branch_0/Conv3d_0a_1x1/Conv_0/kernel": np.zeros((1, 1, 1, 2, 2))})
    with pytest.raises(ValueError, match="unused arrays"):
        convert_flax_checkpoint(extra)
    missing = {k: v for k, v in flat_checkpoint.items() if "Mixed_5c/Branch_2" not in k}
    with pytest.raises(ValueError, match="unfilled"):
        convert_flax_checkpoint(missing)
    wrong = dict(flat_checkpoint)
    wrong["params/Conv3d_2b_1x1/BatchNorm_0/bias"] = np.zeros(65, np.float32)
    with pytest.raises(ValueError, match="shape"):
        convert_flax_checkpoint(wrong)


class _RunsCode:
    def __reduce__(self):
        return (print, ("this pickle runs code",))


def test_the_unpickler_accepts_numpy_arrays_only(tmp_path):
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(pickle.dumps({"params": _RunsCode()}))
    with pytest.raises(UserError, match="not an I3D checkpoint"):
        read_flax_checkpoint(bad)
    with pytest.raises(UserError, match="does not exist"):
        read_flax_checkpoint(tmp_path / "missing.ckpt")
    good = tmp_path / "good.ckpt"
    good.write_bytes(pickle.dumps({"params": {"a": np.arange(3, dtype=np.float32)}}))
    assert read_flax_checkpoint(good)["params/a"].tolist() == [0.0, 1.0, 2.0]


def _bouncing_ball_over_stripes(frames: int) -> np.ndarray:
    clip = []
    for t in range(frames):
        image = np.full((224, 224, 3), (40, 60, 90), np.uint8)
        for k in range(0, 224, 28):
            x = (k + 4 * t) % 224
            cv2.rectangle(image, (x, 0), (x + 10, 224), (200, 200, 50), -1)
        cv2.circle(image, (60 + 6 * t, int(112 + 80 * np.sin(t / 3))), 25, (250, 80, 80), -1)
        clip.append(image)
    return np.stack(clip)


@pytest.mark.slow
def test_confident_non_uniform_predictions_on_a_moving_pattern(model):
    clip = preprocess_clip(_bouncing_ball_over_stripes(16))[None]
    fused = copy.deepcopy(model).fuse_batch_norm()
    with torch.inference_mode():
        out = model(clip)
        again = model(clip)
        folded = fused(clip)
    assert out["logits"].shape == (1, 400) and out["pooled"].shape == (1, 1024)
    assert torch.allclose(out["probabilities"].sum(dim=1), torch.ones(1))
    assert torch.equal(out["logits"], again["logits"])  # deterministic
    assert torch.allclose(folded["logits"], out["logits"], atol=1e-3)  # batch norm folded: same function
    probabilities = out["probabilities"][0]
    entropy = -(probabilities * probabilities.log()).sum().item()
    # Random or mis-loaded weights give near-uniform outputs (entropy ~ log 400 = 6.0, max ~ 1/400).
    assert probabilities.max() > 0.1 and entropy < 4.0
    assert out["logits"].std() > 1.0


@pytest.mark.slow
def test_the_real_dance_is_recognised_as_dancing_stably(model):
    path = REAL / "dance.mp4"
    if not path.is_file():
        pytest.skip("real sample ../shared/real/dance.mp4 not present")
    from cpfnet.io.video import iter_frames

    clip = np.stack(list(iter_frames(path, count=30)))
    noisy = np.clip(clip + np.random.default_rng(0).normal(0, 3, clip.shape), 0, 255).astype(np.uint8)
    mirrored = np.ascontiguousarray(clip[:, :, ::-1])
    batch = torch.stack([preprocess_clip(c) for c in (clip, noisy, mirrored)])
    with torch.inference_mode():
        out = model(batch)
    logits, probabilities = out["logits"], out["probabilities"]
    top = [KINETICS_400_LABELS[i] for i in probabilities[0].topk(3).indices]
    assert top[0] in DANCE_CLASSES and probabilities[0].max() > 0.4, top
    # Light noise barely moves the logits and keeps the class.
    assert (logits[1] - logits[0]).norm() < 0.1 * logits[0].norm()
    assert logits[1].argmax() == logits[0].argmax()
    # A mirrored dance is still the same kind of dance.
    assert KINETICS_400_LABELS[int(logits[2].argmax())] in top
    assert np.corrcoef(logits[2].numpy(), logits[0].numpy())[0, 1] > 0.85
