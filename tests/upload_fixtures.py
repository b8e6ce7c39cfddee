"""Helpers of the evidence pipeline tests: a record kind of their own, corpus bytes, tus requests, stores."""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import datetime, timedelta, timezone

from evidence import pipeline
from field.attachments import receipt
from evidence import uploads
from field.records import lifecycle as records
from field.core.locations import GivenLocation
from field.core.models.records import FieldRecord
from tests.evidence_fixtures import corpus_photo

#: A photo with an EXIF position (43.4670817 N, 11.8845383 E) and a capture time without
#: offset (2008-10-22 16:38:20, read as Asia/Shanghai: 08:38:20 UTC). 157 KB.
GPS_PHOTO = "gps/ianare__DSCN0021.jpg"
GPS_PHOTO_AT = (11.8845383, 43.4670817)
GPS_PHOTO_TAKEN = datetime(2008, 10, 22, 8, 38, 20, tzinfo=timezone.utc)
#: A small photo without any EXIF.
NO_EXIF_PHOTO = "noexif/mei__Photoshop_2_.jpg"
#: A tiny photo with GPS (6 KB), for tests that only need some valid photo.
SMALL_PHOTO = "gps/ianare__Kodak_CX7530.jpg"

LIMITS = uploads.Limits(photo=50 << 20, audio=200 << 20, video=500 << 20)
POLICY = pipeline.Policy(limits=LIMITS)


class EvidenceNote(FieldRecord):
    """A record kind without a table of its own, for the evidence tests."""

    __mapper_args__ = {"polymorphic_identity": "test_evidence_note"}


class WindowedNote(FieldRecord):
    """A record kind with its own evidence window: the hour before its device time."""

    __mapper_args__ = {"polymorphic_identity": "test_windowed_note"}

    @property
    def evidence_window(self):
        return self.device_time - timedelta(hours=1), self.device_time


def photo_bytes(name: str) -> bytes:
    return corpus_photo(name).read_bytes()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def submit_record(session, user, record_id=None, *, at=None, accuracy_m=None, device_time=None, kind=EvidenceNote,
                  declared=()):
    """Submit a record through field/records.submit, located ``at`` (lon, lat WGS-84) if given."""
    record_id = record_id or uuid.uuid4()
    device_time = device_time or GPS_PHOTO_TAKEN
    body = {"device_time": device_time.isoformat(), "at": at, "declared": list(declared), "n": str(record_id)}

    def build():
        record = kind(jurisdiction_id=user.jurisdiction_id, device_time=device_time,
                      declared_attachments=[{"sha256": s, "media": "photo"} for s in declared])
        if at is not None:
            from field.core import geo
            from shapely.geometry import Point

            stored = GivenLocation(at[0], at[1], "wgs84", accuracy_m).to_stored()
            record.location = geo.to_db(Point(stored.lon, stored.lat))
            record.accuracy_m = accuracy_m
        return record

    result = records.submit(session, kind, record_id, body, records.Receipt(user, None, None), build)
    session.commit()
    return result.record


def receive_bytes(session, store, user, data: bytes, record_id, *, kind="photo", declared_sha256=None,
                  filename="photo.jpg", policy=POLICY):
    """Run the one-request pipeline on ``data`` (as the multipart view does) and commit."""
    import io

    received = receipt.receive(session, store, io.BytesIO(data), uploader=user, device_id=None, kind=kind,
                               record_id=record_id, policy=policy, channel="test",
                               declared_sha256=declared_sha256, filename=filename)
    session.commit()
    return received


def metadata_header(**values) -> str:
    return ",".join(f"{k} {base64.b64encode(str(v).encode()).decode()}" for k, v in values.items() if v is not None)


def tus(headers: dict, **extra) -> dict:
    """Request headers of a tus call: the bearer token, Tus-Resumable, and ``extra``."""
    return {**headers, "Tus-Resumable": "1.0.0", **{k.replace("_", "-"): str(v) for k, v in extra.items()}}


def create_upload(client, headers, *, length, record_id, kind="photo", sha=None, filename="photo.jpg", body=None):
    """POST /api/v1/uploads (with ``body`` as creation-with-upload); returns the response."""
    request_headers = tus(headers, Upload_Length=length)
    request_headers["Upload-Metadata"] = metadata_header(kind=kind, record_id=record_id, sha256=sha,
                                                         filename=filename)
    if body is None:
        return client.post("/api/v1/uploads", headers=request_headers)
    request_headers["Content-Type"] = "application/offset+octet-stream"
    return client.post("/api/v1/uploads", headers=request_headers, data=body)


def patch_chunk(client, url, headers, offset, chunk, **extra):
    return client.patch(url, headers={**tus(headers, Upload_Offset=offset, **extra),
                                      "Content-Type": "application/offset+octet-stream"}, data=chunk)


def upload_path(response) -> str:
    """The path of the Location a creation answered with (the test client wants paths)."""
    location = response.headers["Location"]
    return location[location.index("/api/v1/uploads/"):]
