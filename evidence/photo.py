"""Photos: read EXIF facts, decode once, make upright metadata-free derivatives and a perceptual hash.

The entry points (``read_facts``, ``process_photo``); the parts are photo_open.py (opening safely),
photo_facts.py (the header's facts) and photo_render.py (viewing copies, the hash)."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import BinaryIO

from PIL import Image

from field.core.evidence_errors import CorruptMedia, TooManyPixels, UnsupportedMedia

from .memory import LARGE_DECODE_BYTES, release_freed_memory
from .photo_facts import PhotoFacts, _read_facts
from .photo_open import _decoding, _open_photo, _slot
from .photo_render import _dhash, _encode_jpeg, _orientation_to_apply, _render, _shrink


PREVIEW_QUALITY = 82
THUMBNAIL_QUALITY = 75


@dataclass(frozen=True, slots=True)
class PhotoResult:
    facts: PhotoFacts
    #: JPEG bytes, upright, no metadata, long side at most ``thumb_px``.
    thumbnail: bytes
    thumbnail_size: tuple[int, int]
    #: JPEG bytes, upright, no metadata, long side at most ``preview_px``.
    preview: bytes
    preview_size: tuple[int, int]
    #: 64-bit difference hash of the upright picture (``field.core.media.PERCEPTUAL_HASH_ALGORITHM``), unsigned.
    perceptual_hash: int

    @property
    def perceptual_hash_signed(self) -> int:
        """The hash as a signed 64-bit integer, to fit a BIGINT column."""
        return self.perceptual_hash - (1 << 64) if self.perceptual_hash >= 1 << 63 else self.perceptual_hash


#: Allocations below this come from the heap, not from mmap: every Pillow buffer (its arena
#: allocates in blocks of at most 16 MB) and the decoder's.
KEEP_MMAP_THRESHOLD = 32 << 20
#: Freed heap kept for the next photo rather than returned to the kernel.
KEEP_TRIM_THRESHOLD = 64 << 20


def keep_freed_image_memory() -> bool:
    """Have the C allocator keep freed memory for the next photo: for the derive worker, deriving many.

    With glibc's defaults a photo's buffers (12 MB for a 12 MP JPEG decoded at half scale) are
    mmapped, unmapped when freed, and faulted in again by the next photo: about 6,000 page
    faults and 10 ms of system time per 12 MP JPEG, a fifth of its whole cost. Pillow's image
    buffers are kept by memory.keep_image_buffers, in the worker and in web workers alike;
    these thresholds (what MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ do) keep the rest
    too, a progressive JPEG's coefficients or a large photo's decode, by serving them from the
    heap and letting each arena keep up to ``KEEP_TRIM_THRESHOLD`` bytes free. Process-wide and
    per thread arena, so it is for the derive worker, not for web workers, whose memory should
    go back after a large request. False where the C library has no ``mallopt`` (not glibc) or
    refuses the values.
    """
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # <malloc.h>
    return bool(mallopt(m_mmap_threshold, KEEP_MMAP_THRESHOLD)) and bool(
        mallopt(m_trim_threshold, KEEP_TRIM_THRESHOLD))


def read_facts(
    fp: BinaryIO | bytes | str | os.PathLike[str], *, max_pixels: int | None = None,
    slots: threading.Semaphore | None = None, now: datetime | None = None,
) -> PhotoFacts:
    """EXIF facts and size of a photo, from its header: no pixel is decoded, except for a PNG
    with metadata after its pixels (Pillow reads those by decoding), and that under one of
    ``slots`` (evidence/memory.py).

    TooManyPixels (with the declared size) when the header declares more than ``max_pixels``.
    """
    with _open_photo(fp, max_pixels=max_pixels, slots=slots) as (im, media):
        return _read_facts(im, media, now or datetime.now(UTC))


def process_photo(
    fp: BinaryIO | bytes | str | os.PathLike[str],
    *,
    max_pixels: int = 50_000_000,
    thumb_px: int = 320,
    preview_px: int = 1280,
    slots: threading.Semaphore | None = None,
    now: datetime | None = None,
) -> PhotoResult:
    """Facts, thumbnail, preview and perceptual hash of a photo, decoding its pixels once.

    Raises UnsupportedMedia when the bytes are not a photo format we take,
    TooManyPixels when the header declares more than ``max_pixels`` (checked
    before any pixel is decoded), CorruptMedia when decoding fails. The input
    is only read. The decoded pixels are held inside one of ``slots``
    (evidence/memory.py: at most so many decodes at once in the process) and freed
    before it is given back; after a large decode the freed memory goes back to the
    kernel.
    """
    if thumb_px < 1 or preview_px < thumb_px:
        raise ValueError("need 1 <= thumb_px <= preview_px")
    with _slot(slots), _open_photo(fp, max_pixels=max_pixels) as (im, media):
        facts = _read_facts(im, media, now or datetime.now(UTC))
        orientation = _orientation_to_apply(im)
        preview_box = _fit((im.width, im.height), preview_px)
        with _decoding(media):
            # JPEG: DCT-domain scaling to the smallest 1/2^n at least the preview
            # size. HEIF: an embedded thumbnail when one is that large (pillow-heif).
            im.draft("RGB", preview_box)
            im.load()
        held = 4 * im.width * im.height  # Pillow keeps RGB(A), CMYK and I/F as 32-bit pixels
        preview = _render(im, preview_box, orientation)
        # Free the pixels now, while this decode still holds its slot, not whenever the caller
        # drops the image. Image.close drops the pixels only; ImageFile.close would also close
        # the stream, which is the caller's.
        Image.Image.close(im)
    if held >= LARGE_DECODE_BYTES:
        release_freed_memory()
    thumbnail = _shrink(preview, _fit(preview.size, thumb_px))
    return PhotoResult(
        facts=facts,
        thumbnail=_encode_jpeg(thumbnail, THUMBNAIL_QUALITY),
        thumbnail_size=thumbnail.size,
        preview=_encode_jpeg(preview, PREVIEW_QUALITY),
        preview_size=preview.size,
        perceptual_hash=_dhash(thumbnail),
    )


# -- derivatives -------------------------------------------------------------------------------


def _fit(size: tuple[int, int], box_px: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, box_px / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))
