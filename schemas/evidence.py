"""Schemas of evidence: the one-request upload form, originals with their facts, attachments, tus status."""

from __future__ import annotations

import marshmallow as ma

from field.core.models.base import utcnow
from field.core.models.evidence import MEDIA_KINDS

from .common import LocationField, StrictSchema

_SHA256 = ma.validate.Regexp(r"^[0-9a-fA-F]{64}$", error="A SHA-256 is 64 hexadecimal characters.")


def evidence_links(sha256: str, media_kind: str) -> dict:
    base = f"/api/v1/evidence/{sha256}"
    links = {"self": base, "original": f"{base}/original"}
    if media_kind == "photo":
        links |= {"thumb": f"{base}/thumb", "preview": f"{base}/preview"}
    return links


class EvidenceFormSchema(StrictSchema):
    """The fields beside ``file`` in a multipart upload."""

    record_id = ma.fields.UUID(required=True, metadata={
        "description": "The field record (client UUID) the evidence belongs to; it may not have arrived yet"})
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(MEDIA_KINDS), metadata={
        "description": "What the file is; the content must agree (decided from the bytes, never the name)"})
    sha256 = ma.fields.String(load_default=None, validate=_SHA256, metadata={
        "description": "SHA-256 the phone computed at capture; the upload fails, keeping nothing, if the "
                       "received bytes differ"})

    @ma.post_load
    def _lower(self, data, **kwargs):
        if data.get("sha256"):
            data["sha256"] = data["sha256"].lower()
        return data


#: The multipart request body, written by hand: OpenAPI generators describe form+file poorly.
MULTIPART_REQUEST_BODY = {
    "required": True,
    "content": {"multipart/form-data": {
        "schema": {
            "type": "object", "required": ["file", "record_id", "kind"],
            "properties": {
                "file": {"type": "string", "format": "binary", "description": "The file, as captured"},
                "record_id": {"type": "string", "format": "uuid"},
                "kind": {"type": "string", "enum": list(MEDIA_KINDS)},
                "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            },
        },
    }},
}


class DerivativeSchema(ma.Schema):
    kind = ma.fields.String(metadata={"description": "thumb (~320 px) or preview (~1280 px)"})
    sha256 = ma.fields.String(metadata={"description": "Hash of the derivative's own bytes (its ETag)"})
    size = ma.fields.Integer()
    width = ma.fields.Integer()
    height = ma.fields.Integer()


class EvidenceSchema(ma.Schema):
    """An original: what its bytes are, what its EXIF says, and its viewing copies."""

    sha256 = ma.fields.String()
    size = ma.fields.Integer()
    media_kind = ma.fields.String(metadata={"description": "photo, audio or video, from the content"})
    mime = ma.fields.String()
    received_at = ma.fields.AwareDateTime()
    has_exif = ma.fields.Boolean()
    captured_at = ma.fields.AwareDateTime(allow_none=True, metadata={
        "description": "EXIF capture time; a camera time without offset is read as Asia/Shanghai"})
    captured_at_has_offset = ma.fields.Boolean()
    gps = LocationField(attribute="gps_location", allow_none=True, metadata={
        "description": "EXIF GPS position (WGS-84, answered in ?crs=)"})
    make = ma.fields.String(allow_none=True)
    model = ma.fields.String(allow_none=True)
    orientation = ma.fields.Integer(allow_none=True)
    width = ma.fields.Integer(allow_none=True)
    height = ma.fields.Integer(allow_none=True)
    facts = ma.fields.Dict(metadata={"description": "Every EXIF fact as read, serial numbers included"})
    perceptual_hash = ma.fields.Method("_phash", allow_none=True, metadata={
        "description": "64-bit dHash in hex, once the derivatives are made"})
    trailing_data = ma.fields.Boolean(metadata={
        "description": "Bytes follow the end of the image (after a JPEG's EOI, a PNG's IEND, a WebP's RIFF size, "
                       "the last HEIF box) that no camera leaves there: something appended to the photo, a ZIP "
                       "for one (a polyglot). The file is kept exactly as received; facts.trailing says more"})
    trailing_bytes = ma.fields.Integer(allow_none=True, metadata={
        "description": "How many such bytes; 0 for none (or only a camera's own trailer), null when not looked "
                       "at (audio, video)"})
    damaged = ma.fields.Function(lambda blob: blob.damaged_at is not None, metadata={
        "description": "The stored bytes no longer match the SHA-256: quarantined, the original answers 409 "
                       "until the genuine file is uploaded again"})
    damaged_at = ma.fields.AwareDateTime(allow_none=True)
    damage = ma.fields.String(allow_none=True, metadata={"description": "What was found wrong with the stored bytes"})
    derivatives_state = ma.fields.String(metadata={
        "description": "pending, ready, failed (the pixels cannot be decoded: opaque evidence) or none"})
    derivatives_error = ma.fields.String(allow_none=True)
    derivatives = ma.fields.List(ma.fields.Nested(DerivativeSchema))
    links = ma.fields.Method("_links")

    def _phash(self, blob):
        if blob.perceptual_hash is None:
            return None
        return f"{blob.perceptual_hash & ((1 << 64) - 1):016x}"

    def _links(self, blob):
        return evidence_links(blob.sha256, blob.media_kind)


class AttachmentSchema(ma.Schema):
    id = ma.fields.UUID()
    record_id = ma.fields.UUID()
    sha256 = ma.fields.String(attribute="blob_sha256")
    uploader_id = ma.fields.UUID()
    filename = ma.fields.String(allow_none=True)
    attached_at = ma.fields.AwareDateTime()
    evidence = ma.fields.Nested(EvidenceSchema, attribute="blob")


class FlagSchema(ma.Schema):
    code = ma.fields.String(metadata={"description": "gps_far_from_record, captured_outside_window, "
                                                     "same_photo_elsewhere, similar_photo_elsewhere, no_exif, "
                                                     "trailing_data"})
    sha256 = ma.fields.String()
    detail = ma.fields.String()
    data = ma.fields.Dict()


class AttachmentStateSchema(ma.Schema):
    """One piece of a record's evidence: declared, arrived, and (for the office) what is doubtful about it."""

    sha256 = ma.fields.String()
    media = ma.fields.String()
    declared = ma.fields.Boolean(metadata={"description": "Listed in the record's declared_attachments"})
    arrived = ma.fields.Boolean()
    attached_at = ma.fields.Function(lambda s: s.attachment.attached_at.isoformat() if s.attachment else None)
    evidence = ma.fields.Function(
        lambda s: EvidenceSchema().dump(s.attachment.blob) if s.attachment else None,
        metadata={"description": "The original, once it has arrived"})
    flags = ma.fields.List(ma.fields.Nested(FlagSchema), allow_none=True, metadata={
        "description": "Plausibility flags; office staff only (null for others)"})


class TusLimitsSchema(ma.Schema):
    endpoint = ma.fields.String()
    version = ma.fields.String()
    max_size = ma.fields.Integer()
    extensions = ma.fields.List(ma.fields.String())
    checksum_algorithms = ma.fields.List(ma.fields.String())
    expires_hours = ma.fields.Integer()


class LimitsSchema(ma.Schema):
    """What the server accepts, so a phone can check before sending."""

    photo = ma.fields.Integer(metadata={"description": "Largest photo, bytes"})
    audio = ma.fields.Integer(metadata={"description": "Largest audio recording, bytes"})
    video = ma.fields.Integer(metadata={"description": "Largest video, bytes"})
    max_pixels = ma.fields.Integer(metadata={"description": "Largest photo, pixels"})
    multipart_endpoint = ma.fields.String()
    tus = ma.fields.Nested(TusLimitsSchema)


class UploadStatusSchema(ma.Schema):
    """A tus upload as JSON (GET on its URL): how far it is and what became of it."""

    id = ma.fields.UUID()
    state = ma.fields.Function(lambda upload: upload.state(utcnow()),
                               metadata={"description": "open, complete, failed or expired"})
    kind = ma.fields.String()
    length = ma.fields.Integer()
    offset = ma.fields.Integer()
    record_id = ma.fields.UUID()
    filename = ma.fields.String(allow_none=True)
    declared_sha256 = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    expires_at = ma.fields.AwareDateTime()
    completed_at = ma.fields.AwareDateTime(allow_none=True)
    failure = ma.fields.String(allow_none=True)
    sha256 = ma.fields.String(attribute="blob_sha256", allow_none=True)
    links = ma.fields.Method("_links")

    def _links(self, upload):
        return evidence_links(upload.blob_sha256, upload.kind) if upload.blob_sha256 else None
