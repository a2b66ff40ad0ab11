"""cpfnet.compiled (`--compile`): torch.compile where it runs, the network itself where it does not."""

import logging

import numpy as np
import pytest
import torch

from cpfnet.compiled import Compiled
from cpfnet.stages.fusion.network import FusionNet
from cpfnet.transfer.pipeline import TransferPipeline
from test_chain import tiny_stages
from test_transfer import _random_case, _random_stages


def _fusion_inputs(n: int = 2, size: int = 32):
    g = torch.Generator().manual_seed(3)
    return [torch.rand(n, 3, size, size, generator=g) * 2 - 1 for _ in range(3)]


@pytest.mark.slow
def test_a_compiled_network_gives_its_own_outputs():
    """A real TorchInductor compile (C++ kernels on this CPU); skipped where torch has no compiler to use."""
    net = FusionNet(ngf=8, n_downsample=2, n_blocks=1).eval().requires_grad_(False)
    wrapped = Compiled(net)
    inputs = _fusion_inputs()
    with torch.inference_mode():
        got, want = wrapped(*inputs)["mask"], net(*inputs)["mask"]
    if wrapped.failed is not None:
        pytest.skip(f"torch.compile cannot run here: {wrapped.failed}")
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4)


@pytest.fixture
def broken_compiler(monkeypatch):
    """torch.compile as on a machine without a C++ compiler: the compiled graph fails on its first call."""
    calls = []

    def compile_(module, **options):
        def graph(*args, **kwargs):
            calls.append(1)
            raise RuntimeError("InvalidCxxCompiler: No working C++ compiler found\n(a long traceback)")
        return graph

    monkeypatch.setattr(torch, "compile", compile_)
    return calls


def test_without_a_working_compiler_the_network_runs_as_it_is_after_one_warning(broken_compiler, caplog):
    net = FusionNet(ngf=8, n_downsample=2, n_blocks=1).eval().requires_grad_(False)
    wrapped = Compiled(net)
    inputs = _fusion_inputs()
    with caplog.at_level(logging.WARNING, logger="cpfnet.compiled"), torch.inference_mode():
        first, second = wrapped(*inputs)["mask"], wrapped(*inputs)["mask"]
        want = net(*inputs)["mask"]
    torch.testing.assert_close(first, want, atol=0, rtol=0)
    torch.testing.assert_close(second, want, atol=0, rtol=0)
    assert len(broken_compiler) == 1  # not tried again
    assert wrapped.failed == "RuntimeError: InvalidCxxCompiler: No working C++ compiler found"
    assert len(caplog.records) == 1 and "runs uncompiled" in caplog.records[0].getMessage()


def test_a_wrong_input_is_still_the_networks_own_error(broken_compiler):
    wrapped = Compiled(FusionNet(ngf=8, n_downsample=2, n_blocks=1).eval())
    background, foreground, _ = _fusion_inputs()
    with pytest.raises(ValueError, match="three RGB"):
        wrapped(background, foreground, foreground[:, :1])


def test_the_wrapper_is_used_as_the_network():
    _, _, foreground = tiny_stages()
    wrapped = Compiled(foreground)
    assert wrapped.use_flow == foreground.use_flow
    assert wrapped.encode_appearance.__self__ is foreground  # methods besides forward are the network's
    assert {id(p) for p in wrapped.parameters()} == {id(p) for p in foreground.parameters()}


def test_a_pipeline_with_compile_on_makes_the_same_frames(broken_compiler):
    stages = _random_stages()
    target, poses, _ = _random_case(4)
    plain = [out["frame"] for out in TransferPipeline(stages).outputs(poses, target)]
    pipeline = TransferPipeline(stages, compile_networks=True)
    assert all(isinstance(getattr(pipeline.stages, name), Compiled)
               for name in ("parsing", "flow", "foreground", "fusion"))
    made = [out["frame"] for out in pipeline.outputs(poses, target)]
    assert all(np.array_equal(a, b) for a, b in zip(plain, made))
    assert pipeline.plain_stages is stages
