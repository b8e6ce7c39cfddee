"""Opening photos safely: only the Pillow plugin of the sniffed format, a complete HEIF/AVIF box structure, and
the pixel limit checked before any pixel is decoded."""

from __future__ import annotations

import io
import os
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

import pillow_heif
from PIL import Image

from evidence.sniff import SNIFF_BYTES, MediaType, sniff
from field.core.evidence_errors import CorruptMedia, EvidenceError, TooManyPixels, UnsupportedMedia


# Registered once, at import: HEIC/HEIF through libheif. AVIF is Pillow's own
# since 11.3 and pillow-heif 1.x no longer claims it. Thumbnails stay enabled:
# pillow-heif's draft() picks an embedded thumbnail when one is large enough.
pillow_heif.register_heif_opener(thumbnails=True)

#: Pillow plugin for each accepted photo MIME type. Image.open is limited to
#: that one plugin, so hostile bytes never reach the dozens of other parsers.
PILLOW_FORMATS: dict[str, str] = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/heic": "HEIF",
    "image/heic-sequence": "HEIF",
    "image/heif": "HEIF",
    "image/heif-sequence": "HEIF",
    "image/avif": "AVIF",
}


_POINTER_REPR = re.compile(r"\s*<[^<>]*>")


@contextmanager
def _open_photo(
    fp: BinaryIO | bytes | str | os.PathLike[str], *, max_pixels: int | None
) -> Iterator[tuple[Image.Image, MediaType]]:
    with _seekable(fp) as stream:
        head = stream.read(SNIFF_BYTES)
        stream.seek(0)
        media = sniff(head)
        if media is None or media.kind != "photo":
            raise UnsupportedMedia(
                "The file is not a JPEG, PNG, WebP, HEIC/HEIF or AVIF photo"
                + (f" (it looks like {media.mime})." if media else ".")
            )
        if PILLOW_FORMATS[media.mime] in ("HEIF", "AVIF"):
            _check_boxes_complete(stream, media)
        with _decoding(media, max_pixels):
            im = Image.open(stream, formats=[PILLOW_FORMATS[media.mime]])
        # ``with``, not im.close(): ImageFile.close() also closes the stream it was given,
        # which is the caller's (read_facts on a file a pipeline goes on reading); leaving
        # the block drops the decoder's state and leaves the stream to whoever owns it.
        with im:
            width, height = im.size
            if width < 1 or height < 1:
                raise CorruptMedia(f"The {media.mime} file declares an empty image.")
            if max_pixels is not None and width * height > max_pixels:
                raise TooManyPixels(max_pixels, width, height)
            yield im, media


def _check_boxes_complete(stream: BinaryIO, media: MediaType) -> None:
    """Refuse an ISO BMFF file (HEIF, AVIF) whose top-level boxes run past its end.

    libheif decodes a HEIC whose ``mdat`` was cut short without any error, filling
    the missing grid tiles with flat colour; a truncated upload would then pass for
    a photo. Every top-level box declares its length, so the cut is plain to see.
    """
    stream.seek(0, os.SEEK_END)
    length = stream.tell()
    offset = 0
    try:
        while offset < length:
            stream.seek(offset)
            header = stream.read(16)
            if len(header) < 8:
                raise CorruptMedia(f"The {media.mime} file is truncated inside a box header.")
            size = int.from_bytes(header[:4], "big")
            if size == 1:  # 64-bit size follows the type
                if len(header) < 16:
                    raise CorruptMedia(f"The {media.mime} file is truncated inside a box header.")
                size = int.from_bytes(header[8:16], "big")
            elif size == 0:  # the last box, extending to the end of the file
                return
            box = header[4:8].decode("latin-1")
            if size < 8:
                raise CorruptMedia(f"The {media.mime} file has a malformed {box!r} box.")
            if offset + size > length:
                raise CorruptMedia(
                    f"The {media.mime} file is truncated: its {box!r} box needs"
                    f" {offset + size - length} more bytes."
                )
            offset += size
    finally:
        stream.seek(0)


@contextmanager
def _seekable(fp: BinaryIO | bytes | str | os.PathLike[str]) -> Iterator[BinaryIO]:
    if isinstance(fp, (bytes, bytearray, memoryview)):
        yield io.BytesIO(fp)
    elif isinstance(fp, (str, os.PathLike)):
        with open(fp, "rb") as f:
            yield f
    elif getattr(fp, "seekable", lambda: False)() and fp.tell() == 0:
        yield fp
    else:
        # Pillow needs to seek, and seeks to 0; a storage stream gives neither.
        # Photos are tens of megabytes at most, so holding one in memory is the
        # cost Pillow would impose anyway.
        yield io.BytesIO(fp.read())


@contextmanager
def _decoding(media: MediaType, max_pixels: int | None) -> Iterator[None]:
    """Turn whatever a decoder raises on hostile or damaged bytes into an EvidenceError."""
    with warnings.catch_warnings():
        # Pillow reports damaged EXIF as UserWarning and carries on; the values are
        # validated here anyway, so the warning adds nothing. Its decompression-bomb
        # warning becomes an error when our own limit is below Pillow's, so the
        # refusal does not depend on the process's warning filters.
        # (catch_warnings is process-wide before Python 3.14: harmless with
        # gunicorn's process workers, a race on warning display with threads.)
        warnings.simplefilter("ignore", UserWarning)
        bomb_is_error = max_pixels is not None and (
            Image.MAX_IMAGE_PIXELS is None or max_pixels <= Image.MAX_IMAGE_PIXELS
        )
        warnings.simplefilter("error" if bomb_is_error else "ignore", Image.DecompressionBombWarning)
        try:
            yield
        except EvidenceError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            # Without a limit of ours, only Pillow's hard limit (twice its warning level) refused.
            limit = max_pixels if max_pixels is not None else 2 * (Image.MAX_IMAGE_PIXELS or 0)
            raise TooManyPixels(limit) from exc
        except MemoryError:
            raise
        # A decoder fed hostile bytes can fail in any way (OSError, SyntaxError,
        # ValueError, EOFError, struct.error, IndexError, ZeroDivisionError ... from
        # Pillow, pillow-heif and libavif alike); all mean "cannot decode this".
        except Exception as exc:
            reason = _POINTER_REPR.sub("", str(exc)).strip()[:200]
            raise CorruptMedia(
                f"The {media.mime} file is damaged or truncated and cannot be decoded"
                + (f" ({reason})." if reason else ".")
            ) from exc
