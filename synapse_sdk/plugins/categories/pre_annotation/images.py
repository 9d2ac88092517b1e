"""Reading one data unit's image for ``pre_annotation``: corrupt files, pixel digests, dHash, fixes.

:func:`load_image` checks the bytes twice, as Pillow recommends (``verify()`` on one open, a full
``load()`` on a second: a truncated JPEG passes the first and fails the second); a file that
fails is an :class:`Unreadable` with Pillow's reason. :func:`pixel_digest` names identical pixels
whatever the encoding (a PNG saved again with other chunks), :func:`dhash` is the 64-bit
difference hash near duplicates are compared by (resized or recompressed copies differ in a few
bits), and :func:`fixed` applies the EXIF orientation and an optional size limit.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from PIL import Image

#: The EXIF tag holding the camera's orientation (1: as stored; 2 to 8: flipped and/or rotated).
ORIENTATION: Final = 0x0112


class Unreadable(Exception):  # noqa: N818 - names what the file is, like an outcome
    """The file is not an image Pillow can decode (corrupt, truncated, or another kind of file)."""


def load_image(data: bytes) -> Image.Image:
    """The decoded image of ``data``; :class:`Unreadable` with the decoder's reason otherwise."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
    except UnidentifiedImageError:
        raise Unreadable("not an image Pillow can decode (unknown or broken header)") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise Unreadable(str(exc) or type(exc).__name__) from None
    return image


def orientation(image: Image.Image) -> int:
    """The image's EXIF orientation (1 when it has none)."""
    value = image.getexif().get(ORIENTATION, 1)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def pixel_digest(image: Image.Image) -> str:
    """The sha256 of the image's mode, size and pixels: equal for the same picture however it is encoded."""
    digest = hashlib.sha256(f"{image.mode}:{image.width}x{image.height}:".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()


def dhash(image: Image.Image, size: int = 8) -> int:
    """The difference hash: ``size * size`` bits, one per pair of neighbouring pixels of a small grey
    copy (1 where the left one is brighter). Resizing or recompressing flips only a few bits."""
    from PIL import Image

    small = image.convert("L").resize((size + 1, size), Image.Resampling.LANCZOS)
    pixels = small.tobytes()
    bits = 0
    for row in range(size):
        line = pixels[row * (size + 1) : (row + 1) * (size + 1)]
        for col in range(size):
            bits = (bits << 1) | (line[col] > line[col + 1])
    return bits


@dataclass(frozen=True)
class Fix:
    """What :func:`fixed` changed: the EXIF orientation it applied and the size before a resize."""

    orientation: int | None = None
    resized_from: tuple[int, int] | None = None

    def __bool__(self) -> bool:
        return self.orientation is not None or self.resized_from is not None


def fixed(image: Image.Image, *, fix_orientation: bool, max_side: int | None) -> tuple[Image.Image, Fix]:
    """``image`` turned upright (its EXIF orientation applied) and shrunk to ``max_side``; what changed."""
    from PIL import ImageOps

    turned = None
    if fix_orientation and (value := orientation(image)) != 1:
        image = ImageOps.exif_transpose(image)
        turned = value
    resized = None
    if max_side is not None and max(image.size) > max_side:
        resized = image.size
        image = image.copy()
        image.thumbnail((max_side, max_side))
    return image, Fix(turned, resized)


def encoded(image: Image.Image, format: str | None) -> tuple[bytes, str]:  # noqa: A002 - Pillow's word
    """The bytes of ``image`` saved as ``format`` (JPEG stays JPEG, anything else becomes PNG), and
    the file suffix. The EXIF orientation is not written: the pixels are upright now."""
    out = io.BytesIO()
    if format == "JPEG":
        image.convert("RGB").save(out, format="JPEG", quality=95)
        return out.getvalue(), ".jpg"
    image.save(out, format="PNG")
    return out.getvalue(), ".png"
