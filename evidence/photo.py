"""Photos: read EXIF facts, decode once, make upright metadata-free derivatives and a perceptual hash."""

from __future__ import annotations

import io
import math
import os
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any, BinaryIO

import pillow_heif
from PIL import Image, ImageCms

from field.core.evidence_errors import CorruptMedia, EvidenceError, TooManyPixels, UnsupportedMedia
from evidence.sniff import SNIFF_BYTES, MediaType, sniff

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

PREVIEW_QUALITY = 82
THUMBNAIL_QUALITY = 75

# Cameras that never had their clock set report 1970 or 1980; EXIF itself dates from 1995.
_EARLIEST_PLAUSIBLE = datetime(1990, 1, 1)
# A clock may run a little fast; beyond this a date in the future is a wrong clock, not a fact.
_CLOCK_SKEW = timedelta(days=1)
# Widest UTC offsets in use (Kiribati +14, Baker Island -12).
_MAX_OFFSET = timedelta(hours=14)

_TAG_MAKE = 0x010F
_TAG_MODEL = 0x0110
_TAG_ORIENTATION = 0x0112
_TAG_SOFTWARE = 0x0131
_TAG_CAMERA_SERIAL = 0xC62F  # DNG CameraSerialNumber, in IFD0
_IFD_EXIF = 0x8769
_IFD_GPS = 0x8825
_TAG_DATETIME_ORIGINAL = 0x9003
_TAG_DATETIME_DIGITIZED = 0x9004
_TAG_OFFSET_TIME = 0x9010
_TAG_OFFSET_TIME_ORIGINAL = 0x9011
_TAG_OFFSET_TIME_DIGITIZED = 0x9012
_TAG_SUBSEC_ORIGINAL = 0x9291
_TAG_SUBSEC_DIGITIZED = 0x9292
_TAG_BODY_SERIAL = 0xA431
_TAG_LENS_SERIAL = 0xA435
_GPS_LAT_REF, _GPS_LAT, _GPS_LON_REF, _GPS_LON = 1, 2, 3, 4
_GPS_ALT_REF, _GPS_ALT, _GPS_TIME, _GPS_DATE = 5, 6, 7, 29
_GPS_H_ERROR = 31

_TRANSPOSE_FOR_ORIENTATION: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

_EXIF_DATETIME = re.compile(
    r"\s*(\d{4})[:\-/](\d{2})[:\-/](\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
)
_EXIF_DATE = re.compile(r"\s*(\d{4})[:\-/](\d{2})[:\-/](\d{2})\s*$")
_EXIF_OFFSET = re.compile(r"\s*([+-])(\d{2}):(\d{2})\s*$")
_POINTER_REPR = re.compile(r"\s*<[^<>]*>")


@dataclass(frozen=True, slots=True)
class PhotoFacts:
    """What a photo says about itself. Every field is None (or empty) when absent or implausible."""

    #: Pillow format that decoded it: JPEG, PNG, WEBP, HEIF or AVIF.
    format: str
    #: MIME type decided from the content.
    mime: str
    #: Pixel size as the decoder delivers it, before the EXIF orientation is applied.
    #: For HEIF the container's own rotation (irot/imir) is already applied by libheif.
    width: int
    height: int
    #: Pixel size as the photo is meant to be seen, after orientation.
    display_width: int
    display_height: int
    #: EXIF Orientation as written (1-8). For HEIF it is informative only: the
    #: container rotation is authoritative and already applied (see ``width``).
    orientation: int | None
    make: str | None
    model: str | None
    software: str | None
    #: DateTimeOriginal (else DateTimeDigitized). Aware when the camera wrote
    #: the matching OffsetTime* tag, else naive camera-local time of unknown zone.
    captured_at: datetime | None
    captured_at_has_offset: bool
    #: WGS-84 degrees (EXIF GPS is WGS-84 by definition of the phones' receivers).
    gps_lat: float | None
    gps_lon: float | None
    #: Metres above sea level, kept only with a valid position.
    gps_alt: float | None
    #: GPSHPositioningError in metres, when the device wrote it.
    gps_accuracy_m: float | None
    #: GPSDateStamp + GPSTimeStamp, always UTC (aware); the satellite clock, not the phone's.
    gps_time: datetime | None
    #: Body, lens and DNG camera serial numbers found in EXIF.
    serial_numbers: tuple[str, ...] = ()
    has_exif: bool = False

    def as_json(self) -> dict[str, Any]:
        """The facts as JSON-ready values (datetimes in ISO 8601, serials as a list)."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            out[name] = value
        return out


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
    """Have the C allocator keep freed image buffers for the next photo: for a process deriving many.

    With glibc's defaults a photo's buffers (12 MB for a 12 MP JPEG decoded at half scale) are
    mmapped, unmapped when freed, and faulted in again by the next photo: about 6,000 page
    faults and 10 ms of system time per 12 MP JPEG, a fifth of its whole cost. Setting the
    thresholds (what MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ do) serves them from
    the heap and lets it keep up to ``KEEP_TRIM_THRESHOLD`` bytes free. Process-wide, so it
    is for the derive worker, not for web workers, whose memory should go back after a large
    request. False where the C library has no ``mallopt`` (not glibc) or refuses the values.
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
    fp: BinaryIO | bytes | str | os.PathLike[str], *, now: datetime | None = None
) -> PhotoFacts:
    """EXIF facts and size of a photo, from its header only: no pixel is decoded."""
    with _open_photo(fp, max_pixels=None) as (im, media):
        return _read_facts(im, media, now or datetime.now(UTC))


def process_photo(
    fp: BinaryIO | bytes | str | os.PathLike[str],
    *,
    max_pixels: int = 50_000_000,
    thumb_px: int = 320,
    preview_px: int = 1280,
    now: datetime | None = None,
) -> PhotoResult:
    """Facts, thumbnail, preview and perceptual hash of a photo, decoding its pixels once.

    Raises UnsupportedMedia when the bytes are not a photo format we take,
    TooManyPixels when the header declares more than ``max_pixels`` (checked
    before any pixel is decoded), CorruptMedia when decoding fails. The input
    is only read.
    """
    if thumb_px < 1 or preview_px < thumb_px:
        raise ValueError("need 1 <= thumb_px <= preview_px")
    with _open_photo(fp, max_pixels=max_pixels) as (im, media):
        facts = _read_facts(im, media, now or datetime.now(UTC))
        orientation = _orientation_to_apply(im)
        preview_box = _fit((im.width, im.height), preview_px)
        with _decoding(media, max_pixels):
            # JPEG: DCT-domain scaling to the smallest 1/2^n at least the preview
            # size. HEIF: an embedded thumbnail when one is that large (pillow-heif).
            im.draft("RGB", preview_box)
            im.load()
        preview = _render(im, preview_box, orientation)
    thumbnail = _shrink(preview, _fit(preview.size, thumb_px))
    return PhotoResult(
        facts=facts,
        thumbnail=_encode_jpeg(thumbnail, THUMBNAIL_QUALITY),
        thumbnail_size=thumbnail.size,
        preview=_encode_jpeg(preview, PREVIEW_QUALITY),
        preview_size=preview.size,
        perceptual_hash=_dhash(thumbnail),
    )


# -- opening -----------------------------------------------------------------------------------


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


# -- derivatives -------------------------------------------------------------------------------


def _fit(size: tuple[int, int], box_px: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, box_px / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _orientation_to_apply(im: Image.Image) -> int:
    # For HEIF, pillow-heif has already reset EXIF Orientation to 1 because libheif
    # applies the container rotation, and for AVIF Pillow rewrites it from the
    # container's irot/imir; so the EXIF value read after opening is the one
    # transform still owed, whatever the format. Applied once, in _render.
    try:
        value = im.getexif().get(_TAG_ORIENTATION, 1)
    except Exception:  # noqa: BLE001 - damaged EXIF: show the pixels as stored
        return 1
    return value if isinstance(value, int) and value in _TRANSPOSE_FOR_ORIENTATION else 1


def _render(im: Image.Image, box: tuple[int, int], orientation: int) -> Image.Image:
    """The preview: display mode, sRGB, scaled into ``box``, flattened, upright, no metadata."""
    icc = im.info.get("icc_profile")
    out = _display_mode(im)
    if out.size != box:
        # The resize is most of the CPU after decoding, so: area averaging (BOX),
        # after whole-factor reductions (reducing_gap=1) for a full HEIF decode.
        # Measured on 12 MP phone JPEGs against a full-size LANCZOS reference,
        # BOX scores 36-40 dB PSNR, like BILINEAR and about what the JPEG
        # encoding at PREVIEW_QUALITY costs anyway; it takes 13.6 ms where
        # BILINEAR takes 20 and BICUBIC 33 (2016x1512 -> 1280x960).
        out = out.resize(box, Image.Resampling.BOX, reducing_gap=1.0)
    if out is im:
        out = im.copy()  # what follows may work in place, and im is closed after us
    out = _flatten_alpha(out)
    if icc and out.mode in ("RGB", "CMYK"):
        out = _to_srgb(out, icc)
    if out.mode not in ("RGB", "L"):
        out = out.convert("RGB")
    if orientation in _TRANSPOSE_FOR_ORIENTATION:
        out = out.transpose(_TRANSPOSE_FOR_ORIENTATION[orientation])
    # Resize and convert copy the source's info (EXIF, XMP, ICC, comments);
    # the derivative starts with none, and _encode_jpeg passes none explicitly.
    out.info = {}
    return out


def _display_mode(im: Image.Image) -> Image.Image:
    """The image in L, LA, RGB, RGBA or CMYK, the modes resizing handles well."""
    mode = im.mode
    if mode in ("L", "LA", "RGB", "RGBA", "CMYK"):
        return im
    if mode in ("P", "PA"):
        return im.convert("RGBA" if "transparency" in im.info or mode == "PA" else "RGB")
    if mode == "1":
        return im.convert("L")
    if mode.startswith("I;16") or mode == "I":
        # 16-bit greyscale (PNG): scale to 8 bits rather than clip at 255.
        wide = im if mode == "I" else im.convert("I")
        return wide.point(lambda value: value * (1 / 256)).convert("L")
    if mode == "F":
        return im.convert("L")
    if mode in ("La", "RGBa"):  # premultiplied alpha
        return im.convert("LA" if mode == "La" else "RGBA")
    return im.convert("RGB")


def _flatten_alpha(im: Image.Image) -> Image.Image:
    if im.mode not in ("RGBA", "LA"):
        return im
    # JPEG has no alpha; transparent areas become white, as viewers show them.
    base = Image.new(im.mode[:-1], im.size, 255 if im.mode == "LA" else (255, 255, 255))
    base.paste(im, mask=im.getchannel("A"))
    return base


def _to_srgb(im: Image.Image, icc: bytes) -> Image.Image:
    transform = _srgb_transform(bytes(icc), im.mode)
    if transform is None:
        return im
    try:
        if im.mode == "RGB":
            ImageCms.applyTransform(im, transform, inPlace=True)  # our own copy: no allocation
            return im
        return ImageCms.applyTransform(im, transform) or im
    except (ImageCms.PyCMSError, ValueError, OSError):
        return im


@lru_cache(maxsize=32)
def _srgb_transform(icc: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    # Phones tag photos Display P3 (iPhone) or sRGB; the derivative carries no
    # profile, so it must be sRGB in fact or viewers show P3 photos washed out.
    # Building a transform costs milliseconds, hence the cache keyed by profile.
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if mode == "RGB" and "srgb" in (ImageCms.getProfileDescription(source) or "").lower():
            return None
        return ImageCms.buildTransform(
            source, ImageCms.createProfile("sRGB"), mode, "RGB",
            renderingIntent=ImageCms.Intent.PERCEPTUAL,
        )
    except (ImageCms.PyCMSError, ValueError, OSError, TypeError):
        return None  # an unreadable profile: the pixels are taken as sRGB


def _shrink(im: Image.Image, box: tuple[int, int]) -> Image.Image:
    if im.size == box:
        return im.copy()
    # The thumbnail comes from the preview, about a whole factor (4) away: a box
    # reduction by that factor, then BICUBIC for the rest; under a millisecond.
    out = im.resize(box, Image.Resampling.BICUBIC, reducing_gap=1.0)
    out.info = {}
    return out


def _encode_jpeg(im: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    # Every metadata carrier is passed empty on purpose: Pillow would otherwise
    # take a comment from im.info, and a caller's exif= would copy GPS along.
    im.save(
        buffer, "JPEG", quality=quality, exif=b"", icc_profile=None, comment=b"", xmp=b"",
        optimize=False, progressive=False,
    )
    return buffer.getvalue()


def _dhash(im: Image.Image) -> int:
    """64-bit difference hash: is each pixel brighter than its right neighbour, on a 9x8 grey grid.

    Chosen over imagehash's pHash to add no dependency (numpy, scipy, PyWavelets)
    for a check that only has to recognise the same photo re-sent, re-encoded or
    resized; both are blind to crops. Computed from the upright thumbnail, so the
    same picture stored with a different orientation flag hashes alike.
    """
    grey = im.convert("L").resize((9, 8), Image.Resampling.LANCZOS)
    pixels = grey.tobytes()
    value = 0
    for row in range(8):
        for col in range(8):
            value = (value << 1) | (pixels[row * 9 + col] > pixels[row * 9 + col + 1])
    return value


# -- facts -------------------------------------------------------------------------------------


def _read_facts(im: Image.Image, media: MediaType, now: datetime) -> PhotoFacts:
    """Everything EXIF says, each value checked; nothing in here raises on bad data."""
    exif = _exif(im)
    ifd0: dict[int, Any] = dict(exif) if exif is not None else {}
    exif_ifd = _sub_ifd(exif, _IFD_EXIF)
    gps_ifd = _sub_ifd(exif, _IFD_GPS)

    orientation = _orientation(im.info.get("original_orientation")) or _orientation(ifd0.get(_TAG_ORIENTATION))
    applied = _orientation_to_apply(im)
    width, height = im.size
    display = (height, width) if applied in (5, 6, 7, 8) else (width, height)

    captured_at, has_offset = _capture_time(exif_ifd, now)
    lat, lon = _gps_position(gps_ifd)
    serials = []
    for value in (exif_ifd.get(_TAG_BODY_SERIAL), exif_ifd.get(_TAG_LENS_SERIAL), ifd0.get(_TAG_CAMERA_SERIAL)):
        text = _text(value)
        # Lenses without an electronic serial report "0000000000".
        if text and text.strip("0 ") and text not in serials:
            serials.append(text)

    return PhotoFacts(
        format=im.format or PILLOW_FORMATS[media.mime],
        mime=media.mime,
        width=width,
        height=height,
        display_width=display[0],
        display_height=display[1],
        orientation=orientation,
        make=_text(ifd0.get(_TAG_MAKE)),
        model=_text(ifd0.get(_TAG_MODEL)),
        software=_text(ifd0.get(_TAG_SOFTWARE)),
        captured_at=captured_at,
        captured_at_has_offset=has_offset,
        gps_lat=lat,
        gps_lon=lon,
        gps_alt=_gps_altitude(gps_ifd) if lat is not None else None,
        gps_accuracy_m=_non_negative(_number(gps_ifd.get(_GPS_H_ERROR))) if lat is not None else None,
        gps_time=_gps_time(gps_ifd, now),
        serial_numbers=tuple(serials),
        has_exif=bool(ifd0) or bool(exif_ifd) or bool(gps_ifd),
    )


def _exif(im: Image.Image) -> Image.Exif | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return im.getexif()
    except Exception:  # noqa: BLE001 - damaged EXIF is no EXIF, never a refusal of the photo
        return None


def _sub_ifd(exif: Image.Exif | None, tag: int) -> dict[int, Any]:
    if exif is None:
        return {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return dict(exif.get_ifd(tag))
    except Exception:  # noqa: BLE001 - a sub-IFD pointer into garbage (seen: TypeError, struct.error)
        return {}


def _orientation(value: Any) -> int | None:
    return value if isinstance(value, int) and 1 <= value <= 8 else None


def _text(value: Any, limit: int = 128) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    # EXIF ASCII ends at the first NUL; what follows is padding or garbage.
    value = value.split("\x00", 1)[0]
    value = "".join(ch for ch in value if ch.isprintable()).strip()
    return value[:limit] or None


def _number(value: Any) -> float | None:
    try:
        number = float(value)  # IFDRational 0/0 is NaN, not an error
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _non_negative(value: float | None) -> float | None:
    return value if value is not None and value >= 0 else None


def _capture_time(exif_ifd: dict[int, Any], now: datetime) -> tuple[datetime | None, bool]:
    for date_tag, offset_tag, subsec_tag in (
        (_TAG_DATETIME_ORIGINAL, _TAG_OFFSET_TIME_ORIGINAL, _TAG_SUBSEC_ORIGINAL),
        (_TAG_DATETIME_DIGITIZED, _TAG_OFFSET_TIME_DIGITIZED, _TAG_SUBSEC_DIGITIZED),
    ):
        local = _parse_exif_datetime(_text(exif_ifd.get(date_tag)), _text(exif_ifd.get(subsec_tag)))
        if local is None:
            continue
        # OffsetTime belongs to DateTime (last change) but a camera writes one zone.
        offset = _parse_offset(_text(exif_ifd.get(offset_tag))) or _parse_offset(
            _text(exif_ifd.get(_TAG_OFFSET_TIME))
        )
        if offset is not None:
            aware = local.replace(tzinfo=offset)
            if aware > now + _CLOCK_SKEW:
                return None, False
            return aware, True
        # Camera-local time of an unknown zone: future only beyond any zone's lead.
        if local > now.astimezone(UTC).replace(tzinfo=None) + _MAX_OFFSET + _CLOCK_SKEW:
            return None, False
        return local, False
    return None, False


def _parse_exif_datetime(text: str | None, subsec: str | None = None) -> datetime | None:
    if not text:
        return None
    match = _EXIF_DATETIME.match(text)
    if match is None:
        return None  # blank "    :  :     :  :" and other fillers
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction = match.group(7) or (subsec.strip() if subsec and subsec.strip().isdigit() else "")
    try:
        value = datetime(year, month, day, hour, minute, second, int((fraction + "000000")[:6] or 0))
    except ValueError:
        return None  # 1999:99:99 and the like
    return value if value >= _EARLIEST_PLAUSIBLE else None


def _parse_offset(text: str | None) -> timezone | None:
    if not text:
        return None
    match = _EXIF_OFFSET.match(text)
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    if delta > _MAX_OFFSET or int(minutes) >= 60:
        return None
    return timezone(-delta if sign == "-" else delta)


def _gps_position(gps: dict[int, Any]) -> tuple[float | None, float | None]:
    lat = _gps_coordinate(gps.get(_GPS_LAT), gps.get(_GPS_LAT_REF), "N", "S", 90.0)
    lon = _gps_coordinate(gps.get(_GPS_LON), gps.get(_GPS_LON_REF), "E", "W", 180.0)
    if lat is None or lon is None:
        return None, None  # half a position places nothing
    if lat == 0.0 and lon == 0.0:
        # "Null island": receivers without a fix write 0,0 (or -0,-0); it is
        # open sea in the Gulf of Guinea, never a place our teams photograph.
        return None, None
    return lat, lon


def _gps_coordinate(value: Any, ref: Any, positive: str, negative: str, limit: float) -> float | None:
    parts = value if isinstance(value, tuple) else (value,)
    if not 1 <= len(parts) <= 3:
        return None
    numbers = [_number(part) for part in parts]
    if any(n is None or n < 0 for n in numbers):
        return None  # NaN (0/0 rationals), negative or missing
    degrees, minutes, seconds = [*numbers, 0.0, 0.0][:3]
    assert degrees is not None and minutes is not None and seconds is not None
    if minutes >= 60 or seconds >= 60:
        return None
    coordinate = degrees + minutes / 60 + seconds / 3600
    if coordinate > limit:
        return None
    hemisphere = (_text(ref) or "").upper()[:1]
    if hemisphere == negative:
        return -coordinate
    if hemisphere == positive:
        return coordinate
    # No hemisphere: the point could be in any of four quadrants; better none than a wrong place.
    return None


def _gps_altitude(gps: dict[int, Any]) -> float | None:
    altitude = _number(gps.get(_GPS_ALT))
    if altitude is None:
        return None
    ref = gps.get(_GPS_ALT_REF)
    if isinstance(ref, bytes):
        ref = ref[:1] == b"\x01"
    below_sea_level = ref == 1 or ref is True
    altitude = -altitude if below_sea_level else altitude + 0.0  # no "-0.0 m"
    # Dead Sea shore to above Everest: anything else is a broken field.
    return altitude if -500.0 <= altitude <= 9000.0 else None


def _gps_time(gps: dict[int, Any], now: datetime) -> datetime | None:
    day_text = _text(gps.get(_GPS_DATE))
    clock = gps.get(_GPS_TIME)
    if not day_text or not isinstance(clock, tuple) or len(clock) != 3:
        return None
    match = _EXIF_DATE.match(day_text)
    if match is None:
        return None  # "2014:09:259", "0000:00:00"
    hours, minutes, seconds = (_number(part) for part in clock)
    if hours is None or minutes is None or seconds is None:
        return None
    if not (0 <= hours < 24 and 0 <= minutes < 60 and 0 <= seconds < 61):
        return None
    if hours != int(hours) or minutes != int(minutes):
        return None
    try:
        day = date(*(int(g) for g in match.groups()))
    except ValueError:
        return None
    # Rationals like 4723/100 s: round to the microsecond, and fold a leap second into :59.
    micros = min(round(seconds * 1_000_000), 59_999_999)
    value = datetime.combine(
        day, time(int(hours), int(minutes), micros // 1_000_000, micros % 1_000_000), UTC
    )
    if value < _EARLIEST_PLAUSIBLE.replace(tzinfo=UTC) or value > now + _CLOCK_SKEW:
        return None
    return value
