"""Exports of many cases: a CSV and a GeoJSON (one case's evidence as a ZIP: evidence_zip.py).

Everything here is a generator of bytes read in keyset batches, so an export of any
size holds one batch of cases in memory at a time.

- CSV for the office's spreadsheets (field/core/spreadsheets.py: BOM, CRLF, formula-safe
  cells), a header row of Chinese labels (``CSV_COLUMNS`` maps them to the GeoJSON property
  names).
- GeoJSON: one Feature per case; the geometry is the location of the case's first
  located source record (in linking order), ``null`` when none has one.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Iterator

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from field.core import spreadsheets
from field.core.models.records import FieldRecord

from .models import Case, CaseSource


#: Cases read per query.
BATCH = 500

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
    ("通报次数", "notices"), ("按双休日临时计算", "provisional"),
]


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
        # Counted over a year without a declared schedule (docs/calendar.md): which values, in GeoJSON.
        "provisional": ("是" if case.provisional else "否") if labels else case.provisional,
        **({} if labels else {"provisional_fields": case.provisional_fields}),
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
