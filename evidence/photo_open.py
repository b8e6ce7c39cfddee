"""Opening photos safely: only the Pillow plugin of the sniffed format, a complete HEIF/AVIF box structure, and
the pixel limit checked before any pixel is decoded."""

from __future__ import annotations

import io
import os
import re
import threading
import warnings
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
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


def _slot(slots: threading.Semaphore | None) -> AbstractContextManager:
    return slots if slots is not None else nullcontext()


@contextmanager
def _open_photo(
    fp: BinaryIO | bytes | str | os.PathLike[str], *, max_pixels: int | None,
    slots: threading.Semaphore | None = None,
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
        with _decoding(media):
            im = _open_header(stream, PILLOW_FORMATS[media.mime])
        # ``with``, not im.close(): ImageFile.close() also closes the stream it was given,
        # which is the caller's (read_facts on a file a pipeline goes on reading); leaving
        # the block drops the decoder's state and leaves the stream to whoever owns it.
        with im:
            width, height = im.size
            if width < 1 or height < 1:
                raise CorruptMedia(f"The {media.mime} file declares an empty image.")
            if max_pixels is not None and width * height > max_pixels:
                raise TooManyPixels(max_pixels, width, height)
            if media.mime != "image/png":
                yield im, media
            elif _png_metadata_after_pixels(stream):
                # Its EXIF may follow the pixels, and Pillow reads it by decoding them all
                # (PngImageFile.getexif loads the image): a full decode, so it takes a slot.
                with _slot(slots):
                    yield im, media
            else:
                # The header's metadata is all there is: read it without decoding (_getexif).
                im.fieldwatch_exif_in_header = True
                yield im, media


def _open_header(stream: BinaryIO, pillow_format: str) -> Image.Image:
    """What ``Image.open(stream, formats=[pillow_format])`` does, less Pillow's own pixel limit.

    The limit that applies is fieldwatch's (EVIDENCE_MAX_PIXELS), checked by the caller on the
    size this header declares, before any pixel is decoded. Pillow's process-wide one
    (Image.MAX_IMAGE_PIXELS, left as it is) refused anything over 178,956,970 pixels inside
    Image.open, with its own figure and without the size: a configured limit above it never
    applied, and a refusal below it could not say what the photo declared. The plugin's
    factory is taken from Pillow's registry (Image.register_open fills it), as Image.open does.
    """
    if pillow_format not in Image.OPEN:
        Image.init()  # WebP and AVIF are registered by init(), not preinit()
    factory, _accept = Image.OPEN[pillow_format]  # the content was sniffed as this format already
    stream.seek(0)
    return factory(stream, "")


#: PNG chunks that may carry EXIF: eXIf, and text (ImageMagick's "Raw profile type exif").
_PNG_METADATA_CHUNKS = frozenset({b"eXIf", b"tEXt", b"zTXt", b"iTXt"})
#: Chunks walked before giving up and letting Pillow decode (under a slot): a hostile file of
#: millions of empty chunks must not cost seconds of CPU here.
_PNG_MAX_CHUNKS_WALKED = 100_000


def _png_metadata_after_pixels(stream: BinaryIO) -> bool:
    """Whether a PNG has a chunk that may hold EXIF after its image data; chunk headers only are read.

    PngImageFile.getexif decodes every pixel whenever the header has no eXIf chunk, in case
    one follows the image data: reading the facts of a 49 MP PNG at receipt cost 200 MB.
    A damaged chunk list reads as "nothing after" (the decode will say what is wrong).
    """
    position = stream.tell()
    try:
        stream.seek(8)  # the signature
        after_pixels = False
        for _ in range(_PNG_MAX_CHUNKS_WALKED):
            header = stream.read(8)
            if len(header) < 8:
                return False
            kind = header[4:]
            if kind == b"IDAT":
                after_pixels = True
            elif kind == b"IEND":
                return False
            elif after_pixels and kind in _PNG_METADATA_CHUNKS:
                return True
            stream.seek(int.from_bytes(header[:4], "big") + 4, os.SEEK_CUR)  # the data and its CRC
        return True
    finally:
        stream.seek(position)


def _getexif(im: Image.Image) -> Image.Exif:
    """``im.getexif()``, without PngImageFile's decode when the header's metadata is all there is."""
    if getattr(im, "fieldwatch_exif_in_header", False):
        return Image.Image.getexif(im)
    return im.getexif()


def _check_boxes_complete(stream: BinaryIO, media: MediaType) -> None:
    """Refuse an ISO BMFF file (HEIF, AVIF) whose top-level boxes run past its end.

    libheif decodes a HEIC whose ``mdat`` was cut short without any error, filling
    the missing grid tiles with flat colour; a truncated upload would then pass for
    a photo. Every top-level box declares its length, so the cut is plain to see.
    Bytes after the last box that do not even start like a box (a non-printable type)
    are not a cut box but something appended: accepted, and reported as trailing data.
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
            if offset and not all(32 <= c < 127 for c in header[4:8]):
                # Not a box: the container ended here and something was appended (a ZIP, say),
                # which evidence/trailing.py reports; a cut box still has its printable type.
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
def _decoding(media: MediaType) -> Iterator[None]:
    """Turn whatever a decoder raises on hostile or damaged bytes into an EvidenceError."""
    with warnings.catch_warnings():
        # Pillow reports damaged EXIF as UserWarning and carries on; the values are
        # validated here anyway, so the warning adds nothing.
        # (catch_warnings is process-wide before Python 3.14: harmless with
        # gunicorn's process workers, a race on warning display with threads.)
        warnings.simplefilter("ignore", UserWarning)
        try:
            yield
        except EvidenceError:
            raise
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
