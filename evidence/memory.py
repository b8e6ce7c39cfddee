"""How much of a process's memory photo decoding may take: slots for full decodes, and freed memory given back.

A full decode holds every pixel: 4 bytes each for RGB (Pillow keeps it as 32-bit pixels), so
about 200 MB for a 49 MP photo. Four first views of such previews at once took a web process
from 431 MB to 845 MB, and left it at 618 MB. So:

- at most ``EVIDENCE_MAX_PARALLEL_DECODES`` decodes hold their pixels at once in a process
  (``decode_slots``): a request or worker thread waits for a slot, then decodes, renders the
  preview and frees the pixels before it gives the slot back (evidence/photo.py);
- after a large decode the freed memory goes back to the kernel (``release_freed_memory``):
  glibc keeps freed blocks in per-thread arenas, so a threaded process would otherwise stay
  at its peak for good;
- the buffers of an ordinary photo are kept for the next one (``keep_image_buffers``), a
  bounded amount, so that deriving photo after photo does not fault fresh pages in each time.
"""

from __future__ import annotations

import ctypes
import threading
from functools import cache

from PIL import Image

#: A decode that held at least this many bytes of pixels is followed by ``release_freed_memory``.
#: As much as the derive worker keeps on purpose for its next photo (photo.KEEP_TRIM_THRESHOLD):
#: a 12 MP JPEG decoded at half scale (about 12 MB) is not worth trimming after, a 49 MP PNG is.
LARGE_DECODE_BYTES = 64 << 20


@cache
def decode_slots(count: int) -> threading.BoundedSemaphore:
    """The process's slots for full decodes when ``count`` are allowed (one semaphore per count,
    shared by every thread of the process: a web worker's request threads, the derive worker)."""
    if count < 1:
        raise ValueError("at least one decode at a time")
    return threading.BoundedSemaphore(count)


@cache
def _malloc_trim():
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to call
        return None


def release_freed_memory() -> bool:
    """Give the heap's free pages back to the kernel, in every arena (glibc's ``malloc_trim(0)``).

    False where the C library has no malloc_trim or nothing could be released.
    """
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False


#: Pillow allocates an image as blocks of at most this many bytes (its default is 16 MB). Small
#: blocks come from the C heap, never from mmap, and the blocks of any two images are of nearly
#: one size, so a kept block serves the next image whatever its shape.
IMAGE_BLOCK_BYTES = 64 << 10
#: Freed image blocks Pillow keeps for the next image, all threads of the process together:
#: 32 MB, what a 12 MP JPEG's derivation holds at its peak (the half-scale decode, the resize's
#: intermediate and the preview) with room to spare. A larger decode frees the rest.
IMAGE_BLOCKS_KEPT = (32 << 20) // IMAGE_BLOCK_BYTES


def keep_image_buffers() -> None:
    """Have Pillow keep up to 32 MB of freed image buffers for the next photo: for any process that derives.

    Without it every image buffer of a derivation is fresh memory: Pillow gives it back as soon
    as the image is dropped (16 MB blocks, mmapped by glibc and unmapped on free), so each photo
    faults its 25 MB of buffers in again, about 6,000 page faults and 10 ms of system time per
    12 MP JPEG, a fifth of its cost. Pillow's own block cache (what PILLOW_BLOCK_SIZE and
    PILLOW_BLOCKS_MAX set) keeps them instead. Unlike the allocator's thresholds
    (photo.keep_freed_image_memory) it holds image memory only, a fixed amount for the whole
    process however many threads decode, so web workers deriving a photo on its first view use
    it too. Idempotent; the settings are Pillow's, process-wide.
    """
    Image.core.set_block_size(IMAGE_BLOCK_BYTES)
    Image.core.set_blocks_max(IMAGE_BLOCKS_KEPT)
