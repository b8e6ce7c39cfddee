"""The bytes half of the evidence pipeline: what is accepted, the type and facts of received bytes, the
viewing copies of a stored photo.

``Policy`` is built from the configuration by api/ (and cli/) and handed to the domain's receipt
and derivation (field/attachments, which declares what it needs as ``MediaPolicy``): the domain
decides what becomes of rows and custody, this module only looks at bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import BinaryIO

from field.core.evidence_errors import EvidenceError, TooManyPixels, UnsupportedMedia

from . import uploads
from .photo import PhotoFacts, PhotoResult, process_photo, read_facts
from .sniff import SNIFF_BYTES, MediaType, sniff

#: Audio recorded by phones often comes in an MP4 or 3GP container, which sniffs as video
#: (evidence/sniff.py cannot tell without parsing the tracks); declared audio may use them.
_AUDIO_CONTAINERS = frozenset({"video/mp4", "video/3gpp", "video/3gpp2"})


class NoDerivative(EvidenceError):
    """The original has no such viewing copy: audio or video, or a photo whose pixels cannot be decoded."""

    code = "no_derivative"


class DerivationPending(EvidenceError):
    """Someone else is making this photo's viewing copies right now (503, retry shortly)."""

    code = "derivation_pending"
    default_detail = "The viewing copies of this photo are being made; try again in a few seconds."


@dataclass(frozen=True)
class Policy:
    """What the pipeline accepts and how it describes it; built from the configuration by the app."""

    limits: uploads.Limits
    #: Largest photo, in pixels declared by its header, that is accepted (decompression bombs).
    max_pixels: int = 50_000_000
    #: Zone of camera clocks that wrote no offset: the office's.
    camera_zone: str = "Asia/Shanghai"
    thumb_px: int = 320
    preview_px: int = 1280
    #: How long a derivation may take before another worker may take it over.
    derive_lease: timedelta = timedelta(minutes=2)

    def inspect(self, fp: BinaryIO, declared_kind: str) -> Inspection:
        """The type from the content, checked against the declared kind; a photo's facts from its header."""
        return inspect(fp, declared_kind, self)

    def process_photo(self, fp: BinaryIO) -> PhotoResult:
        """A stored photo's upright, metadata-free viewing copies and its perceptual hash."""
        return process_photo(fp, max_pixels=self.max_pixels, thumb_px=self.thumb_px, preview_px=self.preview_px)


@dataclass(frozen=True)
class Inspection:
    media: MediaType
    facts: PhotoFacts | None


def inspect(fp: BinaryIO, declared_kind: str, policy: Policy) -> Inspection:
    """The type from the content, checked against the declared kind; a photo's facts from its header."""
    fp.seek(0)
    head = fp.read(SNIFF_BYTES)
    fp.seek(0)
    media = sniff(head)
    if media is None:
        raise UnsupportedMedia()
    if media.kind != declared_kind and not (declared_kind == "audio" and media.mime in _AUDIO_CONTAINERS):
        raise UnsupportedMedia(f"The file is {media.mime}, not the {declared_kind} it was declared as.")
    facts = None
    if media.kind == "photo":
        facts = read_facts(fp)
        if facts.width * facts.height > policy.max_pixels:
            raise TooManyPixels(policy.max_pixels, facts.width, facts.height)
    fp.seek(0)
    return Inspection(media, facts)
