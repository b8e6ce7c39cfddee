"""One case's evidence as a ZIP anyone can verify without fieldwatch (docs/cases.md says how).

``evidence/<sha256>.<ext>`` the originals as stored; ``MANIFEST.sha256`` in ``sha256sum -c``
format; ``custody.json`` the custody-log segments of every chain that holds an entry about the
case, its source records or its evidence, from the first such entry to the last (the export's
own entry), entries about anything else reduced to their ``seq``, ``prev_hash`` and ``hash`` so
the chain still links; ``case.json`` what the case is (never who complained). The export is
logged first (``evidence.exported`` per piece, ``case.evidence_exported`` for the case) and
committed, then streamed, one 1 MiB chunk of evidence in memory at a time.
"""

from __future__ import annotations

import io
import json
import zipfile
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterator

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from field.core.models.platform import User
from field.core.office import OFFICE_TZ
from field.core.storage import BlobStore
from field.custody import chain as custody
from field.custody.models import CustodyEntry

from .exports import _d
from .models import Case
from .rules import _log, _require_office
from .view import EvidenceItem, case_evidence


#: Bytes of evidence read from the store at a time.
CHUNK = 1 << 20


@dataclass
class EvidenceExport:
    """What an evidence ZIP will hold, fixed (and logged) before the first byte is sent."""

    case: Case
    pieces: list[EvidenceItem]
    #: Evidence of the case whose bytes are not stored (declared by a phone, never uploaded).
    missing: list[str]
    #: The ``case.evidence_exported`` entry: the last entry of the case's chain in the ZIP.
    entry: CustodyEntry
    exported_by: str
    exported_at: datetime

    @property
    def filename(self) -> str:
        return f"{self.case.number}-evidence.zip"


def member_name(piece: EvidenceItem) -> str:
    return f"evidence/{piece.sha256}" + (f".{piece.ext}" if piece.ext else "")


def prepare_evidence_export(session: Session, actor: User, case: Case, store: BlobStore, *,
                            device_id=None) -> EvidenceExport:
    """Decide what goes into the ZIP and log the export; the caller commits, then streams."""
    _require_office(actor)
    items = case_evidence(session, case)
    pieces = [i for i in items if i.arrived and store.exists(i.sha256)]
    missing = [i.sha256 for i in items if i not in pieces]
    for piece in pieces:
        custody.record(session, jurisdiction_id=case.jurisdiction_id, kind="evidence.exported", subject_type="blob",
                       subject_id=piece.sha256, actor=actor, device_id=device_id,
                       data={"case_id": str(case.id), "case_number": case.number})
    entry = _log(session, case, "case.evidence_exported", actor, device_id=device_id,
                            pieces=[p.sha256 for p in pieces], missing=missing)
    custody.link_pending(session)  # the export names its own entry (seq, hash) in its headers and custody.json
    return EvidenceExport(case, pieces, missing, entry, actor.display_name, entry.occurred_at)


class _Pipe(io.RawIOBase):
    """A write-only, non-seekable file: zipfile writes into it, the generator drains it."""

    def __init__(self):
        super().__init__()
        self._chunks: list[bytes] = []
        self._written = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        data = bytes(data)
        self._chunks.append(data)
        self._written += len(data)
        return len(data)

    def tell(self) -> int:
        return self._written

    def drain(self) -> bytes:
        out, self._chunks = b"".join(self._chunks), []
        return out


def _info(name: str, when: datetime, compress: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=when.astimezone(OFFICE_TZ).timetuple()[:6])
    info.compress_type = compress
    info.external_attr = 0o444 << 16
    return info


def custody_content(entry: CustodyEntry) -> dict:
    """An entry as it is hashed (field/custody/chain.py ``entry_hash``), with its hash: what a verifier recomputes."""
    content = json.loads(custody.canonical({
        "jurisdiction_id": str(entry.jurisdiction_id), "seq": entry.seq, "occurred_at": entry.occurred_at,
        "kind": entry.kind, "subject_type": entry.subject_type, "subject_id": entry.subject_id,
        "actor_id": str(entry.actor_id) if entry.actor_id else None,
        "device_id": str(entry.device_id) if entry.device_id else None,
        "data": entry.data or {}, "prev_hash": entry.prev_hash,
    }))
    content["hash"] = entry.hash
    return content


def _relevant(export: EvidenceExport):
    case = export.case
    record_ids = [str(s.record_id) for s in case.sources]
    kinds = sorted({s.record_kind for s in case.sources})
    clauses = [and_(CustodyEntry.subject_type == "case", CustodyEntry.subject_id == str(case.id))]
    shas = [p.sha256 for p in export.pieces] + export.missing
    if shas:
        clauses.append(and_(CustodyEntry.subject_type == "blob", CustodyEntry.subject_id.in_(shas)))
    if record_ids:
        clauses.append(and_(CustodyEntry.subject_type.in_(kinds), CustodyEntry.subject_id.in_(record_ids)))
    return or_(*clauses)


def _custody_json(session: Session, export: EvidenceExport, out) -> Iterator[None]:
    """Write custody.json into ``out`` entry by entry; yields after each batch so the caller can drain."""
    relevant = _relevant(export)
    # The case's chain up to the export's own entry; nothing logged after it belongs to this ZIP.
    limit = or_(CustodyEntry.jurisdiction_id != export.entry.jurisdiction_id, CustodyEntry.seq <= export.entry.seq)
    spans = session.execute(
        select(CustodyEntry.jurisdiction_id, func.min(CustodyEntry.seq), func.max(CustodyEntry.seq))
        .where(relevant, limit).group_by(CustodyEntry.jurisdiction_id)).all()
    head = {"format": "fieldwatch-custody-export/1",
            "case": {"id": str(export.case.id), "number": export.case.number},
            "hashing": "sha256 of the UTF-8 JSON of the entry without 'hash': keys sorted, no spaces, "
                       "non-ASCII as is; each entry's prev_hash is the hash of the entry before it",
            "export_entry": {"jurisdiction_id": str(export.entry.jurisdiction_id), "seq": export.entry.seq,
                             "hash": export.entry.hash}}
    out.write(json.dumps(head, ensure_ascii=False, indent=1)[:-2].encode() + b',\n "chains": [')
    spans = sorted(spans, key=lambda s: (s[0] != export.entry.jurisdiction_id, str(s[0])))
    for n, (jurisdiction_id, first, last) in enumerate(spans):
        out.write((("," if n else "") + f'\n  {{"jurisdiction_id": "{jurisdiction_id}", "entries": [').encode())
        seq, written = first - 1, 0
        while seq < last:
            rows = list(session.execute(
                select(CustodyEntry, relevant)
                .where(CustodyEntry.jurisdiction_id == jurisdiction_id, CustodyEntry.seq > seq,
                       CustodyEntry.seq <= last)
                .order_by(CustodyEntry.seq).limit(2000)).all())
            if not rows:
                break
            parts = []
            for entry, is_relevant in rows:
                item = (custody_content(entry) if is_relevant
                        else {"seq": entry.seq, "prev_hash": entry.prev_hash, "hash": entry.hash})
                parts.append(("," if written else "") + "\n   " + json.dumps(item, ensure_ascii=False,
                                                                            sort_keys=True))
                written += 1
                seq = entry.seq
            out.write("".join(parts).encode())
            yield
        out.write(b"\n  ]}")
    out.write(b"\n ]\n}\n")
    yield


def case_summary(export: EvidenceExport) -> dict:
    case = export.case
    return {
        "number": case.number, "id": str(case.id), "kind": case.kind.value, "state": case.state.value,
        "title": case.title, "jurisdiction": {"code": case.jurisdiction.code, "name": case.jurisdiction.name},
        "opened_on": _d(case.opened_on), "deadline": _d(case.deadline),
        "effective_deadline": _d(case.effective_deadline), "closed_on": _d(case.closed_on),
        "provisional_fields": case.provisional_fields,
        "complaint_channel": case.complaint.channel.value if case.complaint else None,
        "sources": [{"record_id": str(s.record_id), "kind": s.record_kind} for s in case.sources],
        "evidence": [{"sha256": p.sha256, "file": member_name(p), "media": p.media, "mime": p.mime, "size": p.size,
                      "record_ids": [str(r) for r in p.record_ids], "attached_to_case": p.on_case,
                      "plausibility_flags": p.flags} for p in export.pieces],
        "missing": export.missing,
        "exported_at": export.exported_at.astimezone(timezone.utc).isoformat(),
        "exported_by": export.exported_by,
    }


README = """Evidence of case {number}, exported by fieldwatch on {at}.

Check the files:      sha256sum -c MANIFEST.sha256
Check the custody log: python3 verify_custody.py custody.json   (the script is in fieldwatch's docs/cases.md)

The last entry of the case's chain in custody.json is the export itself:
seq {seq}, hash {hash}.
Ask the office to confirm that hash from its own log to know the log was not rewritten.
"""


def evidence_zip(session: Session, export: EvidenceExport, store: BlobStore) -> Iterator[bytes]:
    """The ZIP, streamed: each original in 1 MiB pieces, then the manifest, custody.json and case.json."""
    pipe = _Pipe()
    when = export.exported_at
    manifest = []
    with zipfile.ZipFile(pipe, "w", allowZip64=True) as zf:
        for piece in export.pieces:
            name = member_name(piece)
            size = piece.size if piece.size is not None else store.size(piece.sha256)
            with closing(store.open_original(piece.sha256)) as src, \
                    zf.open(_info(name, when, zipfile.ZIP_STORED), "w", force_zip64=size >= zipfile.ZIP64_LIMIT) as dst:
                while chunk := src.read(CHUNK):
                    dst.write(chunk)
                    yield pipe.drain()
            # The manifest states the recorded hash: a damaged copy fails ``sha256sum -c``, as it should.
            manifest.append(f"{piece.sha256}  {name}\n")
        zf.writestr(_info("MANIFEST.sha256", when, zipfile.ZIP_DEFLATED), "".join(manifest))
        with zf.open(_info("custody.json", when, zipfile.ZIP_DEFLATED), "w") as out:
            for _ in _custody_json(session, export, out):
                yield pipe.drain()
        zf.writestr(_info("case.json", when, zipfile.ZIP_DEFLATED),
                    json.dumps(case_summary(export), ensure_ascii=False, indent=1))
        zf.writestr(_info("README.txt", when, zipfile.ZIP_DEFLATED), README.format(
            number=export.case.number, at=when.astimezone(OFFICE_TZ).isoformat(timespec="seconds"),
            seq=export.entry.seq, hash=export.entry.hash))
    yield pipe.drain()
