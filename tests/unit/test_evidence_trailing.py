"""Bytes after the end of a photo: a ZIP appended to a real JPEG, PNG, WebP or HEIC is found and measured."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest

from evidence.photo import read_facts
from evidence.sniff import sniff
from evidence.trailing import trailing
from tests.evidence_fixtures import corpus_params, corpus_photo

#: The corpus photos whose phones leave bytes after the image, and what those are.
CAMERA_TRAILERS = {
    "large/mei__Samsung_SM-G935L_Galaxy_S7_Edge_.jpg": "samsung trailer (SEF)",
    "phones/mei__Motorola_XT1068_Moto_G_.jpg": "zero padding",
}
#: A BlackBerry Z10 leaves 36 KB of its own binary after the EOI: unknown, so it is reported.
UNKNOWN_TRAILER = "phones/mei__Blackberry_Z10.jpg"


def a_zip(payload: bytes = b"exfiltrated " * 200) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("secret.txt", payload)
        # Bytes that look like a JPEG's end and a PNG's end, inside the archive: never taken for them.
        archive.writestr("markers.bin", b"\xff\xd9" * 50 + b"IEND\xaeB`\x82")
    return out.getvalue()


def measured(data: bytes):
    media = sniff(data[:64])
    return trailing(io.BytesIO(data), media.mime)


@pytest.mark.parametrize("photo", corpus_params(lambda p: p.folder != "broken_odd"))
def test_a_photo_as_the_camera_wrote_it_has_no_trailing_data(photo):
    found = measured(photo.path.read_bytes())
    if photo.name in CAMERA_TRAILERS:
        assert found.camera_trailer and found.looks_like == CAMERA_TRAILERS[photo.name]
    elif photo.name == UNKNOWN_TRAILER:
        assert not found.camera_trailer and found.size == 36864
    else:
        assert found is None


@pytest.mark.parametrize("name", [
    "gps/ianare__DSCN0021.jpg",                              # baseline JPEG with an EXIF thumbnail
    "phones/mei__Sony_D5403_Xperia_Z2_.jpg",                 # a phone's 3.7 MB JPEG
    "png/pillow__exif_imagemagick_orientation.png",
    "webp/mei__HTC_Desire.webp",
    "heic/ianare__iphone_13_pro_max.HEIC",
])
def test_a_zip_appended_to_a_real_photo_is_measured_exactly_and_still_unzips(name):
    photo = corpus_photo(name).read_bytes()
    archive = a_zip()
    polyglot = photo + archive
    with zipfile.ZipFile(io.BytesIO(polyglot)) as opened:  # a real polyglot: unzip reads it
        assert opened.read("secret.txt").startswith(b"exfiltrated")
    found = measured(polyglot)
    assert (found.size, found.at, found.looks_like, found.camera_trailer) == (len(archive), len(photo), "zip", False)
    read_facts(io.BytesIO(polyglot))  # and it is still the photo: its header reads


def test_a_zip_slipped_before_a_samsung_trailer_is_not_taken_for_the_trailer():
    photo = corpus_photo("large/mei__Samsung_SM-G935L_Galaxy_S7_Edge_.jpg").read_bytes()
    end = len(photo) - measured(photo).size
    forged = photo[:end] + a_zip() + photo[end:]
    found = measured(forged)
    assert not found.camera_trailer and found.at == end and found.looks_like == "zip"


def with_mp_index(primary: bytes, second: bytes) -> bytes:
    """An MPO-like JPEG: ``primary`` with an APP2 "MPF" index (little-endian TIFF, one IFD, the MPEntry
    tag 0xB002) declaring ``second``, which follows its EOI. Offsets count from the MP header, the
    TIFF header at byte 10 (SOI, the APP2 marker and length, "MPF\\0")."""
    def app2(offset: int) -> bytes:
        entries = (struct.pack("<IIIHH", 0x20030000, 0, 0, 0, 0)
                   + struct.pack("<IIIHH", 0, len(second), offset, 0, 0))
        ifd = struct.pack("<H", 1) + struct.pack("<HHII", 0xB002, 7, len(entries), 8 + 2 + 12 + 4) + b"\0" * 4
        tiff = b"II*\x00" + struct.pack("<I", 8) + ifd + entries
        return b"\xff\xe2" + struct.pack(">H", 2 + 4 + len(tiff)) + b"MPF\x00" + tiff

    first_length = len(primary) + len(app2(0))
    return primary[:2] + app2(first_length - 10) + primary[2:] + second


def test_images_a_multi_picture_index_declares_are_part_of_the_file():
    """An MPO, or an Ultra HDR photo with its gain map: a second image after the first EOI, declared."""
    primary = corpus_photo("gps/ianare__Kodak_CX7530.jpg").read_bytes()
    second = corpus_photo("noexif/mei__Photoshop_2_.jpg").read_bytes()
    assert measured(primary + second).looks_like == "jpeg"  # undeclared, it is trailing data
    assert measured(with_mp_index(primary, second)) is None
    found = measured(with_mp_index(primary, second) + a_zip())
    assert found.looks_like == "zip" and found.at == len(with_mp_index(primary, second))
