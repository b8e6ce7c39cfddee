"""Photo processing: facts from EXIF, upright metadata-free derivatives, perceptual hash, refusals."""

from __future__ import annotations

import contextlib
import hashlib
import io
import itertools
import json
import math
import platform
import struct
import zlib
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from pathlib import Path

import pillow_heif
import pytest
from PIL import Image, ImageChops, ImageCms, ImageEnhance, ImageFile, ImageOps, ImageStat
from PIL.AvifImagePlugin import AvifImageFile
from PIL.TiffImagePlugin import IFDRational
from PIL.WebPImagePlugin import WebPImageFile
from pillow_heif.as_plugin import HeifImageFile

from evidence import photo as photo_module
from field.core.evidence_errors import CorruptMedia, EvidenceError, TooManyPixels, UnsupportedMedia
from evidence.photo import PhotoResult, process_photo, read_facts
from field.core.media import SAME_PHOTO_MAX_DISTANCE, hash_distance
from tests.evidence_fixtures import CorpusPhoto, corpus_params, corpus_photo

#: A fixed "now", so that "in the future" does not depend on the day the tests run.
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)

#: JPEG markers that carry metadata: APP1..APP15 (EXIF, XMP, ICC, IPTC, maker data) and COM.
METADATA_MARKERS = set(range(0xE1, 0xF0)) | {0xFE}


@cache
def processed(name: str) -> PhotoResult | EvidenceError:
    """Each corpus file is processed once per session; the tests share the result."""
    try:
        return process_photo(corpus_photo(name), now=NOW)
    except EvidenceError as exc:
        return exc


def result_of(photo: CorpusPhoto) -> PhotoResult:
    result = processed(photo.name)
    assert isinstance(result, PhotoResult), f"{photo.name} was refused: {result}"
    return result


def jpeg_markers(data: bytes) -> list[int]:
    """The marker of every segment before the entropy-coded data."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    markers, at = [], 2
    while at < len(data):
        assert data[at] == 0xFF, f"bad segment at {at}"
        marker = data[at + 1]
        markers.append(marker)
        if marker == 0xDA:  # start of scan: headers are over
            break
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        at += 2 + length
    return markers


def assert_clean_jpeg(data: bytes, size: tuple[int, int]) -> Image.Image:
    assert not METADATA_MARKERS & set(jpeg_markers(data))
    im = Image.open(io.BytesIO(data))
    assert im.format == "JPEG"
    assert im.size == size
    assert im.mode in ("RGB", "L")
    assert len(im.getexif()) == 0
    assert not {"exif", "icc_profile", "xmp", "comment", "photoshop"} & set(im.info)
    im.load()
    return im


def make_jpeg(size=(64, 48), color=(10, 200, 30), *, exif: Image.Exif | None = None, mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, "JPEG", quality=95, exif=exif.tobytes() if exif is not None else b"")
    return buffer.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares a size and holds no pixel data at all."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    small = (64, 64)
    a = a.convert("L").resize(small, Image.Resampling.BOX)
    b = b.convert("L").resize(small, Image.Resampling.BOX)
    return ImageStat.Stat(ImageChops.difference(a, b)).mean[0]


def preview_image(result: PhotoResult) -> Image.Image:
    return Image.open(io.BytesIO(result.preview))


# -- every photo of the corpus ----------------------------------------------------------------------


@pytest.mark.parametrize("photo", corpus_params(lambda p: p.folder != "broken_odd"))
def test_every_photo_gets_upright_derivatives_without_any_metadata(photo: CorpusPhoto):
    result = result_of(photo)
    facts = result.facts
    if photo.size:
        assert (facts.width, facts.height) == photo.size
    assert facts.format == photo.pillow_format
    preview = assert_clean_jpeg(result.preview, result.preview_size)
    thumbnail = assert_clean_jpeg(result.thumbnail, result.thumbnail_size)
    assert max(preview.size) == min(1280, max(facts.display_width, facts.display_height))
    assert max(thumbnail.size) == min(320, max(preview.size))
    # Both derivatives have the shape of the photo as displayed (orientation applied).
    display_ratio = facts.display_width / facts.display_height
    for derivative in (preview, thumbnail):
        assert derivative.width / derivative.height == pytest.approx(display_ratio, rel=0.02, abs=0.02)


@pytest.mark.parametrize("photo", corpus_params(lambda p: any(c.isdigit() for c in p.gps.split(" ")[0])
                                                and p.folder != "broken_odd"))
def test_no_derivative_carries_the_gps_position_or_device_identity(photo: CorpusPhoto):
    result = result_of(photo)
    facts = result.facts
    identifiers = [s.encode() for s in (*facts.serial_numbers, facts.make, facts.model) if s and len(s) >= 4]
    for data in (result.preview, result.thumbnail):
        assert b"GPS" not in data
        for identifier in identifiers:
            assert identifier not in data
        im = Image.open(io.BytesIO(data))
        assert len(im.getexif()) == 0
        assert not im.getexif().get_ifd(0x8825)


@pytest.mark.parametrize("photo", corpus_params(lambda p: p.name in (
    "large/mei__Issue_266.jpg", "avif/mei__Issue_649.avif", "webp/immich__denali.webp",
    "gps/ianare__87_OSError.jpg")))
def test_no_derivative_carries_a_serial_number(photo: CorpusPhoto):
    result = result_of(photo)
    assert result.facts.serial_numbers
    for data in (result.preview, result.thumbnail):
        for serial in result.facts.serial_numbers:
            assert serial.encode() not in data


@pytest.mark.parametrize("photo", corpus_params(lambda p: p.folder == "broken_odd"))
def test_broken_and_odd_files_are_refused_cleanly_or_processed(photo: CorpusPhoto):
    result = processed(photo.name)
    if "pillow_error=" in photo.notes and "gpsifd" not in photo.notes:
        # Pillow cannot open or decode these: they must be refused as damaged.
        assert isinstance(result, CorruptMedia), result
        assert result.detail and "damaged or truncated" in result.detail
    else:
        assert isinstance(result, PhotoResult), result
    with contextlib.suppress(EvidenceError):  # refusing is fine; any other exception fails the test
        read_facts(photo.path, now=NOW)


@pytest.mark.parametrize("photo", corpus_params(lambda p: p.folder != "broken_odd"))
def test_facts_agree_with_the_manifest(photo: CorpusPhoto):
    facts = result_of(photo).facts
    if photo.make_model:
        make, _, model = photo.make_model.partition("/")
        assert facts.make == make.strip()
        if model:
            assert facts.model == model.split("\\x00")[0].strip()
    position = photo.gps.split(" ")[0]
    if "," in position and "nan" not in position:
        lat, lon = (float(v) for v in position.split(","))
        if lat == 0 and lon == 0:
            assert facts.gps_lat is None and facts.gps_lon is None
        else:
            assert facts.gps_lat == pytest.approx(lat, abs=1e-4)
            assert facts.gps_lon == pytest.approx(lon, abs=1e-4)
    else:
        assert facts.gps_lat is None and facts.gps_lon is None
    if photo.datetime_original:
        expected = datetime.strptime(photo.datetime_original, "%Y:%m:%d %H:%M:%S")
        assert facts.captured_at is not None
        assert facts.captured_at.replace(tzinfo=None, microsecond=0) == expected
    # HEIF carries its rotation in the container; the manifest's tool did not read EXIF there.
    if photo.orientation is not None and facts.format != "HEIF":
        assert facts.orientation == photo.orientation


# -- facts: bad values become None ------------------------------------------------------------------


@pytest.mark.parametrize(("name", "expected"), [
    ("broken_odd/mei__Nikon_D5000.jpg", {"gps_lat": None, "gps_lon": None, "gps_alt": None,
                                         "captured_at": datetime(2011, 3, 12, 15, 36, 11)}),
    ("large/mei__Leica_T_Typ_701_.jpg", {"gps_lat": None, "gps_alt": None, "orientation": 8}),
    ("phones/mei__Samsung_GT-I9000_Galaxy_S_.jpg", {"gps_lat": None, "gps_lon": None, "gps_alt": None}),
    ("broken_odd/mei__FLIR_Vue_Pro_640.jpg", {"gps_lat": None, "gps_lon": None, "make": "FLIR"}),
    ("broken_odd/mei__FujiFilm_DX-5.jpg", {"captured_at": None, "make": "FUJIFILM"}),
    ("broken_odd/pillow__exif_gps.jpg", {"captured_at": None, "gps_time": None}),
    ("broken_odd/ianare__WWL__Polaroid__ION230.jpg", {"captured_at": None, "model": "ION230"}),
    ("phones/mei__Apple_iPhone_6.jpg", {"gps_time": None, "gps_lat": pytest.approx(51.762408, abs=1e-5)}),
    ("phones/mei__Apple_iPhone_4.jpg", {"gps_time": None, "gps_lon": pytest.approx(12.488833, abs=1e-5)}),
    ("gps/mei__Issue_173_dotnet_.jpg", {"gps_time": None, "gps_alt": None}),
    ("broken_odd/pillow__multiple_exif.jpg", {"width": 1, "height": 1}),
    ("broken_odd/pillow__exif_gps_typeerror.jpg", {"gps_lat": None}),
    ("broken_odd/ianare__30-type_error.jpg", {"width": 3872}),
    ("broken_odd/pillow__invalid-exif.jpg", {"has_exif": False}),
])
def test_damaged_or_implausible_exif_values_become_none(name, expected):
    facts = read_facts(corpus_photo(name), now=NOW)
    for field, value in expected.items():
        assert getattr(facts, field) == value, field


def test_a_capture_date_in_the_future_is_dropped_but_kept_once_it_has_passed():
    path = corpus_photo("broken_odd/ianare__WWL__Polaroid__ION230.jpg")  # DateTimeOriginal 2026:11:24
    assert read_facts(path, now=datetime(2026, 11, 21, tzinfo=UTC)).captured_at is None
    assert read_facts(path, now=datetime(2027, 1, 1, tzinfo=UTC)).captured_at == datetime(2026, 11, 24, 14, 41, 16)


def test_capture_time_carries_the_offset_the_camera_wrote():
    facts = read_facts(corpus_photo("phones/ianare__HMD_Nokia_8.3_5G.jpg"), now=NOW)
    assert facts.captured_at == datetime(2022, 8, 14, 14, 12, 31, tzinfo=timezone(timedelta(hours=3)))
    assert facts.captured_at_has_offset
    assert facts.gps_time == datetime(2022, 8, 14, 11, 12, 32, tzinfo=UTC)
    assert abs(facts.captured_at - facts.gps_time) < timedelta(seconds=5)


def test_subseconds_and_offset_come_from_their_own_tags():
    facts = read_facts(corpus_photo("heic/ianare__IMG_5195.HEIC"), now=NOW)
    assert facts.captured_at == datetime(2021, 4, 11, 15, 47, 53, 54000, tzinfo=timezone(timedelta(hours=-5)))


def test_capture_time_without_offset_is_naive_and_flagged():
    facts = read_facts(corpus_photo("gps/ianare__DSCN0021.jpg"), now=NOW)
    assert facts.captured_at == datetime(2008, 10, 22, 16, 38, 20)
    assert facts.captured_at.tzinfo is None
    assert not facts.captured_at_has_offset


def test_gps_time_is_utc_from_the_date_and_time_stamps():
    facts = read_facts(corpus_photo("phones/mei__HTC_Desire.jpg"), now=NOW)
    assert facts.gps_time == datetime(2011, 5, 6, 7, 59, 48, tzinfo=UTC)
    facts = read_facts(corpus_photo("gps/ianare__DSCN0021.jpg"), now=NOW)
    assert facts.gps_time == datetime(2008, 10, 23, 14, 36, 47, 230000, tzinfo=UTC)


def test_southern_and_western_positions_are_negative():
    assert read_facts(corpus_photo("gps/ianare__Kodak_CX7530.jpg")).gps_lat == pytest.approx(-0.3713, abs=1e-4)
    assert read_facts(corpus_photo("phones/mei__Nexus_4.jpg")).gps_lon == pytest.approx(-0.077332, abs=1e-5)
    guangzhou = read_facts(corpus_photo("heic/mei__IMG_1034.heic"))
    assert (guangzhou.gps_lat, guangzhou.gps_lon) == (pytest.approx(23.177917, abs=1e-5),
                                                      pytest.approx(113.394317, abs=1e-5))
    assert guangzhou.gps_accuracy_m == 65.0


def test_serial_numbers_are_collected_without_placeholder_zeros():
    assert read_facts(corpus_photo("large/mei__Issue_266.jpg")).serial_numbers == ("072024000973",)
    assert read_facts(corpus_photo("webp/immich__denali.webp")).serial_numbers == ("1070700342",)
    assert read_facts(corpus_photo("phones/mei__Nexus_4.jpg")).serial_numbers == ()


def test_facts_serialise_to_json():
    facts = read_facts(corpus_photo("phones/ianare__HMD_Nokia_8.3_5G.jpg"), now=NOW)
    data = json.loads(json.dumps(facts.as_json()))
    assert data["captured_at"] == "2022-08-14T14:12:31+03:00"
    assert data["gps_time"] == "2022-08-14T11:12:32+00:00"
    assert data["serial_numbers"] == []


def exif_with(gps: dict | None = None, exif_ifd: dict | None = None, **ifd0) -> Image.Exif:
    exif = Image.Exif()
    for tag, value in ifd0.items():
        exif[{"make": 0x010F, "model": 0x0110, "orientation": 0x0112}[tag]] = value
    if gps:
        exif.get_ifd(0x8825).update(gps)
    if exif_ifd:
        exif.get_ifd(0x8769).update(exif_ifd)
    return exif


def dms(degrees, minutes=0, seconds=0):
    return (IFDRational(degrees), IFDRational(minutes), IFDRational(seconds))


@pytest.mark.parametrize(("gps", "expected"), [
    ({1: "N", 2: dms(30, 15), 3: "E", 4: dms(120, 30)}, (30.25, 120.5)),
    ({1: "S", 2: dms(30, 15), 3: "W", 4: dms(120, 30)}, (-30.25, -120.5)),
    ({2: dms(30, 15), 3: "E", 4: dms(120, 30)}, (None, None)),  # no hemisphere
    ({1: "N", 2: dms(95), 3: "E", 4: dms(120)}, (None, None)),  # beyond the pole
    ({1: "N", 2: dms(30, 75), 3: "E", 4: dms(120)}, (None, None)),  # 75 minutes
    ({1: "N", 2: dms(30), 3: "E", 4: dms(181)}, (None, None)),
    ({1: "N", 2: dms(30), 3: "E"}, (None, None)),  # no longitude
    ({1: "N", 2: (IFDRational(0, 0),) * 3, 3: "E", 4: dms(120)}, (None, None)),  # 0/0
    ({1: "N", 2: dms(0), 3: "E", 4: dms(0)}, (None, None)),  # null island
    ({1: "N", 2: dms(0), 3: "E", 4: dms(9, 30)}, (0.0, 9.5)),  # the equator is a real place
    ({1: "N", 2: (IFDRational(3025, 100),), 3: "E", 4: (IFDRational(1205, 10),)}, (30.25, 120.5)),
])
def test_gps_position_is_validated(gps, expected):
    facts = read_facts(make_jpeg(exif=exif_with(gps=gps)))
    assert (facts.gps_lat, facts.gps_lon) == expected


def test_altitude_below_sea_level_and_accuracy_are_read():
    gps = {1: "N", 2: dms(31, 30), 3: "E", 4: dms(35, 30), 5: b"\x01", 6: IFDRational(420), 31: IFDRational(12)}
    facts = read_facts(make_jpeg(exif=exif_with(gps=gps)))
    assert facts.gps_alt == -420.0
    assert facts.gps_accuracy_m == 12.0


@pytest.mark.parametrize(("exif_ifd", "expected", "has_offset"), [
    ({0x9003: "2024:05:06 07:08:09", 0x9011: "+08:00"},
     datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone(timedelta(hours=8))), True),
    ({0x9003: "2024:05:06 07:08:09", 0x9010: "-03:30"},
     datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone(-timedelta(hours=3, minutes=30))), True),
    ({0x9003: "2024:05:06 07:08:09", 0x9011: "+25:00"}, datetime(2024, 5, 6, 7, 8, 9), False),
    ({0x9003: "2024:05:06 07:08:09", 0x9291: "5"}, datetime(2024, 5, 6, 7, 8, 9, 500000), False),
    ({0x9003: "1970:01:01 00:00:00"}, None, False),
    ({0x9003: "2024:02:30 10:00:00"}, None, False),
    ({0x9003: "    :  :     :  :  "}, None, False),
    ({0x9003: "garbage", 0x9004: "2023:01:02 03:04:05"}, datetime(2023, 1, 2, 3, 4, 5), False),
    ({0x9003: "2026:11:23 09:00:00", 0x9011: "+08:00"}, None, False),  # ahead of NOW by more than a day
])
def test_capture_time_is_validated(exif_ifd, expected, has_offset):
    facts = read_facts(make_jpeg(exif=exif_with(exif_ifd=exif_ifd)), now=NOW)
    assert facts.captured_at == expected
    assert facts.captured_at_has_offset is has_offset


def test_text_fields_stop_at_nul_and_drop_control_characters():
    facts = read_facts(make_jpeg(exif=exif_with(make="Huawei\x00junk", model=" P30\x07 Pro ")))
    assert (facts.make, facts.model) == ("Huawei", "P30 Pro")


# -- orientation ----------------------------------------------------------------------------------------


ORIENTED = corpus_params(lambda p: p.folder == "orientation" or p.name in (
    "webp/mei__Issue_473_Java_.webp", "webp/pillow__hopper_orientation_6.webp",
    "png/pillow__exif_imagemagick_orientation.png", "phones/mei__Apple_iPhone_5.jpg",
    "phones/mei__Blackberry_Z10.jpg", "large/exifpy__Xiaomi_Mi_9T_KeyError.jpg"))


@pytest.mark.parametrize("photo", ORIENTED)
def test_orientation_is_applied_exactly_once(photo: CorpusPhoto):
    result = result_of(photo)
    facts = result.facts
    if facts.orientation in (5, 6, 7, 8):
        assert (facts.display_width, facts.display_height) == (facts.height, facts.width)
    else:
        assert (facts.display_width, facts.display_height) == (facts.width, facts.height)
    with Image.open(photo.path) as original:
        upright = ImageOps.exif_transpose(original).convert("RGB")  # Pillow's own reading, as the oracle
        if icc := original.info.get("icc_profile"):
            # The derivative is sRGB; these samples are tagged Apple "Generic RGB" (gamma 1.8).
            upright = ImageCms.profileToProfile(
                upright, ImageCms.ImageCmsProfile(io.BytesIO(icc)), ImageCms.createProfile("sRGB"))
        method = {2: 0, 3: 3, 4: 1, 5: 5, 6: 4, 7: 6, 8: 2}.get(facts.orientation or 1)
        twice = upright.transpose(Image.Transpose(method)) if method is not None else upright
    preview = preview_image(result)
    assert preview.size == photo_module._fit(upright.size, 1280)
    assert mean_difference(preview, upright) < 4
    if method is not None:
        assert mean_difference(preview, twice.resize(preview.size)) > 3 * mean_difference(preview, upright) + 4


def test_every_orientation_sample_of_one_scene_comes_out_the_same():
    reference = preview_image(result_of(photo_for("orientation/ianare__landscape_1.jpg")))
    for n in (2, 4, 5, 7, 8):
        preview = preview_image(result_of(photo_for(f"orientation/ianare__landscape_{n}.jpg")))
        assert preview.size == reference.size == (600, 450)
        assert mean_difference(preview, reference) < 3
        assert mean_difference(preview, reference.transpose(Image.Transpose.ROTATE_180)) > 20
    portraits = [preview_image(result_of(photo_for(f"orientation/ianare__portrait_{n}.jpg"))) for n in (2, 3, 5, 6, 8)]
    for a, b in itertools.combinations(portraits, 2):
        assert a.size == b.size == (450, 600)
        assert mean_difference(a, b) < 3


def test_heif_rotation_from_the_container_is_not_applied_again():
    path = corpus_photo("heic/ianare__iphone_13_pro_max.HEIC")  # irot 270 and EXIF Orientation 6
    result = result_of(photo_for("heic/ianare__iphone_13_pro_max.HEIC"))
    assert result.facts.orientation == 6
    assert (result.facts.width, result.facts.height) == (3024, 4032)
    assert (result.facts.display_width, result.facts.display_height) == (3024, 4032)
    assert result.preview_size == (960, 1280)
    decoded = pillow_heif.open_heif(path).to_pillow()  # libheif applies irot
    assert mean_difference(preview_image(result), decoded.resize((960, 1280))) < 4


def photo_for(name: str) -> CorpusPhoto:
    for param in corpus_params(lambda p: p.name == name):
        return param.values[0]
    corpus_photo(name)  # fails, naming where it looked
    raise LookupError(name)


# -- the original is only read -------------------------------------------------------------------------


def test_processing_never_modifies_the_original(tmp_path):
    source = corpus_photo("phones/mei__Blackberry_Z10.jpg")  # orientation 6, EXIF, maker notes
    copy = tmp_path / "evidence.jpg"
    copy.write_bytes(source.read_bytes())
    before = (hashlib.sha256(copy.read_bytes()).hexdigest(), copy.stat().st_mtime_ns)
    process_photo(copy)
    with open(copy, "rb") as handle:
        process_photo(handle)
    data = bytearray(copy.read_bytes())
    process_photo(bytes(data))
    assert (hashlib.sha256(copy.read_bytes()).hexdigest(), copy.stat().st_mtime_ns) == before
    assert bytes(data) == copy.read_bytes()


def test_a_stream_that_cannot_seek_is_accepted():
    data = corpus_photo("gps/ianare__DSCN0021.jpg").read_bytes()

    class Pipe(io.RawIOBase):
        def __init__(self):
            self._inner = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, buffer):
            chunk = self._inner.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    assert process_photo(io.BufferedReader(Pipe())).facts.make == "NIKON"


# -- refusals -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), [(8000, 8000), (10000, 10000), (30000, 30000)])
def test_a_header_declaring_too_many_pixels_is_refused_before_decoding(monkeypatch, width, height):
    # 64 MP is over our limit only; 100 MP also trips Pillow's warning, 900 MP its error.
    def no_decoding(self):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(TooManyPixels) as refused:
        process_photo(png_header(width, height))
    assert refused.value.max_pixels == 50_000_000
    # Our limit and the declared size, even past Pillow's own limit (which once answered instead).
    assert (refused.value.width, refused.value.height) == (width, height)
    assert f"{width}x{height}" in refused.value.detail and "at most 50000000 " in refused.value.detail


def test_the_pixel_limit_applies_to_real_photos():
    with pytest.raises(TooManyPixels) as refused:
        process_photo(corpus_photo("large/mei__Issue_525.jpg"), max_pixels=10_000_000)
    assert (refused.value.width, refused.value.height) == (4032, 3024)
    assert "4032x3024" in refused.value.detail


def test_reading_facts_of_a_huge_image_does_not_decode_it():
    facts = read_facts(png_header(10000, 10000))
    assert (facts.width, facts.height) == (10000, 10000)
    huge = read_facts(png_header(30000, 30000))  # beyond what Image.open accepts: only a header is read
    assert (huge.width, huge.height) == (30000, 30000)


def test_reading_facts_under_a_limit_refuses_a_larger_header_naming_its_size():
    with pytest.raises(TooManyPixels) as refused:
        read_facts(png_header(30000, 30000), max_pixels=250_000_000)
    assert (refused.value.max_pixels, refused.value.width, refused.value.height) == (250_000_000, 30000, 30000)
    assert read_facts(png_header(15000, 15000), max_pixels=250_000_000).width == 15000  # over Pillow's, under ours


@pytest.mark.parametrize("data", [
    pytest.param(b"%PDF-1.7\n" + bytes(100), id="pdf"),
    pytest.param(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00isommp42" + bytes(64), id="mp4"),
    pytest.param(b"GIF89a" + bytes(64), id="gif"),
    pytest.param(b"", id="empty"),
])
def test_content_that_is_not_a_photo_is_refused_as_unsupported(data):
    with pytest.raises(UnsupportedMedia):
        process_photo(data)
    with pytest.raises(UnsupportedMedia):
        read_facts(data)


@pytest.mark.parametrize("cut", [20, 200, 2000])
def test_a_truncated_upload_is_refused_as_corrupt(cut):
    data = corpus_photo("gps/ianare__DSCN0021.jpg").read_bytes()
    with pytest.raises(CorruptMedia):
        process_photo(data[: len(data) // 2] if cut == 2000 else data[:cut])


@pytest.mark.parametrize("name", ["heic/immich__IMG_2682.heic", "heic/mei__exif-at-eof.heic",
                                  "heic/immich__samsung-one-ui-6.heic", "avif/mei__Issue_649.avif",
                                  "webp/mei__webpvp8x.webp", "png/mei__Issue_356_dotnet_.png",
                                  "large/mei__Issue_525.jpg"])
@pytest.mark.parametrize("kept", [0.3, 0.9, 0.999])
def test_an_upload_cut_short_is_refused_in_every_format(name, kept):
    # libheif alone would decode a cut HEIC, painting the missing tiles flat green.
    data = corpus_photo(name).read_bytes()
    with pytest.raises(CorruptMedia):
        process_photo(data[: int(len(data) * kept)])


def test_thumbnail_larger_than_preview_is_a_programming_error():
    with pytest.raises(ValueError):
        process_photo(make_jpeg(), thumb_px=2000, preview_px=1000)


# -- cost: decode once, at the smallest scale that serves -----------------------------------------------


def test_jpeg_is_decoded_once_at_the_smallest_dct_scale_that_covers_the_preview(monkeypatch):
    decoded_sizes = []
    real_load = ImageFile.ImageFile.load

    def counting_load(self):
        if self.tile:  # a real decode, not a no-op reload
            decoded_sizes.append(self.size)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counting_load)
    result = process_photo(corpus_photo("large/mei__Issue_525.jpg"))  # 4032x3024
    assert decoded_sizes == [(2016, 1512)]  # 1/2: 1/4 would be 1008 wide, under 1280
    assert result.preview_size == (1280, 960)


def test_heic_uses_an_embedded_thumbnail_when_it_covers_the_preview(monkeypatch):
    sizes = []
    real_draft = HeifImageFile.draft

    def spying_draft(self, mode, size):
        chosen = real_draft(self, mode, size)
        sizes.append((size, chosen and self.size))
        return chosen

    monkeypatch.setattr(HeifImageFile, "draft", spying_draft)
    path = corpus_photo("heic/immich__IMG_2682.heic")  # 4032x3024 with a 320x240 thumbnail
    small = process_photo(path, preview_px=320, thumb_px=160)
    assert sizes[-1] == ((320, 240), (320, 240))  # the thumbnail was decoded, not the image
    assert small.preview_size == (320, 240)
    full = process_photo(path)
    assert sizes[-1] == ((1280, 960), None)  # no thumbnail that large: one full decode
    assert full.preview_size == (1280, 960)
    assert hash_distance(small.perceptual_hash, full.perceptual_hash) <= SAME_PHOTO_MAX_DISTANCE


@pytest.mark.parametrize("name", ["large/mei__Issue_525.jpg", "heic/immich__IMG_2682.heic",
                                  "avif/libheif__example.avif", "webp/immich__denali.webp"])
def test_reading_facts_decodes_no_pixels(monkeypatch, name):
    def no_decoding(self):
        raise AssertionError("pixels were decoded")

    for decoder in (ImageFile.ImageFile, HeifImageFile, AvifImageFile, WebPImageFile):
        monkeypatch.setattr(decoder, "load", no_decoding)
    facts = read_facts(corpus_photo(name))
    assert facts.width > 0 and facts.height > 0


def test_reading_a_pngs_facts_decodes_its_pixels_only_when_metadata_follows_them(monkeypatch):
    # PngImageFile.getexif decodes the whole image whenever the header has no eXIf chunk, in case
    # one follows the pixel data: a 49 MP PNG took 200 MB at receipt, outside any decode slot.
    # (Raising from load, as above, would not show it: damaged EXIF reads as none.)
    loads = []
    load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: loads.append(self.format) or load(self))
    buffer = io.BytesIO()
    Image.new("RGB", (2000, 1500), (10, 20, 30)).save(buffer, "PNG")
    for data in (buffer.getvalue(), corpus_photo("png/immich__density_plot.png"),
                 corpus_photo("png/mei__Issue_356_dotnet_.png")):
        assert read_facts(data).width > 0
    assert loads == []
    # Metadata after the pixels (an eXIf chunk after IDAT) is still read: only then is the image decoded.
    late = read_facts(corpus_photo("png/pillow__exif.png"))
    assert late.has_exif and loads == ["PNG"]


# -- pixels: modes, transparency, colour ---------------------------------------------------------------


def encode(im: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, fmt, **params)
    return buffer.getvalue()


def test_transparent_areas_become_white():
    clear = Image.new("RGBA", (100, 80), (255, 0, 0, 0))
    clear.paste((0, 0, 255, 255), (0, 0, 50, 80))
    result = process_photo(encode(clear, "PNG"))
    preview = assert_clean_jpeg(result.preview, (100, 80)).convert("RGB")
    r, g, b = preview.getpixel((75, 40))
    assert min(r, g, b) > 245
    r, g, b = preview.getpixel((25, 40))
    assert b > 200 and r < 40


def test_a_palette_image_with_transparency_is_flattened():
    im = Image.new("P", (40, 40), 0)
    im.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    im.paste(1, (0, 0, 20, 40))
    result = process_photo(encode(im, "PNG", transparency=0))
    preview = assert_clean_jpeg(result.preview, (40, 40)).convert("RGB")
    assert min(preview.getpixel((30, 20))) > 245
    assert preview.getpixel((10, 20))[0] > 200


def test_sixteen_bit_greyscale_is_scaled_not_clipped():
    gradient = Image.linear_gradient("L").resize((256, 64)).convert("I").point(lambda v: v * 257)
    result = process_photo(encode(gradient.convert("I;16"), "PNG"))
    preview = assert_clean_jpeg(result.preview, (256, 64))
    low, high = preview.getextrema()
    assert low < 20 and high > 235
    assert 100 < ImageStat.Stat(preview).mean[0] < 155


def test_cmyk_jpeg_becomes_rgb():
    result = process_photo(make_jpeg((80, 60), (0, 255, 255, 0), mode="CMYK"))  # pure red in CMYK
    r, g, b = assert_clean_jpeg(result.preview, (80, 60)).convert("RGB").getpixel((40, 30))
    assert r > 200 and g < 60 and b < 60


def display_p3_profile() -> bytes:
    with Image.open(corpus_photo("heic/mei__IMG_1034.heic")) as im:
        icc = im.info["icc_profile"]
    assert "P3" in ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
    return icc


def test_wide_gamut_colours_are_converted_to_srgb_and_the_profile_dropped():
    colour = (60, 180, 60)  # a P3 green: outside sRGB's saturation at these values
    p3 = process_photo(encode(Image.new("RGB", (64, 64), colour), "PNG", icc_profile=display_p3_profile()))
    plain = process_photo(encode(Image.new("RGB", (64, 64), colour), "PNG"))
    p3_pixel = assert_clean_jpeg(p3.preview, (64, 64)).getpixel((32, 32))
    plain_pixel = assert_clean_jpeg(plain.preview, (64, 64)).getpixel((32, 32))
    assert all(abs(a - b) <= 3 for a, b in zip(plain_pixel, colour, strict=True))
    # In sRGB the same green needs a lower red and blue: it is more saturated.
    assert p3_pixel[0] < colour[0] - 15 and p3_pixel[2] < colour[2] - 15


def test_an_srgb_profile_leaves_colours_alone():
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    colour = (60, 180, 60)
    result = process_photo(encode(Image.new("RGB", (64, 64), colour), "PNG", icc_profile=srgb))
    pixel = assert_clean_jpeg(result.preview, (64, 64)).getpixel((32, 32))
    assert all(abs(a - b) <= 3 for a, b in zip(pixel, colour, strict=True))


# -- perceptual hash -------------------------------------------------------------------------------------

HASHED = ["large/mei__Samsung_SM-G935L_Galaxy_S7_Edge_.jpg", "phones/mei__Apple_iPhone_5.jpg",
          "heic/mei__IMG_1034.heic", "png/immich__density_plot.png", "webp/immich__denali.webp",
          "gps/ianare__DSCN0021.jpg", "phones/mei__Blackberry_Z10.jpg", "large/immich__craft-beer.jpg",
          "noexif/mei__Issue_131.jpg", "phones/mei__Nexus_4.jpg", "avif/libheif__example.avif"]


@pytest.mark.parametrize("name", HASHED)
def test_the_same_photo_re_encoded_or_resized_keeps_its_perceptual_hash(name):
    original = result_of(photo_for(name))
    with Image.open(corpus_photo(name)) as im:
        exif = im.info.get("exif", b"")  # keep the orientation, as a re-sent photo would
        im = im.convert("RGB")
        variants = [encode(im, "JPEG", quality=q, exif=exif) for q in (95, 40)]
        variants.append(encode(im.resize((im.width // 3, im.height // 3)), "JPEG", quality=70, exif=exif))
    for data in variants:
        distance = hash_distance(original.perceptual_hash, process_photo(data).perceptual_hash)
        # dHash bits flip only where neighbouring cells are near-ties: 0 for most, rarely 1-2.
        assert distance <= 2


def test_different_photos_have_distant_perceptual_hashes():
    hashes = {name: result_of(photo_for(name)).perceptual_hash for name in HASHED}
    for (a, hash_a), (b, hash_b) in itertools.combinations(hashes.items(), 2):
        assert hash_distance(hash_a, hash_b) > 2 * SAME_PHOTO_MAX_DISTANCE, (a, b)


def test_the_signed_form_of_the_hash_fits_a_bigint_and_compares_alike():
    hashes = [result_of(photo_for(name)) for name in HASHED]
    for result in hashes:
        assert -(1 << 63) <= result.perceptual_hash_signed < (1 << 63)
        assert 0 <= result.perceptual_hash < (1 << 64)
    for a, b in itertools.combinations(hashes, 2):
        assert hash_distance(a.perceptual_hash_signed, b.perceptual_hash_signed) == hash_distance(
            a.perceptual_hash, b.perceptual_hash)


def test_processing_a_photo_does_not_touch_process_wide_pillow_settings():
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    process_photo(corpus_photo("broken_odd/pillow__exif_gps.jpg"))
    with pytest.raises(CorruptMedia):
        process_photo(corpus_photo("broken_odd/pillow__truncated_jpeg.jpg"))
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    assert Image.MAX_IMAGE_PIXELS == 89_478_485  # Pillow's default, untouched


#: How each kind of process that derives photos sets itself up, run in a fresh interpreter: glibc's
#: allocator state and Pillow's buffers are per process.
PROCESS_SET_UPS = {
    "bare": "",
    # cli derive
    "worker": "from evidence.memory import keep_image_buffers\n"
              "from evidence.photo import keep_freed_image_memory\n"
              "keep_image_buffers()\n"
              "assert keep_freed_image_memory()\n",
    # a web worker: what create_app does to the process, glibc's allocator left as it comes
    "web": "from api import create_app\n"
           "create_app({'DATABASE_URL': 'sqlite://'})\n",
}


@cache
def _third_photo_in(process: str) -> dict:
    """The derivatives of a 12 MP JPEG processed three times in a fresh interpreter set up as ``process``,
    and the minor page faults of the third time (the second still settles the kept blocks' sizes)."""
    import subprocess
    import sys
    import textwrap

    code = PROCESS_SET_UPS[process] + textwrap.dedent(f"""
        import hashlib, json, resource
        from evidence.photo import process_photo
        data = open({str(corpus_photo("large/mei__Issue_525.jpg"))!r}, "rb").read()
        process_photo(data)
        process_photo(data)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        result = process_photo(data)
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
        print(json.dumps({{"faults": faults, "hash": result.perceptual_hash,
                          "thumbnail": hashlib.sha256(result.thumbnail).hexdigest(),
                          "preview": hashlib.sha256(result.preview).hexdigest()}}))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=str(Path(photo_module.__file__).resolve().parents[1]))
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the faults counted are glibc's mmap threshold's")
@pytest.mark.parametrize("process", ["worker", "web"])
def test_a_process_that_derives_does_not_fault_the_buffers_in_again_for_the_next_photo(process):
    bare, kept = _third_photo_in("bare")["faults"], _third_photo_in(process)["faults"]
    # About 6,000 faults (the 12 MB half-scale decode, the resize's intermediate and the preview,
    # every photo) against a handful: the web worker's first views as much as the derive worker.
    assert bare > 2000 and kept < bare / 10, (bare, kept)


def test_a_first_view_in_a_web_worker_makes_the_same_derivatives_as_the_derive_worker():
    made = {process: {k: v for k, v in _third_photo_in(process).items() if k != "faults"}
            for process in PROCESS_SET_UPS}
    assert made["web"] == made["worker"] == made["bare"]


def test_pillows_kept_image_buffers_are_bounded_and_leave_the_images_alone():
    from evidence import memory

    memory.keep_image_buffers()
    assert Image.core.get_block_size() * Image.core.get_blocks_max() == 32 << 20
    result = process_photo(corpus_photo("large/mei__Issue_525.jpg"), now=NOW)
    assert 0 < Image.core.get_stats()["blocks_cached"] <= memory.IMAGE_BLOCKS_KEPT
    assert result.preview_size == (1280, 960)
    # Reused blocks hold the last photo's pixels: nothing may show through in the next one.
    again = assert_clean_jpeg(process_photo(make_jpeg((1280, 960), (10, 200, 30))).preview, (1280, 960))
    assert all(abs(lo - value) <= 3 and abs(hi - value) <= 3
               for (lo, hi), value in zip(again.getextrema(), (10, 200, 30), strict=True)), again.getextrema()


# -- derivatives of full-size phone photos against a reference ------------------------------------------


def psnr(a: Image.Image, b: Image.Image) -> float:
    """Peak signal-to-noise ratio of two RGB images of one size, in dB."""
    histogram = ImageChops.difference(a.convert("RGB"), b.convert("RGB")).histogram()
    squared = sum(count * (level % 256) ** 2 for level, count in enumerate(histogram))
    return 99.0 if squared == 0 else 10 * math.log10(255**2 * a.width * a.height * 3 / squared)


def colour_error(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference of the channels at 32 x 32, where resampling and JPEG noise average out."""
    small = [im.convert("RGB").resize((32, 32), Image.Resampling.BOX) for im in (a, b)]
    return sum(ImageStat.Stat(ImageChops.difference(*small)).mean) / 3


def reference(original: Image.Image, icc: bytes | None, size: tuple[int, int]) -> Image.Image:
    """What the derivative should look like, the slow way: every pixel decoded, Pillow's own
    exif_transpose, the profile converted to sRGB, then a LANCZOS resize."""
    upright = ImageOps.exif_transpose(original).convert("RGB")
    if icc:
        upright = ImageCms.profileToProfile(upright, ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                                            ImageCms.createProfile("sRGB"))
    return upright.resize(size, Image.Resampling.LANCZOS)


@cache
def p3_rotated_12mp() -> bytes:
    """A 12 MP phone photo re-encoded as an iPhone writes one: Display P3 and EXIF orientation 6, its
    colours saturated so that a missed conversion shows."""
    with Image.open(corpus_photo("large/mei__Issue_525.jpg")) as im:
        exif = Image.Exif()
        exif[0x0112] = 6
        vivid = ImageEnhance.Color(im.convert("RGB")).enhance(2.5)
        return encode(vivid, "JPEG", quality=92, icc_profile=display_p3_profile(), exif=exif.tobytes())


TWELVE_MP = ["large/mei__Issue_525.jpg", "large/exifpy__Xiaomi_Mi_9T_KeyError.jpg",  # the bench's files
             "large/ianare__42_IndexError.jpg", "large/mei__Samsung_SM-G935L_Galaxy_S7_Edge_.jpg",
             "large/mei__Leica_T_Typ_701_.jpg", "phones/mei__Samsung_GT-I9100_Galaxy_SII_.jpg",
             "phones/mei__Apple_iPhone_5.jpg", "p3-rotated"]


@pytest.mark.parametrize("name", TWELVE_MP)
def test_derivatives_of_a_scaled_decode_match_a_full_decode_upright_and_in_srgb(name):
    data = p3_rotated_12mp() if name == "p3-rotated" else corpus_photo(name).read_bytes()
    result = process_photo(data, now=NOW)
    with Image.open(io.BytesIO(data)) as original:
        icc = original.info.get("icc_profile")
        preview = assert_clean_jpeg(result.preview, result.preview_size)
        thumbnail = assert_clean_jpeg(result.thumbnail, result.thumbnail_size)
        expected = reference(original, icc, preview.size)
        assert preview.size == photo_module._fit(ImageOps.exif_transpose(original).size, 1280)
        assert thumbnail.size == photo_module._fit(preview.size, 320)
        # Measured 33-42 dB for the preview, 28-39 dB for the thumbnail (BOX and BICUBIC against
        # LANCZOS, and the JPEG encoding): a missed rotation or colour conversion costs far more.
        assert psnr(preview, expected) >= 30
        assert psnr(thumbnail, reference(original, icc, thumbnail.size)) >= 26
        assert hash_distance(result.perceptual_hash, photo_module._dhash(expected)) <= 2
        if name == "p3-rotated":
            unconverted = reference(original, None, preview.size)
            converted_error, unconverted_error = colour_error(preview, expected), colour_error(preview, unconverted)
            # Measured 0.56 against 2.97: the conversion brings the colours to the reference's.
            assert converted_error < 1 < 2 < unconverted_error, (converted_error, unconverted_error)
            assert hash_distance(result.perceptual_hash, photo_module._dhash(
                expected.transpose(Image.Transpose.ROTATE_90))) > SAME_PHOTO_MAX_DISTANCE
