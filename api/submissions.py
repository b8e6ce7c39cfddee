"""What every record-submitting view shares: the receipt of the sending, and 201-or-200.

A phone sends a record with its own UUID in the body (``id``) and, optionally, its
clock at sending in ``X-Device-Time`` (RFC 3339). The first sending answers 201; every
repeat with the same body answers 200 with the stored record; another body under the
same id answers 409 (field/records/lifecycle.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, request
from flask_smorest import abort

from field.records.lifecycle import Receipt, Submitted

from .auth import current_device, current_user

DEVICE_TIME_HEADER = "X-Device-Time"


def receipt() -> Receipt:
    raw = request.headers.get(DEVICE_TIME_HEADER)
    sent_at = None
    if raw:
        try:
            sent_at = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            sent_at = None
        if sent_at is None or sent_at.tzinfo is None:
            abort(422, messages={"headers": {DEVICE_TIME_HEADER: ["An RFC 3339 time with an offset."]}})
    return Receipt(user=current_user(), device_id=current_device().id, device_sent_at=sent_at,
                   max_clock_skew=timedelta(seconds=current_app.config["MAX_CLOCK_SKEW_S"]))


def status_of(result: Submitted) -> int:
    """201 for the sending that created the record, 200 for a repeat."""
    return 201 if result.created else 200
