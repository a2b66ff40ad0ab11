"""`--compile`: the inference networks through `torch.compile` (TorchInductor), eager where it cannot run.

Inductor generates C++/OpenMP kernels on a CPU (it needs a C++ compiler) and Triton kernels on a GPU; where
that fails (no compiler, a platform without Dynamo, an operation it cannot handle) the network runs as it
is, after one warning. The first call of each network at each input shape pays the compilation (tens of
seconds to minutes on a CPU), so it pays only for long videos (README "Performance").
"""

from __future__ import annotations

import logging

import torch
from torch import nn

log = logging.getLogger(__name__)


class Compiled(nn.Module):
    """`module` whose forward runs its `torch.compile`d graph, or, once compiling or running that graph has
    failed, the module itself. Every other attribute (methods such as `encode_appearance`, config flags) is
    the module's own, so callers use it as they would the module."""

    def __init__(self, module: nn.Module, **options):
        super().__init__()
        self.module = module
        # Not a registered submodule: it holds the same parameters as `module`.
        object.__setattr__(self, "_graph", torch.compile(module, **options))
        self.failed: str | None = None  # why the compiled graph is not used

    def forward(self, *args, **kwargs):
        if self.failed is None:
            try:
                return self._graph(*args, **kwargs)
            except Exception as error:  # noqa: BLE001 - any failure of the compiler means: run eagerly
                lines = str(error).strip().splitlines()
                self.failed = f"{type(error).__name__}: {lines[0] if lines else ''}"
                log.warning("torch.compile could not run %s (%s); it runs uncompiled", type(self.module).__name__,
                            self.failed)
        # A genuine error of the inputs is raised here again, by the module itself.
        return self.module(*args, **kwargs)

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)  # nn.Module's own: "module", parameters, buffers
        except AttributeError:
            return getattr(self.module, name)


def compiled(module: nn.Module | None) -> nn.Module | None:
    """`Compiled(module)` (None stays None)."""
    return None if module is None else Compiled(module)
