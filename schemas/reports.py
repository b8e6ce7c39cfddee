"""Schemas of contact-point reports, leader visits and the leader-visit compliance report."""

from __future__ import annotations

from field.records import kinds

import marshmallow as ma

from field.reports.models import ProblemArea, RatingTarget, ReportType
from field.core.models.records import ReviewState
from field.directory.models import VisitFrequency

from .common import LocationField, Text
from .directory import EnterpriseRefSchema, UserRefSchema
from .records import (
    KindSchemas,
    RecordBodySchema,
    RecordEnvelopeSchema,
    amendment_note,
    new_record_id,
    register_schemas,
)

_EXAMPLE_LOCATION = {"type": "Point", "coordinates": [106.5286, 29.5026], "crs": "gcj02", "accuracy_m": 8.0}
_TYPE_HELP = {
    "enforcement_visit": "unit_id, visited_on, officers, filing_shown; description optional",
    "problem": "problem_area, unit_id, description",
    "suggestion": "text",
    "rating": "rating_target, score; unit_id (unit, section, window) or person_id (person); comment optional",
}


def _for(*types: str) -> str:
    return "For " + " and ".join(types) + " reports."


def _note(limit: int, description: str, **kwargs):
    return Text(limit, load_default=None, metadata={"description": description, **kwargs})


# -- contact-point reports -------------------------------------------------------------------


class ReportBodySchema(RecordBodySchema):
    report_type = ma.fields.Enum(ReportType, required=True, metadata={
        "description": "Each type has its own fields; others are refused. "
                       + "; ".join(f"{t}: {f}" for t, f in _TYPE_HELP.items())})
    point_id = ma.fields.UUID(load_default=None, metadata={
        "description": "The monitoring point reported for; needed only by a liaison of several points"})
    location = LocationField(allow_none=True, load_default=None, metadata={"example": _EXAMPLE_LOCATION})
    unit_id = ma.fields.UUID(load_default=None, metadata={
        "description": "The unit: who inspected, whom the problem is with, or what is rated"})
    visited_on = ma.fields.Date(load_default=None, metadata={
        "description": _for("enforcement_visit") + " The day the officers came", "example": "2026-05-06"})
    officers = _note(500, _for("enforcement_visit") + " Who came, as the liaison knows them",
                     example="市场监管局 张某、李某 (两人)")
    filing_shown = ma.fields.Boolean(load_default=None, metadata={
        "description": _for("enforcement_visit") + " Whether the officers showed an inspection filing (备案)"})
    description = _note(5000, _for("problem", "enforcement_visit") + " What happened")
    problem_area = ma.fields.Enum(ProblemArea, load_default=None, metadata={
        "description": _for("problem") + " approvals 审批, enforcement 执法, fees 收费"})
    text = _note(5000, _for("suggestion") + " The suggestion")
    rating_target = ma.fields.Enum(RatingTarget, load_default=None, metadata={
        "description": _for("rating") + " unit (a department or public-service company), section, window or "
                                        "person"})
    person_id = ma.fields.UUID(load_default=None, metadata={"description": _for("rating") + " The person rated"})
    score = ma.fields.Integer(strict=True, load_default=None, validate=ma.validate.Range(1, 5), metadata={
        "description": _for("rating") + " 1 (worst) to 5 (best)"})
    comment = _note(5000, _for("rating") + " Why this score")


class ReportCreateSchema(ReportBodySchema):
    id = new_record_id()


class ReportAmendSchema(ReportBodySchema):
    amendment_note = amendment_note()


class ReportSchema(RecordEnvelopeSchema):
    submitted_by = ma.fields.Nested(UserRefSchema)
    location = LocationField(attribute="position", allow_none=True, dump_only=True,
                             metadata={"example": _EXAMPLE_LOCATION})
    report_type = ma.fields.Enum(ReportType)
    point_id = ma.fields.UUID()
    enterprise_id = ma.fields.UUID()
    unit_id = ma.fields.UUID(allow_none=True)
    visited_on = ma.fields.Date(allow_none=True)
    officers = ma.fields.String(allow_none=True)
    filing_shown = ma.fields.Boolean(allow_none=True)
    filing_id = ma.fields.UUID(allow_none=True, metadata={
        "description": "The approved filing that covers an enforcement visit; none found: the unfiled flag"})
    description = ma.fields.String(allow_none=True)
    problem_area = ma.fields.Enum(ProblemArea, allow_none=True)
    text = ma.fields.String(allow_none=True)
    rating_target = ma.fields.Enum(RatingTarget, allow_none=True)
    person_id = ma.fields.UUID(allow_none=True)
    score = ma.fields.Integer(allow_none=True)
    comment = ma.fields.String(allow_none=True)


class ReportQuerySchema(ma.Schema):
    report_type = ma.fields.Enum(ReportType, load_default=None)
    point_id = ma.fields.UUID(load_default=None)
    unit_id = ma.fields.UUID(load_default=None)
    unfiled = ma.fields.Boolean(load_default=None, metadata={
        "description": "true: only enforcement visits with no matching approved filing"})
    review_state = ma.fields.Enum(ReviewState, load_default=None)
    since = ma.fields.AwareDateTime(load_default=None, metadata={"description": "Received at or after"})


# -- leader visits ---------------------------------------------------------------------------


class LeaderVisitBodySchema(RecordBodySchema):
    point_id = ma.fields.UUID(required=True, metadata={"description": "A point the caller is the leader of"})
    visited_at = ma.fields.AwareDateTime(required=True, metadata={
        "description": "When the visit took place", "example": "2026-05-06T09:30:00+08:00"})
    location = LocationField(required=True, metadata={"example": _EXAMPLE_LOCATION})
    notes = _note(5000, "What was discussed or done")


class LeaderVisitCreateSchema(LeaderVisitBodySchema):
    id = new_record_id()


class LeaderVisitAmendSchema(LeaderVisitBodySchema):
    amendment_note = amendment_note()


class LeaderVisitSchema(RecordEnvelopeSchema):
    submitted_by = ma.fields.Nested(UserRefSchema)
    location = LocationField(attribute="position", allow_none=True, dump_only=True,
                             metadata={"example": _EXAMPLE_LOCATION})
    point_id = ma.fields.UUID()
    enterprise_id = ma.fields.UUID()
    visited_at = ma.fields.AwareDateTime()
    notes = ma.fields.String(allow_none=True)
    distance_m = ma.fields.Float(allow_none=True, metadata={
        "description": "Great-circle metres from the enterprise; far (beyond the accuracy) sets far_from_target"})


class LeaderVisitQuerySchema(ma.Schema):
    point_id = ma.fields.UUID(load_default=None)
    since = ma.fields.AwareDateTime(load_default=None, metadata={"description": "Visited at or after"})
    until = ma.fields.AwareDateTime(load_default=None, metadata={"description": "Visited before"})


# -- compliance ------------------------------------------------------------------------------


class ComplianceArgsSchema(ma.Schema):
    period = ma.fields.String(load_default=None, validate=ma.validate.Length(4, 8), metadata={
        "description": "The range reported on: a year (2026), quarter (2026-Q2), month (2026-05) or ISO week "
                       "(2026-W19); default the current year", "example": "2026-Q2"})
    leader_id = ma.fields.UUID(load_default=None, metadata={"description": "Only this leader's points (office)"})


class PeriodSchema(ma.Schema):
    start = ma.fields.Date()
    end = ma.fields.Date()


class PeriodStatusSchema(PeriodSchema):
    visited = ma.fields.Boolean()


class ComplianceSchema(ma.Schema):
    point_id = ma.fields.UUID()
    enterprise = ma.fields.Nested(EnterpriseRefSchema, attribute="point.enterprise")
    covert = ma.fields.Boolean(attribute="point.covert")
    leader = ma.fields.Nested(UserRefSchema)
    obligation = ma.fields.Enum(VisitFrequency, metadata={
        "description": "At least one visit per calendar week (Mon-Sun), month or quarter"})
    active_from = ma.fields.Date(attribute="point.active_from")
    active_to = ma.fields.Date(attribute="point.active_to", allow_none=True)
    range = ma.fields.Nested(PeriodSchema, metadata={"description": "The asked period"})
    periods_due = ma.fields.Integer(metadata={
        "description": "Periods in the range, while the point was active, begun by today"})
    periods_visited = ma.fields.Integer(metadata={"description": "Of those, periods with at least one visit"})
    periods_missed = ma.fields.Integer(metadata={"description": "Of those, periods ended without a visit"})
    missed = ma.fields.List(ma.fields.Nested(PeriodSchema))
    last_visit_at = ma.fields.AwareDateTime(allow_none=True)
    current_period = ma.fields.Nested(PeriodStatusSchema, allow_none=True)
    last_completed_period = ma.fields.Nested(PeriodStatusSchema, allow_none=True)
    behind = ma.fields.Boolean(metadata={
        "description": "The current or the last completed period owes a visit and has none"})


# -- the record kinds of this area (field/records/kinds.py, api/records.py) ---------------------------

register_schemas(KindSchemas(
    kind=kinds.kind('report'), create=ReportCreateSchema, amend=ReportAmendSchema, out=ReportSchema,
    query=ReportQuerySchema, id_param='report_id', docs={
        'list': "Reports the caller may see, newest first (a liaison or leader: their points')",
        'create': ("Report for the liaison's monitoring point\n"
            '\n'
            'Send it again as often as needed: the first sending answers 201, every repeat 200\n'
            'with the stored report; the same id with another body is a 409. An enforcement\n'
            'visit with no approved filing covering it is flagged unfiled.'),
        'get': 'One report',
        'amend': ('Amend a report the office asked more information about (its submitter)\n'
            '\n'
            'The whole report again, as a new version; it goes back to submitted. Sending the\n'
            'same amendment again changes nothing.'),
    }))

register_schemas(KindSchemas(
    kind=kinds.kind('leader_visit'), create=LeaderVisitCreateSchema, amend=LeaderVisitAmendSchema, out=LeaderVisitSchema,
    query=LeaderVisitQuerySchema, id_param='leader_visit_id', docs={
        'list': 'Visits the caller may see, latest visit first (a leader: to their points)',
        'create': ('Log a visit to a point the caller leads\n'
            '\n'
            'Safe to send again: 201 the first time, 200 with the stored visit after; the same\n'
            'id with another body is a 409. A visit far from the enterprise is flagged, not refused.'),
        'get': 'One visit',
        'amend': 'Amend a visit the office asked more information about (its leader)',
    }))
