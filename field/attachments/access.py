"""Who may read an original or its derivatives: whoever may see a record it is attached to.

The bytes are stored once, whoever sent them; reading them is allowed through an
attachment: one to a record the caller may see (field.records' visibility rule: office
staff within their jurisdiction subtree, anyone else their own records), counted only
when its uploader is the record's submitter, or one the caller made themselves (a phone
sees what it sent, even before its record arrives). Anything else is NotFound, exactly
like an unknown hash.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from field.core.errors import NotFound
from field.core.models.evidence import Attachment
from field.core.models.records import FieldRecord
from field.core.models.platform import User
from field.core.scope import visible_records_predicate

_SHA256 = re.compile(r"[0-9a-f]{64}")


def readable_attachment(session: Session, user: User, sha256: str) -> Attachment:
    """The attachment through which ``user`` may read this original; NotFound otherwise.

    A record's attachment is preferred to the caller's own upload, so that what is
    logged of the access names the record it was read for.
    """
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise NotFound("evidence")
    via_record = session.execute(
        select(Attachment)
        .join(FieldRecord, FieldRecord.id == Attachment.record_id)
        .where(Attachment.blob_sha256 == sha256, Attachment.uploader_id == FieldRecord.submitted_by_id,
               visible_records_predicate(user))
        .order_by(Attachment.attached_at, Attachment.id).limit(1)
    ).scalar_one_or_none()
    if via_record is not None:
        return via_record
    own = session.execute(
        select(Attachment).where(Attachment.blob_sha256 == sha256, Attachment.uploader_id == user.id)
        .order_by(Attachment.attached_at, Attachment.id).limit(1)
    ).scalar_one_or_none()
    if own is None:
        raise NotFound("evidence")
    return own
