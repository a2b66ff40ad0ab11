"""The one place images are read from and written to files: reads refuse truncated files, writes are checked.

OpenCV decodes a truncated JPEG or PNG without complaint (the missing rows come out grey), so before decoding
`read_image` walks the file's structure: a PNG must reach its IEND chunk, a JPEG its end-of-image marker
after the last scan (segments are skipped by their length, so an EXIF thumbnail's own marker does not
count). Other formats (BMP, WebP, TIFF) are checked by decoding them with Pillow, which reports truncation.

`write_image` encodes in memory and writes the bytes with Python (`cpfnet.io.files`), so a full disk, a
read-only file system or a path under a regular file raises OSError with its errno and the path (cv2.imwrite
only returns False).
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from cpfnet.errors import UserError
from cpfnet.io.files import write_bytes

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SOI = b"\xff\xd8"
# Markers that stand alone (no length field): TEM, RST0-7, SOI, EOI.
_STANDALONE = {0x01, *range(0xD0, 0xD8), 0xD8, 0xD9}


def _png_complete(data: bytes) -> bool:
    """Whether the chunks after the signature chain, each whole, to an IEND chunk."""
    pos = len(PNG_SIGNATURE)
    while pos + 12 <= len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        end = pos + 12 + length  # length, type, data, CRC
        if end > len(data):
            return False
        if kind == b"IEND":
            return True
        pos = end
    return False


def _jpeg_complete(data: bytes) -> bool:
    """Whether the marker segments and entropy-coded scans run, whole, to an EOI marker."""
    pos = 2
    n = len(data)
    while pos + 2 <= n:
        if data[pos] != 0xFF:
            return False
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:
            return True
        if marker in _STANDALONE:
            pos += 2
            continue
        if pos + 4 > n:
            return False
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        pos += 2 + length
        if pos > n:
            return False
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next marker that is not RSTn or 0xFF00
            while True:
                pos = data.find(b"\xff", pos)
                if pos < 0 or pos + 1 >= n:
                    return False
                follower = data[pos + 1]
                if follower == 0x00 or 0xD0 <= follower <= 0xD7 or follower == 0xFF:
                    pos += 2 if follower != 0xFF else 1
                    continue
                break
    return False


def _pillow_complete(path: Path) -> bool:
    """Whether Pillow decodes the whole file; a UserError when it does not know the format at all."""
    from PIL import Image, ImageFile, UnidentifiedImageError

    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with Image.open(path) as image:
            image.load()
        return True
    except UnidentifiedImageError:
        raise UserError(f"{path}: not a readable image (corrupt or an unsupported format)") from None
    except (OSError, SyntaxError, ValueError):
        return False
    except Exception:  # noqa: BLE001 - Pillow raises assorted types on odd files; OpenCV decides then
        return True


def check_complete(path: str | os.PathLike) -> None:
    """A UserError naming `path` unless its image file is whole (see the module docstring)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise UserError(f"{path}: is a folder, not an image") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not data:
        raise UserError(f"{path}: empty file (0 bytes), not an image")
    if data.startswith(PNG_SIGNATURE):
        whole = _png_complete(data)
    elif data.startswith(JPEG_SOI):
        whole = _jpeg_complete(data)
    else:
        whole = _pillow_complete(path)
    if not whole:
        raise UserError(f"{path}: truncated or corrupt image ({len(data)} bytes, the image data stops before "
                        "its end); copy or download it again")


def read_image(path: str | os.PathLike, flags: int = cv2.IMREAD_COLOR) -> np.ndarray:
    """An image file as OpenCV decodes it with `flags` (BGR order for colour), after `check_complete`.
    A missing, truncated or undecodable file is a UserError naming it."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file")
    check_complete(path)
    image = cv2.imread(str(path), flags)
    if image is None:
        raise UserError(f"{path}: not a readable image (corrupt or an unsupported format)")
    return image


def write_image(path: str | os.PathLike, image: np.ndarray, params: list[int] | None = None) -> None:
    """Encode `image` (BGR, or one channel) in the format of `path`'s suffix and write it. A failed encode is a
    ValueError; a failed write an OSError carrying the errno and `path` (see cpfnet.cli for how it is shown)."""
    path = Path(path)
    try:
        ok, encoded = cv2.imencode(path.suffix or ".png", image, params or [])
    except cv2.error:
        ok = False
    if not ok:
        raise ValueError(f"{path}: OpenCV could not encode a {image.dtype} {image.shape} image as {path.suffix}")
    write_bytes(path, encoded.tobytes())
