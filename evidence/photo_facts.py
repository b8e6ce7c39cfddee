"""What a photo's header says, read without decoding a pixel: size, orientation, camera, capture time (with its
offset when the camera wrote one), GPS position and time; implausible values are dropped, not guessed."""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from PIL import Image

from evidence.sniff import MediaType

from .photo_open import PILLOW_FORMATS, _getexif
from .photo_render import _TAG_ORIENTATION, _orientation_to_apply


# Cameras that never had their clock set report 1970 or 1980; EXIF itself dates from 1995.
_EARLIEST_PLAUSIBLE = datetime(1990, 1, 1)
# A clock may run a little fast; beyond this a date in the future is a wrong clock, not a fact.
_CLOCK_SKEW = timedelta(days=1)
# Widest UTC offsets in use (Kiribati +14, Baker Island -12).
_MAX_OFFSET = timedelta(hours=14)

_TAG_MAKE = 0x010F
_TAG_MODEL = 0x0110
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


_EXIF_DATETIME = re.compile(
    r"\s*(\d{4})[:\-/](\d{2})[:\-/](\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
)


_EXIF_DATE = re.compile(r"\s*(\d{4})[:\-/](\d{2})[:\-/](\d{2})\s*$")


_EXIF_OFFSET = re.compile(r"\s*([+-])(\d{2}):(\d{2})\s*$")


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
            return _getexif(im)
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
