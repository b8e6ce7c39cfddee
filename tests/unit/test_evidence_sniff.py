"""Content sniffing: the type comes from the bytes, never from the name."""

from __future__ import annotations

import struct

import pytest

from evidence import sniff as s
from evidence.photo_open import PILLOW_FORMATS
from evidence.sniff import SNIFF_BYTES, sniff
from tests.evidence_fixtures import CorpusPhoto, corpus_params, corpus_photo


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x02\x00" + b"".join(compatible)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body + b"\x00\x00\x00\x08free"


def ogg_first_page(packet: bytes) -> bytes:
    # 27-byte page header with one segment, then the lacing value and the packet.
    header = b"OggS" + b"\x00\x02" + bytes(8) + b"\x01\x00\x00\x00" + bytes(4) + bytes(4) + b"\x01"
    return header + bytes([len(packet)]) + packet


def ebml(doctype: bytes) -> bytes:
    return (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08"
            b"\x42\x82" + bytes([0x80 | len(doctype)]) + doctype + b"\x42\x87\x81\x04\x42\x85\x81\x02")


SIGNATURES = [
    pytest.param(b"\xff\xd8\xff\xe1\x00\x10Exif\x00\x00", s.JPEG, id="jpeg"),
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", s.PNG, id="png"),
    pytest.param(b"RIFF\x24\x00\x00\x00WEBPVP8 ", s.WEBP, id="webp"),
    pytest.param(ftyp(b"heic", b"mif1", b"heic"), s.HEIC, id="heic"),
    pytest.param(ftyp(b"mif1", b"mif1", b"heic"), s.HEIC, id="mif1-heic"),
    pytest.param(ftyp(b"mif1", b"mif1", b"miaf"), s.HEIF, id="mif1-generic"),
    pytest.param(ftyp(b"msf1", b"msf1", b"hevc"), s.HEIC_SEQUENCE, id="msf1-hevc"),
    pytest.param(ftyp(b"avif", b"avif", b"mif1", b"miaf"), s.AVIF, id="avif"),
    pytest.param(ftyp(b"mif1", b"mif1", b"avif"), s.AVIF, id="mif1-avif"),
    pytest.param(ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41"), s.MP4, id="mp4-isom"),
    pytest.param(ftyp(b"mp42", b"isom", b"mp42"), s.MP4, id="mp4-mp42"),
    pytest.param(ftyp(b"qt  ", b"qt  "), s.QUICKTIME, id="mov"),
    pytest.param(b"\x00\x00\x00\x6cmoov\x00\x00\x00\x6cmvhd", s.QUICKTIME, id="mov-without-ftyp"),
    pytest.param(ftyp(b"3gp4", b"isom", b"3gp4"), s.THREE_GPP, id="3gp"),
    pytest.param(ftyp(b"3g2a", b"3g2a"), s.THREE_GPP2, id="3g2"),
    pytest.param(ftyp(b"M4A ", b"M4A ", b"mp42", b"isom"), s.M4A, id="m4a"),
    pytest.param(b"#!AMR\n\x3c\x91\x17\x16\xbe\x66\x78\x00", s.AMR, id="amr"),
    pytest.param(b"#!AMR-WB\n\x04\x10\x20\x00", s.AMR_WB, id="amr-wb"),
    pytest.param(b"\xff\xf1\x50\x80\x02\x1f\xfc\x21\x00", s.AAC, id="aac-adts"),
    pytest.param(b"ID3\x04\x00\x00\x00\x00\x01\x00TIT2", s.MP3, id="mp3-id3"),
    pytest.param(b"\xff\xfb\x90\x64\x00\x00\x00\x00", s.MP3, id="mp3-frame"),
    pytest.param(ogg_first_page(b"OpusHead\x01\x02\x38\x01\x80\xbb\x00\x00"), s.OPUS, id="ogg-opus"),
    pytest.param(ogg_first_page(b"\x01vorbis\x00\x00\x00\x00\x02"), s.OGG_AUDIO, id="ogg-vorbis"),
    pytest.param(ogg_first_page(b"\x80theora\x03\x02\x01"), s.OGG_VIDEO, id="ogg-theora"),
    pytest.param(b"RIFF\x24\x08\x00\x00WAVEfmt \x10\x00\x00\x00", s.WAV, id="wav"),
    pytest.param(ebml(b"webm"), s.WEBM, id="webm"),
    pytest.param(ebml(b"matroska"), s.MATROSKA, id="mkv"),
]

NOT_ACCEPTED = [
    pytest.param(b"", id="empty"),
    pytest.param(b"GIF89a\x01\x00\x01\x00", id="gif"),
    pytest.param(b"%PDF-1.7\n%\xe2\xe3", id="pdf"),
    pytest.param(b"PK\x03\x04\x14\x00\x00\x00", id="zip"),
    pytest.param(b"II*\x00\x08\x00\x00\x00", id="tiff"),
    pytest.param(b"\x7fELF\x02\x01\x01\x00", id="elf"),
    pytest.param(b"<html><body>photo</body></html>", id="html"),
    pytest.param(bytes(64), id="zeros"),
    pytest.param(ftyp(b"crx ", b"crx ", b"isom"), id="canon-raw-ftyp"),
    pytest.param(b"RIFF\x24\x00\x00\x00AVI LIST", id="avi"),
    pytest.param(b"\xff\xfb\xf0\x64\x00\x00", id="mp3-reserved-bitrate"),
    pytest.param(b"\xff\xeb\x90\x64\x00\x00", id="mp3-reserved-version"),
]


@pytest.mark.parametrize(("head", "expected"), SIGNATURES)
def test_each_signature_is_recognised_from_its_first_bytes(head, expected):
    assert sniff(head[:SNIFF_BYTES]) == expected


@pytest.mark.parametrize("head", NOT_ACCEPTED)
def test_other_content_is_not_accepted(head):
    assert sniff(head) is None


@pytest.mark.parametrize(("head", "expected"), SIGNATURES)
def test_sniffing_a_truncated_header_never_raises(head, expected):
    for length in range(len(head) + 1):
        result = sniff(head[:length])
        assert result is None or isinstance(result, s.MediaType)


def test_media_types_are_frozen_values():
    with pytest.raises(AttributeError):
        s.JPEG.mime = "image/png"  # type: ignore[misc]
    assert s.MediaType("photo", "image/jpeg", "jpg") == s.JPEG


@pytest.mark.parametrize("photo", corpus_params())
def test_every_corpus_file_sniffs_as_the_format_pillow_reads(photo: CorpusPhoto):
    media = sniff(photo.path.read_bytes()[:SNIFF_BYTES])
    assert media is not None and media.kind == "photo"
    if photo.pillow_format:
        assert PILLOW_FORMATS[media.mime] == photo.pillow_format
    else:
        # Pillow cannot identify these two; the signature still says what they claim to be.
        assert media == {".png": s.PNG, ".heic": s.HEIC}[photo.path.suffix.lower()]


def test_a_heif_named_jpg_sniffs_as_heif():
    path = corpus_photo("broken_odd/exifpy__heic_hdlr_box.jpg")
    assert sniff(path.read_bytes()[:SNIFF_BYTES]) == s.HEIC


@pytest.mark.parametrize("photo", corpus_params(lambda p: p.folder in ("heic", "avif", "png", "webp")))
def test_the_first_sniff_bytes_are_enough(photo: CorpusPhoto):
    data = photo.path.read_bytes()
    assert sniff(data[:SNIFF_BYTES]) == sniff(data[:4096])
