"""Where a photo's own bytes end, and what follows them: a file appended to a photo (a polyglot).

A JPEG with a ZIP appended opens as the photo in every viewer and as the archive in every unzip
tool; the same goes for any format whose reader stops at its own end. The evidence is kept as
received (its hash is of every byte); the office is told that bytes follow the image, how many,
and what they look like.

Where each format ends, from its structure, never by searching for an end marker (a ZIP can
hold the bytes FF D9 anywhere):

- JPEG: the markers are walked, each segment skipped by its length and each scan's entropy-coded
  data to the next real marker (FF followed by neither 00 nor a restart marker), up to EOI.
  Images declared by a Multi-Picture Format index (APP2 "MPF": the second frame of an MPO, the
  gain map of an Ultra HDR photo) are part of the file, not trailing data.
- PNG: chunk by chunk (length, type, data, CRC) up to IEND.
- WebP: the RIFF header's size (plus the pad byte of an odd size).
- HEIF/AVIF: the top-level boxes by their sizes, to the last one that fits (a box of size 0 runs
  to the end). What follows that does not parse as a box is trailing.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

#: Bytes read at a time while scanning a JPEG's entropy-coded data.
_WINDOW = 1 << 20

#: What trailing bytes look like, by their first bytes (a hint for the reviewer, nothing more).
_LOOKS_LIKE = (
    (b"PK\x03\x04", "zip"), (b"PK\x05\x06", "zip"), (b"Rar!\x1a\x07", "rar"), (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"%PDF", "pdf"), (b"\xff\xd8\xff", "jpeg"), (b"\x89PNG", "png"), (b"\x1f\x8b", "gzip"),
    (b"MZ", "executable"), (b"\x7fELF", "executable"),
)


@dataclass(frozen=True)
class Trailing:
    """What follows the image: how many bytes, from where, and what they look like."""

    size: int
    at: int
    looks_like: str
    #: What phones themselves leave after the image: zero padding (Motorola), Samsung's SEF
    #: trailer whose own directory accounts for every byte. Reported, not flagged.
    camera_trailer: bool = False

    def as_json(self) -> dict:
        return {"bytes": self.size, "offset": self.at, "looks_like": self.looks_like,
                "camera_trailer": self.camera_trailer}


def trailing(fp: BinaryIO, mime: str) -> Trailing | None:
    """What follows the end of the image in ``fp`` (a seekable file), or None when nothing does or
    the format is not one this module knows. Leaves ``fp`` at its start."""
    size = fp.seek(0, 2)
    try:
        end = {"image/jpeg": _jpeg_end, "image/png": _png_end, "image/webp": _webp_end}.get(mime)
        if end is None and mime in ("image/heic", "image/heif", "image/avif", "image/heic-sequence",
                                    "image/heif-sequence"):
            end = _bmff_end
        if end is None:
            return None
        stop = min(end(fp, size), size)
        if stop >= size:
            return None
        if _all_zero(fp, stop, size):
            return Trailing(size - stop, stop, "zero padding", camera_trailer=True)
        if _samsung_trailer(fp, stop, size):
            return Trailing(size - stop, stop, "samsung trailer (SEF)", camera_trailer=True)
        head = _read_at(fp, stop, 12)
        kind = next((name for magic, name in _LOOKS_LIKE if head.startswith(magic)), None)
        if kind is None:
            kind = "mp4/quicktime" if head[4:8] == b"ftyp" else "unknown"
        return Trailing(size - stop, stop, kind)
    finally:
        fp.seek(0)


def _read_at(fp: BinaryIO, pos: int, n: int) -> bytes:
    fp.seek(pos)
    return fp.read(n)


def _all_zero(fp: BinaryIO, start: int, size: int) -> bool:
    fp.seek(start)
    while start < size:
        chunk = fp.read(min(_WINDOW, size - start))
        if not chunk or chunk.count(0) != len(chunk):
            return False
        start += len(chunk)
    return True


def _samsung_trailer(fp: BinaryIO, start: int, size: int) -> bool:
    """Samsung's SEF trailer, and nothing else: ``<data blocks> SEFH <version> <count> <count x (type,
    offset back from SEFH, size)> <directory length> SEFT`` where the farthest block begins exactly
    where the image ends. Anything slipped in before the blocks leaves bytes the directory does not
    account for."""
    if size - start < 24 or _read_at(fp, size - 4, 4) != b"SEFT":
        return False
    (directory,) = struct.unpack("<I", _read_at(fp, size - 8, 4))
    sefh = size - 8 - directory
    if sefh < start or directory < 12:
        return False
    head = _read_at(fp, sefh, directory)
    if not head.startswith(b"SEFH"):
        return False
    (count,) = struct.unpack("<I", head[8:12])
    if count < 1 or 12 + 12 * count > directory:
        return False
    farthest = max(struct.unpack("<I", head[12 + 12 * n + 4: 12 + 12 * n + 8])[0] for n in range(count))
    return sefh - farthest == start


# -- JPEG ----------------------------------------------------------------------------------------


def _jpeg_end(fp: BinaryIO, size: int) -> int:
    pos, declared_end = 2, 0
    while pos + 2 <= size:
        marker = _read_at(fp, pos, 2)
        if marker[0] != 0xFF:
            return size  # not where a marker should be: damaged, not judged
        code = marker[1]
        if code == 0xFF:  # a fill byte before the marker
            pos += 1
            continue
        pos += 2
        if code == 0xD9:  # EOI
            return max(pos, declared_end) if declared_end <= size else pos
        if 0xD0 <= code <= 0xD7 or code == 0x01:
            continue  # standalone markers
        if pos + 2 > size:
            return size
        (length,) = struct.unpack(">H", _read_at(fp, pos, 2))
        if length < 2:
            return size
        if code == 0xE2:
            declared_end = max(declared_end, _mpf_end(_read_at(fp, pos + 2, length - 2), pos + 2))
        pos += length
        if code == 0xDA:  # start of scan: its entropy-coded data runs to the next marker
            pos = _next_marker(fp, pos, size)
    return size  # no EOI: a truncated file has nothing after its end


def _next_marker(fp: BinaryIO, pos: int, size: int) -> int:
    """Position of the next marker after entropy-coded data: FF not followed by 00 (a stuffed FF),
    a restart marker (D0-D7) or another FF (fill)."""
    while pos < size:
        window = _read_at(fp, pos, _WINDOW + 1)
        i = window.find(b"\xff")
        while i != -1:
            if i + 1 >= len(window):
                break  # the byte after is in the next window
            follower = window[i + 1]
            if follower != 0x00 and not 0xD0 <= follower <= 0xD7 and follower != 0xFF:
                return pos + i
            i = window.find(b"\xff", i + 1)
        pos += max(len(window) - 1, 1)
    return size


def _mpf_end(segment: bytes, base: int) -> int:
    """End (file offset) of the last image an APP2 Multi-Picture Format index declares; 0 if none.

    The MP Entry offsets count from the MP header (the TIFF header after "MPF\\0"), at ``base + 4``.
    """
    if not segment.startswith(b"MPF\x00") or len(segment) < 16:
        return 0
    tiff = segment[4:]
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None:
        return 0
    try:
        (ifd,) = struct.unpack(order + "I", tiff[4:8])
        (count,) = struct.unpack(order + "H", tiff[ifd:ifd + 2])
        for n in range(count):
            tag, _type, items, value = struct.unpack(order + "HHII", tiff[ifd + 2 + 12 * n: ifd + 14 + 12 * n])
            if tag != 0xB002:  # MPEntry: 16 bytes per image
                continue
            end = 0
            for k in range(items // 16):
                _attr, image_size, offset = struct.unpack(order + "III", tiff[value + 16 * k: value + 16 * k + 12])
                if offset:  # the first image (offset 0) is this one
                    end = max(end, base + 4 + offset + image_size)
            return end
    except struct.error:
        return 0
    return 0


# -- PNG, WebP, ISO BMFF -------------------------------------------------------------------------


def _png_end(fp: BinaryIO, size: int) -> int:
    pos = 8
    while pos + 8 <= size:
        length, kind = struct.unpack(">I4s", _read_at(fp, pos, 8))
        pos += 12 + length
        if kind == b"IEND":
            return pos
    return size


def _webp_end(fp: BinaryIO, size: int) -> int:
    (riff_size,) = struct.unpack("<I", _read_at(fp, 4, 4))
    return 8 + riff_size + (riff_size & 1)


def _bmff_end(fp: BinaryIO, size: int) -> int:
    pos = 0
    while pos + 8 <= size:
        box_size, kind = struct.unpack(">I4s", _read_at(fp, pos, 8))
        if box_size == 1:
            if pos + 16 > size:
                return pos
            (box_size,) = struct.unpack(">Q", _read_at(fp, pos + 8, 8))
        elif box_size == 0:
            return size
        if box_size < 8 or pos + box_size > size or not all(32 <= c < 127 for c in kind):
            return pos  # not a box: what is left follows the file
        pos += box_size
    return pos
