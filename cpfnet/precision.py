"""The `--precision` option: the number format the networks compute in at inference.

    fp32  float32 everywhere (the default: outputs do not depend on the machine's instructions)
    bf16  bfloat16 autocast: convolutions and matmuls in bf16 (oneDNN uses AVX-512 BF16 / AMX on CPUs that
          have them; a CUDA GPU with bf16), norms, softmax and sampling stay float32
    fp16  float16 autocast, on a CUDA GPU only
    auto  bf16 or fp16 on a CUDA GPU; on a CPU fp32 (bf16's cost in PSNR against fp32 is measured by
          benchmarks/speed_side_by_side.py: pass bf16 where it is worth it)

`autocast(precision, device)` is the context the pipeline runs its networks in; its outputs are cast back to
float32 by the caller.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import torch

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
            return "fp32"
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if name == "fp16" and not cuda:
        raise UserError("--precision fp16 runs on a CUDA GPU only; on a CPU use bf16 or fp32")
    if name == "bf16" and not cuda and not cpu_has_bf16():
        raise UserError("--precision bf16: this CPU has no bf16 instructions (avx512_bf16 or amx_bf16), where it "
                        "would be slower than fp32; use fp32")
    if name == "bf16" and cuda and not torch.cuda.is_bf16_supported():
        raise UserError("--precision bf16: this GPU has no bf16; use fp16 or fp32")
    return name


def autocast(precision: str, device: torch.device | str):
    """The context to run networks in: a no-op for fp32, torch.autocast for bf16 / fp16."""
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=_DTYPES[precision])
