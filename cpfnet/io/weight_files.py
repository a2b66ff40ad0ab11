"""The one loader of weight files: checkpoints (`.safetensors`), training states (`.pt`), a user's VGG19
state dict (`.pth`/`.pt`/`.safetensors`), the I3D pickle (`.ckpt`) and the HED VGG16 Keras file (`.h5`).

Whatever is wrong with the file (empty, truncated, random bytes, another format, a refused pickle global) is
a one-line UserError that names the file and says what to do (`remedy`), never a library's traceback.
Whether the tensors fit a network is the caller's check (`cpfnet.stages.weights.load_weights`).
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from cpfnet.errors import UserError

# The only globals a pickle of numpy arrays needs (the I3D checkpoint); anything else is refused.
_NUMPY_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class NumpyOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in _NUMPY_GLOBALS:
            raise pickle.UnpicklingError(f"refusing {module}.{name}: the file should hold only numpy arrays")
        return super().find_class(module, name)


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0][:120]}" if lines else type(error).__name__


def _h5_arrays(path: Path) -> dict[str, np.ndarray]:
    import h5py

    out: dict[str, np.ndarray] = {}
    with h5py.File(path, "r") as f:
        def visit(name: str, node) -> None:
            if isinstance(node, h5py.Dataset):
                out[name] = node[()]
        f.visititems(visit)
    return out


def _flat_numpy_tree(node: Any, prefix: str, out: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    if isinstance(node, dict):
        for key, value in node.items():
            _flat_numpy_tree(value, f"{prefix}/{key}" if prefix else str(key), out)
    elif isinstance(node, np.ndarray):
        out[prefix] = node
    else:
        raise ValueError(f"unexpected {type(node).__name__} at {prefix!r}; expected numpy arrays")
    return out


def _read(path: Path, device: str, kind: str | None) -> Any:
    suffix = kind or path.suffix.lower()
    if suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path), device=device)
    if suffix in (".pt", ".pth", ".bin"):
        import torch

        return torch.load(path, map_location=device, weights_only=True)
    if suffix == ".ckpt":
        with path.open("rb") as handle:
            return _flat_numpy_tree(NumpyOnlyUnpickler(handle).load(), "", {})
    if suffix == ".h5":
        return _h5_arrays(path)
    raise ValueError(f"unknown weight file type {suffix!r} (expected .safetensors, .pt, .pth, .ckpt or .h5)")


def load_weight_file(path: str | os.PathLike, remedy: str, device: str = "cpu", kind: str | None = None) -> Any:
    """The contents of weight file `path`, by its suffix: `.safetensors` -> {name: tensor} on `device`;
    `.pt`/`.pth`/`.bin` -> what torch.load(weights_only=True) gives; `.ckpt` -> {'/'-joined key: array} of a
    pickle of nested dicts of numpy arrays; `.h5` -> {'/'-joined dataset name: array}. `kind` (one of those
    suffixes) overrides the file's own.

    A missing, empty or unreadable file is a UserError "PATH: what is wrong; `remedy`"."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path} is missing; {remedy}")
    size = path.stat().st_size
    if size == 0:
        raise UserError(f"{path} is empty (0 bytes), not a weight file; {remedy}")
    try:
        return _read(path, device, kind)
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception as exc:  # noqa: BLE001 - every library's way of failing on a damaged file is this one error
        raise UserError(f"{path} is damaged or not a weight file ({size} bytes; {_first_line(exc)}); "
                        f"{remedy}") from None
