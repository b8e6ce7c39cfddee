"""Exports of cases: a CSV and a GeoJSON of many cases, and one case's evidence as a verifiable ZIP.

Everything here is a generator of bytes read in keyset batches, so an export of any
size holds one batch of cases (or one 1 MiB chunk of evidence) in memory at a time.

- CSV for the office's spreadsheets (field/core/spreadsheets.py: BOM, CRLF, formula-safe
  cells), a header row of Chinese labels (``CSV_COLUMNS`` maps them to the GeoJSON property
  names).
- GeoJSON: one Feature per case; the geometry is the location of the case's first
  located source record (in linking order), ``null`` when none has one.
- Evidence ZIP (docs/cases.md says how to verify it without fieldwatch):
  ``evidence/<sha256>.<ext>`` the originals as stored; ``MANIFEST.sha256`` in
  ``sha256sum -c`` format; ``custody.json`` the custody-log segments of every chain that
  holds an entry about the case, its source records or its evidence, from the first such
  entry to the last (the export's own entry), entries about anything else reduced to their
  ``seq``, ``prev_hash`` and ``hash`` so the chain still links; ``case.json`` what the case
  is (never who complained). The export is logged first (``evidence.exported`` per piece,
  ``case.evidence_exported`` for the case) and committed, then streamed.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timezone
from contextlib import closing
from typing import Iterator

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from field.core import spreadsheets
from field.core.office import OFFICE_TZ
from field.custody import chain as custody
from field.core.storage import BlobStore

from . import lifecycle as case_rules
from field.core.models.records import FieldRecord
from field.core.models.platform import User
from .models import Case, CaseSource
from field.custody.models import CustodyEntry

#: Cases read per query.
BATCH = 500
#: Bytes of evidence read from the store at a time.
CHUNK = 1 << 20

KIND_LABELS = {
    "efficiency_complaint": "效能投诉", "work_style": "作风问题", "arbitrary_charges": "乱收费乱罚款乱摊派",
    "inspection_irregularity": "违规涉企检查", "discipline": "违反工作纪律",
}
STATE_LABELS = {
    "opened": "已立案", "investigating": "调查核实", "deciding": "研究处理", "rectifying": "督促整改",
    "closed": "已办结", "dismissed": "已撤销",
}
DISPOSITION_LABELS = {
    "admonishment_talk": "诫勉谈话", "public_criticism": "通报批评", "loss_of_award_eligibility": "取消评先评优资格",
    "reassignment": "调离岗位", "removal_from_post": "免职", "dismissal": "辞退", "ordered_resignation": "责令辞职",
    "disciplinary_sanction": "处分", "transfer_to_judiciary": "移送司法机关", "yellow_card": "黄牌警告",
    "listed_supervision": "挂牌督办", "loss_of_excellent_grade": "取消评优",
}
GRADE_LABELS = {
    ("administrative", "warning"): "政务警告", ("administrative", "demerit"): "记过",
    ("administrative", "major_demerit"): "记大过", ("administrative", "demotion"): "降级",
    ("administrative", "dismissal_from_post"): "撤职", ("administrative", "expulsion"): "开除",
    ("party", "warning"): "党内警告", ("party", "serious_warning"): "党内严重警告",
    ("party", "removal_from_party_post"): "撤销党内职务", ("party", "party_probation"): "留党察看",
    ("party", "expulsion"): "开除党籍",
}
RANK_LABELS = {"division": "处级", "section": "科级", "below_section": "科级以下"}
CHANNEL_LABELS = {"phone": "电话", "letter": "来信", "visit": "来访", "online": "网络"}

#: (header label, property name): the CSV's columns in order; GeoJSON uses the property names.
CSV_COLUMNS = [
    ("案件编号", "number"), ("案件类别", "kind"), ("状态", "state"), ("标题", "title"),
    ("辖区代码", "jurisdiction_code"), ("辖区", "jurisdiction_name"), ("立案日期", "opened_on"),
    ("办理时限(工作日)", "time_limit_days"), ("原定办结期限", "deadline"), ("现办结期限", "effective_deadline"),
    ("滞办告知次数", "delay_notices"), ("是否超期", "overdue"), ("承办人", "handler"), ("案件来源", "sources"),
    ("投诉渠道", "complaint_channel"), ("涉及单位", "units"), ("涉及人员", "persons"), ("处理结果", "dispositions"),
    ("办结日期", "closed_on"), ("办理用时(工作日)", "handling_working_days"), ("撤销理由", "dismissed_reason"),
    ("通报次数", "notices"),
]


# -- many cases -----------------------------------------------------------------------------


def _batches(session: Session, stmt: Select) -> Iterator[list[Case]]:
    """The cases of ``stmt`` in number order, ``BATCH`` at a time (keyset on the unique number)."""
    last = None
    while True:
        page = stmt.order_by(Case.number).limit(BATCH)
        if last is not None:
            page = page.where(Case.number > last)
        rows = list(session.execute(page).scalars())
        if not rows:
            return
        yield rows
        last = rows[-1].number
        if len(rows) < BATCH:
            return


def _d(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _sources_text(case: Case) -> str:
    counts: dict[str, int] = {}
    for s in case.sources:
        counts[s.record_kind] = counts.get(s.record_kind, 0) + 1
    return "; ".join(f"{kind}×{n}" for kind, n in counts.items())


def _disposition_text(d) -> str:
    what = DISPOSITION_LABELS.get(d.kind.value, d.kind.value)
    if d.grade is not None:
        what = f"{what}({GRADE_LABELS.get((d.sanction_system.value, d.grade.value), d.grade.value)})"
    if d.person is not None:
        rank = RANK_LABELS.get(d.rank_at_decision.value) if d.rank_at_decision else None
        who = f"{d.person.name}({rank})" if rank else d.person.name
    else:
        who = d.unit.name
    return f"{who}: {what} {d.decided_on.isoformat()} {d.authority}"


def case_properties(case: Case, today: date, *, labels: bool) -> dict:
    """One case as a flat row: Chinese labels for the CSV, codes for GeoJSON. Never the complainant."""
    def label(table, code):
        return table.get(code, code) if labels else code

    return {
        "number": case.number, "kind": label(KIND_LABELS, case.kind.value),
        "state": label(STATE_LABELS, case.state.value), "title": case.title,
        "jurisdiction_code": case.jurisdiction.code, "jurisdiction_name": case.jurisdiction.name,
        "opened_on": _d(case.opened_on), "time_limit_days": case.time_limit_days, "deadline": _d(case.deadline),
        "effective_deadline": _d(case.effective_deadline), "delay_notices": len(case.delay_notices),
        "overdue": ("是" if case.overdue_on(today) else "否") if labels else case.overdue_on(today),
        "handler": case.handler.display_name, "sources": _sources_text(case),
        "complaint_channel": (label(CHANNEL_LABELS, case.complaint.channel.value) if case.complaint else None),
        "units": "; ".join(dict.fromkeys(s.unit.name for s in case.subjects if s.person_id is None)),
        "persons": "; ".join(f"{s.person.name}({s.unit.name})" for s in case.subjects if s.person_id),
        "dispositions": "; ".join(_disposition_text(d) for d in case.dispositions),
        "closed_on": _d(case.closed_on), "handling_working_days": case.handling_working_days,
        "dismissed_reason": case.dismissed_reason, "notices": len(case.notices),
    }


def csv_chunks(session: Session, stmt: Select, today: date) -> Iterator[bytes]:
    """The cases of ``stmt`` as CSV: BOM, header, one row per case, one chunk per batch."""
    def rows(batch):
        for case in batch:
            row = case_properties(case, today, labels=True)
            yield [row[key] for _, key in CSV_COLUMNS]

    return spreadsheets.csv_chunks([label for label, _ in CSV_COLUMNS],
                                   (rows(batch) for batch in _batches(session, stmt)))


def first_locations(session: Session, case_ids: list) -> dict:
    """Per case: (lon, lat, accuracy_m) of its first located source record, WGS-84."""
    if not case_ids:
        return {}
    rows = session.execute(
        select(CaseSource.case_id, CaseSource.position, func.ST_X(FieldRecord.location),
               func.ST_Y(FieldRecord.location), FieldRecord.accuracy_m)
        .join(FieldRecord, FieldRecord.id == CaseSource.record_id)
        .where(CaseSource.case_id.in_(case_ids), FieldRecord.location.is_not(None))
        .order_by(CaseSource.case_id, CaseSource.position))
    found = {}
    for case_id, _position, lon, lat, accuracy in rows:
        found.setdefault(case_id, (lon, lat, accuracy))
    return found


def geojson_chunks(session: Session, stmt: Select, today: date, crs: str = "wgs84") -> Iterator[bytes]:
    """The cases of ``stmt`` as a FeatureCollection, written feature by feature."""
    from field.core.crs import from_wgs84

    yield b'{"type":"FeatureCollection","features":['
    first = True
    for batch in _batches(session, stmt):
        places = first_locations(session, [c.id for c in batch])
        parts = []
        for case in batch:
            props = case_properties(case, today, labels=False)
            geometry = None
            place = places.get(case.id)
            if place is not None:
                lon, lat = from_wgs84(place[0], place[1], crs)
                geometry = {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]}
                props["location_crs"], props["location_accuracy_m"] = crs, place[2]
            feature = {"type": "Feature", "id": str(case.id), "geometry": geometry, "properties": props}
            parts.append(("" if first else ",") + json.dumps(feature, ensure_ascii=False))
            first = False
        yield "".join(parts).encode("utf-8")
    yield b"]}"


# -- one case's evidence --------------------------------------------------------------------


@dataclass
class EvidenceExport:
    """What an evidence ZIP will hold, fixed (and logged) before the first byte is sent."""

    case: Case
    pieces: list[case_rules.EvidenceItem]
    #: Evidence of the case whose bytes are not stored (declared by a phone, never uploaded).
    missing: list[str]
    #: The ``case.evidence_exported`` entry: the last entry of the case's chain in the ZIP.
    entry: CustodyEntry
    exported_by: str
    exported_at: datetime

    @property
    def filename(self) -> str:
        return f"{self.case.number}-evidence.zip"


def member_name(piece: case_rules.EvidenceItem) -> str:
    return f"evidence/{piece.sha256}" + (f".{piece.ext}" if piece.ext else "")


def prepare_evidence_export(session: Session, actor: User, case: Case, store: BlobStore, *,
                            device_id=None) -> EvidenceExport:
    """Decide what goes into the ZIP and log the export; the caller commits, then streams."""
    case_rules._require_office(actor)
    items = case_rules.case_evidence(session, case)
    pieces = [i for i in items if i.arrived and store.exists(i.sha256)]
    missing = [i.sha256 for i in items if i not in pieces]
    for piece in pieces:
        custody.record(session, jurisdiction_id=case.jurisdiction_id, kind="evidence.exported", subject_type="blob",
                       subject_id=piece.sha256, actor=actor, device_id=device_id,
                       data={"case_id": str(case.id), "case_number": case.number})
    entry = case_rules._log(session, case, "case.evidence_exported", actor, device_id=device_id,
                            pieces=[p.sha256 for p in pieces], missing=missing)
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

