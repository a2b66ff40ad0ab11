"""`--precision` (issue 11): the names, the errors, and bf16 output against fp32 on a tiny pipeline."""

import copy
import math

import numpy as np
import pytest
import torch

from cpfnet.cli import main
from cpfnet.errors import UserError
from cpfnet.denormals import flushed
from cpfnet.nn.dtype import weights_dtype
from cpfnet.overlap import ahead
from cpfnet.ops.warp import identity_flow, warp
from cpfnet.precision import autocast, cpu_has_bf16, resolve_precision
from cpfnet.transfer.pipeline import TransferPipeline
from test_transfer import _random_case, _random_stages


def test_precision_names_resolve_on_the_cpu():
    assert resolve_precision("fp32", "cpu") == "fp32"
    assert resolve_precision("auto", "cpu") == ("bf16" if cpu_has_bf16() else "fp32")
    with pytest.raises(UserError, match="fp16 runs on a CUDA GPU only"):
        resolve_precision("fp16", "cpu")
    with pytest.raises(UserError, match="use one of fp32, bf16, fp16, auto"):
        resolve_precision("fp8", "cpu")
    if cpu_has_bf16():
        assert resolve_precision("bf16", "cpu") == "bf16"
    else:
        with pytest.raises(UserError, match="no bf16 instructions"):
            resolve_precision("bf16", "cpu")


def test_an_unknown_precision_is_a_one_line_error(tmp_path, capsys):
    code = main(["transfer", "--source", str(tmp_path / "x.mp4"), "--target", str(tmp_path / "p.jpg"),
                 "--out", str(tmp_path / "o.mp4"), "--precision", "half"])
    err = capsys.readouterr().err
    assert code == 2 and err.strip() == "cpfnet transfer: error: --precision 'half': use one of fp32, bf16, fp16, auto"
    assert list(tmp_path.iterdir()) == []


def test_cpfnet_transfer_runs_auto_by_default_and_the_library_fp32():
    """The command takes bf16 where the CPU has it (its cost is not visible: README "Performance"); the
    library stays fp32, so that evaluations do not depend on the machine."""
    from cpfnet.cli import build_parser
    from cpfnet.commands.transfer import _cpfnet

    args = build_parser().parse_args(["transfer", "--source", "s.mp4", "--target", "t.jpg", "--out", "o.mp4"])
    assert _cpfnet(args, torch.device("cpu")).precision == resolve_precision("auto", "cpu")
    args.precision = "fp32"
    assert _cpfnet(args, torch.device("cpu")).precision == "fp32"
    assert TransferPipeline.from_checkpoints().precision == "fp32"


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255 ** 2 / mse)


@pytest.mark.skipif(not cpu_has_bf16(), reason="this CPU has no bf16 instructions")
def test_bf16_frames_are_close_to_fp32_but_not_the_same():
    torch.set_num_threads(1)
    stages = _random_stages()
    target, poses, _ = _random_case()
    frames = {p: list(TransferPipeline(stages, batch_size=2, precision=p, pixel_path=False).frames(poses, target))
              for p in ("fp32", "bf16")}
    for a, b in zip(frames["fp32"], frames["bf16"]):
        assert a.dtype == b.dtype == np.uint8 and a.shape == b.shape
        assert _psnr(a, b) > 30
    assert any(np.any(a != b) for a, b in zip(frames["fp32"], frames["bf16"]))  # bf16 did run
    # On a CPU bf16 runs bf16 copies of the weights (no autocast); the stages given stay float32.
    pipeline = TransferPipeline(stages, precision="bf16")
    for name in ("parsing", "flow", "foreground", "fusion"):
        assert weights_dtype(getattr(pipeline.stages, name)) == torch.bfloat16
        assert weights_dtype(getattr(stages, name)) == torch.float32
    with autocast("bf16", "cpu"):
        assert torch.nn.Conv2d(1, 1, 1)(torch.ones(1, 1, 2, 2)).dtype == torch.float32


def test_a_bf16_flow_network_keeps_its_coordinates_in_float32():
    """Coordinates near 256 px are only known to 1 px in bf16: the flow network adds its (bf16) correction to a
    float32 base. With the correction zeroed the flow is the identity exactly, in float32."""
    flow_net = copy.deepcopy(_random_stages().flow).to(torch.bfloat16)
    torch.nn.init.zeros_(flow_net.flow_head.weight)
    torch.nn.init.zeros_(flow_net.flow_head.bias)
    maps = torch.rand(1, 35, 256, 256)
    with torch.inference_mode():
        out = flow_net(maps, maps)
    assert out["flow"].dtype == out["visibility"].dtype == torch.float32
    torch.testing.assert_close(out["flow"], identity_flow(1, 256, 256), rtol=0, atol=0)
    sampled = warp(torch.rand(1, 4, 64, 64).to(torch.bfloat16), identity_flow(1, 64, 64) + 0.25)
    assert sampled.dtype == torch.bfloat16


def test_the_networks_flush_subnormals_and_the_caller_is_left_as_it_was():
    """Subnormal floats made the networks 2-3x slower on an Intel CPU (cpfnet.denormals): stages 1-2b run
    flushing them to zero in their worker thread; the caller's thread is left as it was."""
    if not torch.set_flush_denormal(False):
        pytest.skip("this CPU cannot flush subnormals")
    tiny = torch.tensor([1e-39])
    with flushed():
        assert float(tiny * 1.0) == 0.0
        assert list(ahead(float(tiny * 1.0) for _ in range(2))) == [0.0, 0.0]  # threads started inside
    assert float(tiny * 1.0) != 0.0
    pipeline = TransferPipeline(_random_stages(), batch_size=2)
    seen = []
    original = pipeline.stages.parsing.forward
    pipeline.stages.parsing.forward = lambda *a, **k: (seen.append(float(tiny * 1.0)), original(*a, **k))[1]
    target, poses, _ = _random_case()
    list(pipeline.frames(poses, target))
    assert seen and set(seen) == {0.0} and float(tiny * 1.0) != 0.0
