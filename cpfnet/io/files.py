"""Writing bytes and text so that a failure names the file: Python's own errors from a write or a close
carry the errno but not always the path, and library writers (safetensors, torch.save) lose the errno too.
Serialise in memory, then write through these, and a full disk is an OSError(ENOSPC, ..., path)."""

from __future__ import annotations

import os


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path`; an OSError carries its errno and `path`."""
    try:
        with open(path, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write `text` (UTF-8) to `path`; an OSError carries its errno and `path`."""
    write_bytes(path, text.encode("utf-8"))


def write_npy(path: str | os.PathLike, array) -> None:
    """`np.save` to `path`, with the path on an OSError."""
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.save(buffer, array)
    write_bytes(path, buffer.getvalue())
