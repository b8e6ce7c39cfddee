"""Decide what an upload is from its first bytes, never from its name or declared type."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Literal

#: How many leading bytes ``sniff`` wants. Every signature below lies in the
#: first 64 bytes: the ISO BMFF ``ftyp`` box with its compatible brands (phones
#: write 24-40 bytes), the Ogg codec id at 28..36, the EBML DocType. Fewer bytes
#: still work for the short magic numbers but may miss a brand or a codec.
SNIFF_BYTES = 64

Kind = Literal["photo", "audio", "video"]


@dataclass(frozen=True, slots=True)
class MediaType:
    kind: Kind
    mime: str
    #: Extension without dot, used to name downloads; never trusted on input.
    ext: str


JPEG = MediaType("photo", "image/jpeg", "jpg")
PNG = MediaType("photo", "image/png", "png")
WEBP = MediaType("photo", "image/webp", "webp")
HEIC = MediaType("photo", "image/heic", "heic")
HEIC_SEQUENCE = MediaType("photo", "image/heic-sequence", "heics")
HEIF = MediaType("photo", "image/heif", "heif")
HEIF_SEQUENCE = MediaType("photo", "image/heif-sequence", "heifs")
AVIF = MediaType("photo", "image/avif", "avif")

MP4 = MediaType("video", "video/mp4", "mp4")
QUICKTIME = MediaType("video", "video/quicktime", "mov")
THREE_GPP = MediaType("video", "video/3gpp", "3gp")
THREE_GPP2 = MediaType("video", "video/3gpp2", "3g2")
WEBM = MediaType("video", "video/webm", "webm")
MATROSKA = MediaType("video", "video/x-matroska", "mkv")
OGG_VIDEO = MediaType("video", "video/ogg", "ogv")

M4A = MediaType("audio", "audio/mp4", "m4a")
AMR = MediaType("audio", "audio/amr", "amr")
AMR_WB = MediaType("audio", "audio/amr-wb", "awb")
AAC = MediaType("audio", "audio/aac", "aac")
MP3 = MediaType("audio", "audio/mpeg", "mp3")
OPUS = MediaType("audio", "audio/ogg", "opus")
OGG_AUDIO = MediaType("audio", "audio/ogg", "ogg")
WAV = MediaType("audio", "audio/wav", "wav")

# ISO BMFF major brands. Only the major brand decides, except for the
# structural HEIF brands mif1/msf1 which say "some image file" and leave the
# codec to the compatible brands.
_FTYP_BRANDS: dict[bytes, MediaType] = {
    **dict.fromkeys((b"heic", b"heix", b"heim", b"heis", b"MiHE"), HEIC),
    **dict.fromkeys((b"hevc", b"hevx", b"hevm", b"hevs"), HEIC_SEQUENCE),
    **dict.fromkeys((b"avif", b"avis"), AVIF),
    **dict.fromkeys(
        (
            b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso7", b"iso8", b"iso9",
            b"mp41", b"mp42", b"mp71", b"avc1", b"M4V ", b"M4VH", b"M4VP", b"mmp4",
            b"MSNV", b"XAVC", b"dash", b"f4v ",
        ),
        MP4,
    ),
    b"qt  ": QUICKTIME,
    **dict.fromkeys(
        (
            b"3gp4", b"3gp5", b"3gp6", b"3gp7", b"3gp8", b"3gp9",
            b"3ge6", b"3ge7", b"3gg6", b"3gr6", b"3gs7",
        ),
        THREE_GPP,
    ),
    **dict.fromkeys((b"3g2a", b"3g2b", b"3g2c"), THREE_GPP2),
    **dict.fromkeys((b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "), M4A),
}

# QuickTime files older than the ftyp box start directly with one of these atoms.
_BARE_QUICKTIME_ATOMS = (b"moov", b"mdat", b"wide")

# MPEG audio: the sample-rate index 3 and bitrate index 15 are reserved, so a
# header using them is not a frame header.
_MPEG_RESERVED_VERSION = 0b01


def sniff(head: bytes) -> MediaType | None:
    """The media type of a file from its first ``SNIFF_BYTES`` bytes, or None if not accepted."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAV
    if head[4:8] == b"ftyp":
        return _sniff_ftyp(head)
    if head[4:8] in _BARE_QUICKTIME_ATOMS and len(head) >= 8 and struct.unpack(">I", head[:4])[0] >= 8:
        return QUICKTIME
    if head.startswith(b"#!AMR-WB\n"):
        return AMR_WB
    if head.startswith(b"#!AMR\n"):
        return AMR
    if head.startswith(b"OggS"):
        return _sniff_ogg(head)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        # The EBML header carries the DocType within its first few dozen bytes.
        return WEBM if b"webm" in head[:SNIFF_BYTES] else MATROSKA
    if head.startswith(b"ID3") and len(head) >= 4 and 2 <= head[3] <= 4:
        return MP3
    if _is_adts(head):
        return AAC
    if _is_mpeg_audio_frame(head):
        return MP3
    return None


def _sniff_ftyp(head: bytes) -> MediaType | None:
    box_size = struct.unpack(">I", head[:4])[0]
    brands_at = 8
    if box_size == 1:
        # 64-bit "largesize" follows the type; never seen on ftyp in practice but legal.
        brands_at = 16
        if len(head) < 16:
            return None
        box_size = struct.unpack(">Q", head[8:16])[0]
    major = head[brands_at : brands_at + 4]
    end = min(len(head), box_size) if box_size >= brands_at + 8 else len(head)
    compatible = {head[i : i + 4] for i in range(brands_at + 8, end - 3, 4)}
    if major in (b"mif1", b"miaf"):
        if compatible & {b"avif"}:
            return AVIF
        if compatible & {b"heic", b"heix", b"heim", b"heis", b"MiHE"}:
            return HEIC
        return HEIF
    if major == b"msf1":
        if compatible & {b"avis"}:
            return AVIF
        if compatible & {b"hevc", b"hevx"}:
            return HEIC_SEQUENCE
        return HEIF_SEQUENCE
    return _FTYP_BRANDS.get(major)


def _sniff_ogg(head: bytes) -> MediaType:
    # The first Ogg page of a stream has a 27-byte header plus one lacing byte
    # (one segment), so the first packet, the codec identification, starts at 28.
    packet = head[28:36]
    if packet.startswith(b"OpusHead"):
        return OPUS
    if packet.startswith(b"\x80theora"):
        return OGG_VIDEO
    return OGG_AUDIO


def _is_adts(head: bytes) -> bool:
    if len(head) < 7 or head[0] != 0xFF or head[1] & 0xF6 != 0xF0:
        return False  # 12-bit sync plus layer 00 (which is what sets ADTS apart from MP3)
    sampling_index = (head[2] >> 2) & 0x0F
    frame_length = ((head[3] & 0x03) << 11) | (head[4] << 3) | (head[5] >> 5)
    return sampling_index < 13 and frame_length >= 7


def _is_mpeg_audio_frame(head: bytes) -> bool:
    # A single frame header is a weak signature (11 set bits plus a few valid
    # fields); files without an ID3 tag are rare from phones, and anything that
    # passes here still has to be playable downstream.
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0x03
    layer = (head[1] >> 1) & 0x03
    bitrate_index = head[2] >> 4
    sampling_index = (head[2] >> 2) & 0x03
    return (
        version != _MPEG_RESERVED_VERSION
        and layer != 0
        and bitrate_index not in (0, 15)
        and sampling_index != 3
    )
