"""The office's figures: the query (jurisdiction, period, format) and the JSON answer (design: field/figures/figures.py)."""

from __future__ import annotations

import marshmallow as ma

from .common import StrictSchema


class FiguresArgsSchema(StrictSchema):
    start = ma.fields.Date(required=True, data_key="from", metadata={"description": "First day (local), included"})
    end = ma.fields.Date(required=True, data_key="to", metadata={"description": "Last day (local), included"})
    jurisdiction_id = ma.fields.UUID(load_default=None,
                                     metadata={"description": "Default: the caller's; its subtree is counted"})
    format = ma.fields.String(load_default="json", validate=ma.validate.OneOf(["json", "csv"]))


class FiguresComparedSchema(ma.Schema):
    """A number in the period and in the previous period of the same length."""

    current = ma.fields.Raw(allow_none=True)
    previous = ma.fields.Raw(allow_none=True)
    change = ma.fields.Raw(allow_none=True)
    change_pct = ma.fields.Float(allow_none=True, metadata={"description": "None when the previous value is 0"})
    provisional = ma.fields.Boolean(metadata={
        "description": "Only on figures that rest on the working-day calendar (overdue, handling days): true when "
                       "a value read was counted over a year without a declared schedule (docs/calendar.md)"})


def _compared():
    return ma.fields.Nested(FiguresComparedSchema)


class FiguresJurisdictionSchema(ma.Schema):
    id = ma.fields.UUID()
    code = ma.fields.String()
    name = ma.fields.String()


class FiguresSpanSchema(ma.Schema):
    start = ma.fields.Date(data_key="from")
    end = ma.fields.Date(data_key="to")

    @ma.pre_dump
    def _keys(self, data, **kw):
        return {"start": data["from"], "end": data["to"]}


class CaseFiguresSchema(ma.Schema):
    opened = _compared()
    closed = _compared()
    dismissed = _compared()
    overdue = _compared()
    closure_rate = _compared()
    handling_days_mean = _compared()
    handling_days_median = _compared()


class DispositionFiguresSchema(ma.Schema):
    persons_by_rank = ma.fields.Dict(keys=ma.fields.String(), values=_compared())
    by_kind = ma.fields.Dict(keys=ma.fields.String(), values=_compared())


class UnitFiguresSchema(ma.Schema):
    unit_id = ma.fields.UUID()
    name = ma.fields.String(allow_none=True)
    findings = ma.fields.Integer()
    complaints = ma.fields.Integer()
    reports = ma.fields.Integer()
    complaints_and_reports = ma.fields.Integer()
    cases = ma.fields.Integer()
    rank_by_findings = ma.fields.Integer(allow_none=True)
    rank_by_complaints = ma.fields.Integer(allow_none=True)
    rank_by_cases = ma.fields.Integer(allow_none=True)
    loses_excellent_grade = ma.fields.Boolean()


class EnterpriseFiguresSchema(ma.Schema):
    enterprise_id = ma.fields.UUID()
    name = ma.fields.String(allow_none=True)
    inspections = _compared()
    penalties = _compared()
    fines_total = _compared()


class InspectionFiguresSchema(ma.Schema):
    penalty_measures = ma.fields.List(ma.fields.String())
    inspections = _compared()
    penalties = _compared()
    fines_total = _compared()
    unfiled = _compared()
    per_enterprise = ma.fields.List(ma.fields.Nested(EnterpriseFiguresSchema))


class LeaderVisitFiguresSchema(ma.Schema):
    obligation = ma.fields.String()
    periods_due = ma.fields.Integer()
    periods_visited = ma.fields.Integer()
    periods_missed = ma.fields.Integer()


class PointFiguresSchema(ma.Schema):
    point_id = ma.fields.UUID()
    enterprise_id = ma.fields.UUID()
    name = ma.fields.String()
    covert = ma.fields.Boolean()
    reports = _compared()
    leader_visits = ma.fields.Nested(LeaderVisitFiguresSchema, allow_none=True)


class CallbackFiguresSchema(ma.Schema):
    sampled = _compared()
    called = _compared()
    reached = _compared()
    satisfied = _compared()
    dissatisfied = _compared()


class FiguresWarningSchema(ma.Schema):
    code = ma.fields.String(metadata={"example": "calendar_year_undeclared"})
    year = ma.fields.Integer()
    message = ma.fields.String()
    jurisdictions = ma.fields.List(ma.fields.String())


class EvaluationFiguresSchema(ma.Schema):
    """A campaign whose window meets the period (field/evaluations/results.py campaigns_in); compared with the
    campaign before it, not with the previous period."""

    campaign_id = ma.fields.UUID()
    title = ma.fields.String()
    kind = ma.fields.String()
    opens_on = ma.fields.Date()
    closes_on = ma.fields.Date()
    previous_id = ma.fields.UUID(allow_none=True)
    ballots = _compared()
    satisfaction_rate = _compared()
    top = ma.fields.List(ma.fields.String())
    bottom = ma.fields.List(ma.fields.String())
    most_satisfied = ma.fields.List(ma.fields.String())
    least_satisfied = ma.fields.List(ma.fields.String())
    talk = ma.fields.List(ma.fields.String(), metadata={"description": "Last two months running at the bottom"})
    bad_ratings = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), metadata={
        "description": "opened, verified, withdrawn (appeal upheld), overdue (as of today)"})
class ComplaintUnitFiguresSchema(ma.Schema):
    """A unit's complaints of the period and the three rates (docs/complaints.md has the definitions)."""

    unit_id = ma.fields.UUID()
    name = ma.fields.String()
    received = ma.fields.Integer()
    responded_in_time = ma.fields.Integer()
    resolved = ma.fields.Integer()
    judged = ma.fields.Integer()
    satisfied = ma.fields.Integer()
    rated = ma.fields.Integer()
    overdue = ma.fields.Integer()
    response_rate = ma.fields.Float(allow_none=True, metadata={"description": "响应率: responded in time / received"})
    resolution_rate = ma.fields.Float(allow_none=True, metadata={"description": "解决率: resolved / judged"})
    satisfaction_rate = ma.fields.Float(allow_none=True, metadata={
        "description": "满意率: satisfied or basically satisfied / rated"})
    median_handling_working_days = ma.fields.Float(allow_none=True)
    rank_by_complaints = ma.fields.Integer()
    loses_excellent_grade = ma.fields.Boolean()


class FiguresSchema(ma.Schema):
    warnings = ma.fields.List(ma.fields.Nested(FiguresWarningSchema), metadata={
        "description": "From 1 November: next year's working-day schedule not declared (docs/calendar.md)"})
    jurisdiction = ma.fields.Nested(FiguresJurisdictionSchema)
    period = ma.fields.Nested(FiguresSpanSchema)
    previous_period = ma.fields.Nested(FiguresSpanSchema)
    cases = ma.fields.Nested(CaseFiguresSchema)
    dispositions = ma.fields.Nested(DispositionFiguresSchema)
    units = ma.fields.List(ma.fields.Nested(UnitFiguresSchema))
    inspections = ma.fields.Nested(InspectionFiguresSchema)
    monitoring_points = ma.fields.List(ma.fields.Nested(PointFiguresSchema))
    callbacks = ma.fields.Nested(CallbackFiguresSchema)
    evaluations = ma.fields.List(ma.fields.Nested(EvaluationFiguresSchema))
    complaint_units = ma.fields.List(ma.fields.Nested(ComplaintUnitFiguresSchema), metadata={
        "description": "Complaints per unit: the three rates, the ranking with the top three flagged"})
