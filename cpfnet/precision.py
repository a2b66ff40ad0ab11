"""The `--precision` option: the number format the networks compute in at inference.

    fp32  float32 everywhere (the default: outputs do not depend on the machine's instructions)
    bf16  bfloat16: on a CPU the networks run a bf16 copy of their weights (oneDNN's AVX-512 BF16 / AMX kernels),
          their inputs cast to bf16 on entry, coordinates, sampling (grid_sample) and outputs float32
          (`cpfnet.nn.dtype`); on a CUDA GPU with bf16, autocast
    fp16  float16 autocast, on a CUDA GPU only
    auto  bf16 or fp16 on a CUDA GPU; bf16 on a CPU with bf16 instructions, fp32 on one without (the shipped
          weights' frames in bf16 are 44-54 dB from fp32's, 1.3-1.5x faster end to end on an AMX CPU:
          benchmarks/speed_side_by_side.py)

`for_precision(network, precision, device)` is the network to run, `autocast(precision, device)` the context to
run it in; outputs are float32. Why not autocast on a CPU too: it casts every convolution's input and weights
afresh, and sends grid_sample and the concatenations of bf16 with float32 tensors back to float32; for the
paper's foreground generator at 448 px that was 1.2-1.3x faster than fp32, bf16 weights 1.9x, both about 52 dB
from fp32's output (docs/performance.md).
"""

from __future__ import annotations

import contextlib
import copy
from pathlib import Path

import torch
from torch import nn

from cpfnet.errors import UserError

PRECISIONS = ("fp32", "bf16", "fp16", "auto")
_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def cpu_has_bf16() -> bool:
    """Whether this CPU has bf16 instructions (cpuinfo flags avx512_bf16 or amx_bf16)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux: ask oneDNN
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_precision(name: str, device: torch.device | str) -> str:
    """'fp32', 'bf16', 'fp16' or 'auto' on `device` -> the precision to run ('fp32', 'bf16' or 'fp16');
    UserError for an unknown name or a format the device cannot compute in."""
    device = torch.device(device)
    if name not in PRECISIONS:
        raise UserError(f"--precision {name!r}: use one of {', '.join(PRECISIONS)}")
    cuda = device.type == "cuda"
    if name == "auto":
        if not cuda:
            return "bf16" if cpu_has_bf16() else "fp32"
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if name == "fp16" and not cuda:
        raise UserError("--precision fp16 runs on a CUDA GPU only; on a CPU use bf16 or fp32")
    if name == "bf16" and not cuda and not cpu_has_bf16():
        raise UserError("--precision bf16: this CPU has no bf16 instructions (avx512_bf16 or amx_bf16), where it "
                        "would be slower than fp32; use fp32")
    if name == "bf16" and cuda and not torch.cuda.is_bf16_supported():
        raise UserError("--precision bf16: this GPU has no bf16; use fp16 or fp32")
    return name


def bf16_weights(precision: str, device: torch.device | str) -> bool:
    """Whether networks at `precision` on `device` run bf16 copies of their weights (bf16 on a CPU)."""
    return precision == "bf16" and torch.device(device).type == "cpu"


def for_precision(network: nn.Module | None, precision: str, device: torch.device | str) -> nn.Module | None:
    """The network to run at `precision`: a bf16 copy for bf16 on a CPU, `network` itself otherwise."""
    if network is None or not bf16_weights(precision, device):
        return network
    return copy.deepcopy(network).to(torch.bfloat16)


def autocast(precision: str, device: torch.device | str):
    """The context to run networks in: a no-op for fp32 and for bf16 on a CPU (bf16 weights instead),
    torch.autocast for bf16 / fp16 on a GPU."""
    if precision == "fp32" or bf16_weights(precision, device):
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=_DTYPES[precision])
