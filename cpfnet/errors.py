"""The one exception type that reaches the user as a one-line message (no traceback), and the file-system
faults that are shown the same way."""

from __future__ import annotations

import errno
import os


class UserError(Exception):
    """Bad input or an impossible request: the message says what is wrong and what to do."""


# Faults of where the output goes, not bugs: the CLI shows them as one line naming the path (cpfnet.cli).
DISK_ERRORS = {
    errno.ENOSPC: "no space left on the device; free some space or write somewhere else",
    errno.EDQUOT: "disk quota exceeded; free some space or write somewhere else",
    errno.EROFS: "read-only file system; write somewhere else",
    errno.ENOTDIR: "a part of the path is a file, not a folder; choose another path",
    errno.ENAMETOOLONG: "file name too long for the file system; choose a shorter name",
    errno.EACCES: "permission denied; write somewhere you may, or change the permissions",
    errno.EPERM: "operation not permitted; write somewhere else",
    errno.EISDIR: "is a folder, where a file was to be written; choose another path",
    errno.EIO: "input/output error from the device; check the disk",
}


def _file_in_the_way(exc: OSError) -> bool:
    """mkdir(parents=True, exist_ok=True) of a folder whose path is a regular file: EEXIST, not ENOTDIR."""
    return exc.errno == errno.EEXIST and exc.filename is not None and os.path.exists(exc.filename) \
        and not os.path.isdir(exc.filename)


def is_disk_error(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and (exc.errno in DISK_ERRORS or _file_in_the_way(exc))


def disk_error_message(exc: OSError, fallback: str | None = None) -> str:
    """'PATH: what happened; what to do' for an OSError of DISK_ERRORS; `fallback` names the output when the
    error carries no path (some writes report only the errno)."""
    where = exc.filename if exc.filename is not None else fallback
    if _file_in_the_way(exc):
        return f"{where}: is a file, where a folder is needed; choose another path"
    what = DISK_ERRORS[exc.errno]
    return f"{where}: {what}" if where else f"writing the output: {what}"
