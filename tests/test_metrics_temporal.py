"""Warping error: small on smooth motion, grows with flicker, follows the reference's flow, masks occlusions."""

import cv2
import numpy as np
import pytest

from cpfnet.evaluation.temporal import consistent_mask, farneback_flow, warping_error


def _moving_texture(frames=6, step=2, seed=0):
    """A smooth random texture sliding right by `step` pixels a frame: RGB uint8 [64, 80, 3] frames."""
    rng = np.random.default_rng(seed)
    texture = cv2.GaussianBlur((rng.random((64, 120, 3)) * 255).astype(np.uint8), (7, 7), 2)
    return [np.ascontiguousarray(np.roll(texture, step * t, axis=1)[:, 20:100]) for t in range(frames)]


def test_flow_recovers_a_translation():
    frames = _moving_texture()
    flow = farneback_flow(frames[1], frames[0])  # frame 1 (p) ~ frame 0 (p + flow)
    inner = flow[8:-8, 8:-8]
    assert np.allclose(inner[..., 0].mean(), -2.0, atol=0.1) and abs(inner[..., 1].mean()) < 0.1


def test_a_video_that_moves_consistently_has_almost_no_warping_error():
    result = warping_error(_moving_texture())
    assert result["warping_error"] < 1e-4
    assert result["pairs"].shape == (5,) and result["consistent_fraction"] > 0.9


def test_flicker_raises_the_error_in_step_with_its_strength():
    reference = _moving_texture()
    rng = np.random.default_rng(1)
    errors = []
    for sigma in (2, 6, 12, 24):
        noisy = [np.clip(f + rng.normal(0, sigma, f.shape), 0, 255).astype(np.uint8) for f in reference]
        errors.append(warping_error(noisy, reference)["warping_error"])
    assert errors == sorted(errors) and errors[0] < errors[-1] / 20
    # Independent noise in two frames: about 2 sigma^2 (colours on [0, 1]).
    assert errors[2] == pytest.approx(2 * (12 / 255) ** 2, rel=0.25)


def test_the_flow_comes_from_the_reference():
    moving = _moving_texture()
    frozen = [moving[0]] * len(moving)
    assert warping_error(frozen, moving)["warping_error"] > 50 * warping_error(moving, moving)["warping_error"]
    assert warping_error(frozen)["warping_error"] < 1e-7  # a still video is stable on its own (near-zero) flow


def test_forward_backward_check():
    backward = np.zeros((10, 12, 2), np.float32)
    backward[..., 0] = 2.0
    agreeing = -backward
    mask = consistent_mask(backward, agreeing)
    # Every pixel is confirmed except the last two columns, whose match leaves the frame.
    assert mask[:, :10].all() and not mask[:, 10:].any()
    assert not consistent_mask(backward, backward).any()  # forward flow points the other way: occluded


def test_float_frames_and_errors():
    frames = [f.astype(np.float32) / 255 for f in _moving_texture(frames=3)]
    assert warping_error(frames)["warping_error"] < 1e-4
    with pytest.raises(ValueError, match="at least 2 frames"):
        warping_error(frames[:1])
    with pytest.raises(ValueError, match="shorter"):
        warping_error(frames, frames[:2])
    with pytest.raises(ValueError, match="longer"):
        warping_error(frames[:2], frames)
    with pytest.raises(ValueError, match="one size"):
        warping_error(frames, [f[:32] for f in frames])
