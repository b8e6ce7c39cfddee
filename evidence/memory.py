"""How much of a process's memory photo decoding may take: slots for full decodes, and freed memory given back.

A full decode holds every pixel: 4 bytes each for RGB (Pillow keeps it as 32-bit pixels), so
about 200 MB for a 49 MP photo. Four first views of such previews at once took a web process
from 431 MB to 845 MB, and left it at 618 MB. So:

- at most ``EVIDENCE_MAX_PARALLEL_DECODES`` decodes hold their pixels at once in a process
  (``decode_slots``): a request or worker thread waits for a slot, then decodes, renders the
  preview and frees the pixels before it gives the slot back (evidence/photo.py);
- after a large decode the freed memory goes back to the kernel (``release_freed_memory``):
  glibc keeps freed blocks in per-thread arenas, so a threaded process would otherwise stay
  at its peak for good.
"""

from __future__ import annotations

import ctypes
import threading
from functools import cache

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
