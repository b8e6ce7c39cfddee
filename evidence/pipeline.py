"""The bytes half of the evidence pipeline: what is accepted, the type and facts of received bytes, the
viewing copies of a stored photo.

``Policy`` is built from the configuration by api/ (and cli/) and handed to the domain's receipt
and reads of originals (field/attachments, which declares what it needs as ``MediaPolicy`` and
``OriginalChecks``): the domain decides what becomes of rows and custody, this module only looks
at bytes. ``make_derivatives`` decodes a stored photo into its viewing copies with no transaction
open; the domain records the ``Derivation`` after (field/attachments/derivation.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import BinaryIO

from field.core.evidence_errors import CorruptMedia, EvidenceDamaged, EvidenceError, TooManyPixels, UnsupportedMedia
from field.core.models.evidence import Blob
from field.core.office import OFFICE_TZ_NAME
from field.core.storage import BlobStore

from . import integrity, uploads
from .memory import decode_slots
from .photo import PhotoFacts, PhotoResult, process_photo, read_facts
from .sniff import SNIFF_BYTES, MediaType, sniff
from .trailing import Trailing, trailing

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
    camera_zone: str = OFFICE_TZ_NAME
    thumb_px: int = 320
    preview_px: int = 1280
    #: How long a derivation may take before another worker may take it over.
    derive_lease: timedelta = timedelta(minutes=2)
    #: Full decodes one process holds at once (EVIDENCE_MAX_PARALLEL_DECODES; evidence/memory.py).
    max_parallel_decodes: int = 2

    def slots(self):
        """This process's slots for full decodes (evidence/memory.py)."""
        return decode_slots(self.max_parallel_decodes)

    def inspect(self, fp: BinaryIO, declared_kind: str) -> Inspection:
        """The type from the content, checked against the declared kind; a photo's facts from its header."""
        return inspect(fp, declared_kind, self)

    def process_photo(self, fp: BinaryIO) -> PhotoResult:
        """A stored photo's upright, metadata-free viewing copies and its perceptual hash."""
        return process_photo(fp, max_pixels=self.max_pixels, thumb_px=self.thumb_px, preview_px=self.preview_px,
                             slots=self.slots())

    def cheap_check(self, store: BlobStore, blob: Blob) -> str | None:
        """What the store tells of an original without reading it (evidence/integrity.py)."""
        return integrity.cheap_check(store, blob)

    def checked_stream(self, store: BlobStore, sha256: str, size: int | None) -> BinaryIO:
        """The original hashed whole before its first byte, and again as it is read (evidence/integrity.py)."""
        return integrity.CheckedReader(integrity.open_checked(store, sha256, size), sha256)


@dataclass(frozen=True)
class Inspection:
    media: MediaType
    facts: PhotoFacts | None
    #: What follows a photo's own bytes (evidence/trailing.py); None when nothing does, or not a photo.
    trailing: Trailing | None = None


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
    facts = appended = None
    if media.kind == "photo":
        facts = read_facts(fp, max_pixels=policy.max_pixels, slots=policy.slots())
        appended = trailing(fp, media.mime)
    fp.seek(0)
    return Inspection(media, facts, appended)


# -- viewing copies ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Derivation:
    """What decoding a photo gave: its stored viewing copies (kind → sha256, size, width, height)
    and perceptual hash, or why it has none; field/attachments/derivation.py records it."""

    made: dict[str, dict] = field(default_factory=dict)
    #: Unsigned, as PhotoResult gives it; ``perceptual_hash_signed`` fits the BIGINT column.
    perceptual_hash: int | None = None
    perceptual_hash_signed: int | None = None
    failure: str | None = None
    #: Why the stored bytes failed their hash: nothing was decoded (the original is quarantined).
    damaged: str | None = None


def make_derivatives(store: BlobStore, sha256: str, *, policy: Policy, size: int | None = None) -> Derivation:
    """Decode a photo and store its thumb and preview; the database is not touched.

    Call it with no transaction open (after committing the lease of ``claim_derivation``):
    reading the original and decoding it take seconds, and on SQLite every transaction
    holds the database's write lock (BEGIN IMMEDIATE, field/core/db.py), so a decode inside
    one stopped every other request; parallel first views then waited out their 15 s and
    answered 503. The decode takes one of the process's slots (evidence/memory.py).
    """
    try:
        # Never from damaged bytes: all of them are hashed first (evidence/integrity.py).
        with integrity.open_checked(store, sha256, size) as fp:
            result = policy.process_photo(fp)
    except EvidenceDamaged as exc:
        return Derivation(damaged=exc.reason)
    except (UnsupportedMedia, CorruptMedia, TooManyPixels) as exc:
        return Derivation(failure=exc.detail[:300])
    made = {}
    for kind, data, (width, height) in (("thumb", result.thumbnail, result.thumbnail_size),
                                        ("preview", result.preview, result.preview_size)):
        store.put_derivative(sha256, kind, data)
        made[kind] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "width": width,
                      "height": height}
    return Derivation(made=made, perceptual_hash=result.perceptual_hash,
                      perceptual_hash_signed=result.perceptual_hash_signed)
