"""Schemas of inspectors' units, inspection filings, compulsory-measure approvals and inspection records."""

from __future__ import annotations

from field.records import kinds

import re
from decimal import Decimal

import marshmallow as ma
from geoalchemy2.shape import to_shape

from field.filings.coverage import counts_as_approved
from field.filings.inspections import INSPECTION_FLAGS
from field.core.locations import Location
from field.core.models.records import ReviewState
from field.filings.models import ApprovalState, CompulsoryMeasure, FilingKind, InspectionMeasure

from .common import LocationField, StrictSchema, Text
from .directory import EnterpriseRefSchema, UnitRefSchema, UserRefSchema
from .records import (
    KindSchemas,
    RecordBodySchema,
    RecordEnvelopeSchema,
    amendment_note,
    new_record_id,
    register_schemas,
)

_EXAMPLE_LOCATION = {"type": "Point", "coordinates": [106.5286, 29.5026], "crs": "gcj02", "accuracy_m": 8.0}


def _text(limit: int, **metadata):
    return Text(limit, required=True, metadata=metadata)


class Yuan(ma.fields.String):
    """An amount in yuan, exact to the fen: a ``Decimal`` inside, a string with two decimals outside.

    In: a JSON string (``"5000.00"``, ``"5000"``) or a number (``5000``, ``5000.5``). A number is
    read by its shortest decimal form, which for amounts up to 10 digits before the point is
    exactly what the phone wrote. More than two decimals is refused, never rounded.
    """

    _FORM = re.compile(r"^\d{1,10}(\.\d{1,2})?$")

    def _deserialize(self, value, attr, data, **kwargs) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ma.ValidationError('An amount in yuan: a string such as "5000.00" or a number.')
        text = value.strip() if isinstance(value, str) else repr(value)
        if text.startswith("-"):
            raise ma.ValidationError("An amount is not negative.")
        if not self._FORM.match(text):
            raise ma.ValidationError("Yuan with at most two decimals (fen), at most 9999999999.99, "
                                     'e.g. "5000.00"; nothing is rounded.')
        return Decimal(text).quantize(Decimal("0.01"))

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else f"{value:.2f}"


class EnvelopeLocationField(LocationField):
    """The record envelope's point and accuracy (stored WGS-84), written in the request's CRS."""

    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        geometry = getattr(obj, "location", None)
        if geometry is None:
            return None
        point = to_shape(geometry)
        return Location(point.x, point.y, getattr(obj, "accuracy_m", None))


# -- inspectors' units ------------------------------------------------------------------------------


class InspectorUnitSchema(ma.Schema):
    user_id = ma.fields.UUID()
    unit = ma.fields.Nested(UnitRefSchema)
    assigned_by_id = ma.fields.UUID(allow_none=True)
    assigned_at = ma.fields.AwareDateTime()


class InspectorUnitSetSchema(StrictSchema):
    unit_id = ma.fields.UUID(required=True, metadata={"description": "A department or section in the scope of "
                                                                    "both the admin and the inspector"})


# -- compulsory measures ----------------------------------------------------------------------------

_MEASURE_HELP = "sealing 查封, seizure 扣押, freezing 冻结, other 其他行政强制措施 (say which in the reason)"


class MeasureSchema(ma.Schema):
    id = ma.fields.UUID()
    jurisdiction_id = ma.fields.UUID()
    unit = ma.fields.Nested(UnitRefSchema)
    enterprise = ma.fields.Nested(EnterpriseRefSchema)
    filing_id = ma.fields.UUID(allow_none=True, metadata={"description": "The filing it was planned in"})
    measure = ma.fields.Enum(CompulsoryMeasure, metadata={"description": _MEASURE_HELP})
    reason = ma.fields.String()
    state = ma.fields.Enum(ApprovalState, metadata={"description": "requested, then approved or rejected"})
    requested_by = ma.fields.Nested(UserRefSchema)
    requested_at = ma.fields.AwareDateTime(attribute="created_at")
    decided_by = ma.fields.Nested(UserRefSchema, allow_none=True)
    decided_at = ma.fields.AwareDateTime(allow_none=True)
    decision_note = ma.fields.String(allow_none=True)
    taken_in_record_id = ma.fields.Function(
        lambda approval: str(approval.taken_in.id) if approval.taken_in is not None else None,
        metadata={"type": ["string", "null"], "format": "uuid",
                  "description": "The inspection record that recorded the measure as taken"})


class PlannedMeasureSchema(StrictSchema):
    enterprise_id = ma.fields.UUID(required=True, metadata={"description": "One of the filing's enterprises"})
    measure = ma.fields.Enum(CompulsoryMeasure, required=True, metadata={"description": _MEASURE_HELP})
    reason = _text(2000, description="Why the measure may be needed", example="疑似存放不合格产品，拟查封仓库")


class MeasureCreateSchema(PlannedMeasureSchema):
    filing_id = ma.fields.UUID(load_default=None, metadata={
        "description": "The unit's filing it belongs to, if any (it must name the enterprise)"})


class MeasureDecisionSchema(StrictSchema):
    state = ma.fields.Enum(ApprovalState, required=True, validate=ma.validate.OneOf(
        [ApprovalState.approved, ApprovalState.rejected]), metadata={"description": "approved or rejected"})
    note = Text(5000, blank=True, load_default=None, metadata={"description": "Required when rejecting"})


class MeasureQuerySchema(ma.Schema):
    state = ma.fields.Enum(ApprovalState, load_default=None)
    enterprise_id = ma.fields.UUID(load_default=None)
    filing_id = ma.fields.UUID(load_default=None)


# -- filings ----------------------------------------------------------------------------------------

_KIND_HELP = ("annual_plan (年度计划, routine; the window may not start before the filing day and lies in one "
              "year), ad_hoc (临时; the window starts 5 working days after the filing day at the earliest), "
              "statutory_exempt (mandated by law, e.g. 安全生产: no prior approval, exemption_basis required)")


class FilingBodySchema(RecordBodySchema):
    filing_kind = ma.fields.Enum(FilingKind, required=True, metadata={"description": _KIND_HELP})
    enterprise_ids = ma.fields.List(ma.fields.UUID(), required=True, validate=ma.validate.Length(1, 50), metadata={
        "description": "The enterprises to be inspected, in the inspector's scope"})
    purpose = _text(2000, example="核查食品经营许可及进货查验记录")
    legal_basis = _text(2000, example="《中华人民共和国食品安全法》第一百一十条")
    exemption_basis = Text(2000, blank=True, load_default=None, allow_none=True,
                           metadata={"description": "statutory_exempt only: the law that mandates the inspection",
                                     "example": "《安全生产法》第六十五条"})
    planned_start = ma.fields.Date(required=True, metadata={"example": "2026-06-15"})
    planned_end = ma.fields.Date(required=True, metadata={"example": "2026-06-19"})
    inspector_ids = ma.fields.List(ma.fields.UUID(), load_default=None, validate=ma.validate.Length(1, 20), metadata={
        "description": "Inspectors of the same unit who will inspect; default: the filer"})


class FilingCreateSchema(FilingBodySchema):
    id = new_record_id()
    planned_measures = ma.fields.List(ma.fields.Nested(PlannedMeasureSchema), load_default=list,
                                      validate=ma.validate.Length(0, 20), metadata={
                                          "description": "Compulsory measures that may be needed; each becomes a "
                                                         "request the office approves on its own"})


class FilingAmendSchema(FilingBodySchema):
    amendment_note = amendment_note()


class FilingSchema(RecordEnvelopeSchema):
    location = EnvelopeLocationField(dump_only=True, allow_none=True)
    submitted_by = ma.fields.Nested(UserRefSchema)
    unit_id = ma.fields.UUID()
    filing_kind = ma.fields.Enum(FilingKind)
    purpose = ma.fields.String()
    legal_basis = ma.fields.String()
    exemption_basis = ma.fields.String(allow_none=True)
    planned_start = ma.fields.Date()
    planned_end = ma.fields.Date()
    filed_on = ma.fields.Date(metadata={"description": "The office's date when the filing (or its latest "
                                                       "amendment) arrived: notice counts from it"})
    notice_provisional = ma.fields.Boolean(metadata={
        "description": "The 5-working-day notice ran into a year without a declared schedule and was counted on "
                       "weekends alone (docs/calendar.md); judged on that count, not judged again"})
    covering = ma.fields.Function(counts_as_approved, metadata={
        "type": "boolean", "description": "Whether it covers inspections: approved (review accepted), or "
                                          "statutory_exempt and not rejected"})
    enterprises = ma.fields.List(ma.fields.Nested(EnterpriseRefSchema))
    inspectors = ma.fields.List(ma.fields.Nested(UserRefSchema))
    measures = ma.fields.List(ma.fields.Nested(MeasureSchema), metadata={
        "description": "Compulsory measures planned in this filing, each with its own approval"})


class FilingQuerySchema(ma.Schema):
    filing_kind = ma.fields.Enum(FilingKind, load_default=None)
    review_state = ma.fields.Enum(ReviewState, load_default=None)
    enterprise_id = ma.fields.UUID(load_default=None)
    unit_id = ma.fields.UUID(load_default=None)
    active_on = ma.fields.Date(load_default=None, metadata={"description": "Only filings whose window holds this day"})


# -- inspection records -----------------------------------------------------------------------------

_INSPECTION_MEASURE_HELP = ("none, order_to_rectify 责令改正, first_violation_exemption 首违免罚, warning 警告, "
                            "fine 罚款 (fine_amount), compulsory_measure 行政强制措施 (compulsory_measure_id, approved)")


class InspectionBodySchema(RecordBodySchema):
    enterprise_id = ma.fields.UUID(required=True)
    filing_id = ma.fields.UUID(load_default=None, allow_none=True, metadata={
        "description": "The unit's filing this inspection carries out, if any"})
    location = LocationField(required=True, metadata={"description": "The check-in position",
                                                      "example": _EXAMPLE_LOCATION})
    checked = _text(5000, description="What was checked", example="食品经营许可证、进货查验记录、冷库温度")
    found = Text(5000, blank=True, required=True, metadata={
        "description": "What was found (empty: nothing)", "example": "冷库温度记录缺失 3 天"})
    measure = ma.fields.Enum(InspectionMeasure, required=True, metadata={"description": _INSPECTION_MEASURE_HELP})
    fine_amount = Yuan(load_default=None, allow_none=True, metadata={
        "description": 'fine only: yuan, a string ("5000.00") or a number, at most two decimals; answered as '
                       "a string with two decimals", "example": "5000.00"})
    compulsory_measure_id = ma.fields.UUID(load_default=None, allow_none=True, metadata={
        "description": "compulsory_measure only: the approved measure request taken"})


class InspectionCreateSchema(InspectionBodySchema):
    id = new_record_id()


class InspectionAmendSchema(InspectionBodySchema):
    amendment_note = amendment_note()


class InspectionSchema(RecordEnvelopeSchema):
    location = EnvelopeLocationField(dump_only=True, allow_none=True, metadata={"example": _EXAMPLE_LOCATION})
    submitted_by = ma.fields.Nested(UserRefSchema)
    unit_id = ma.fields.UUID()
    enterprise = ma.fields.Nested(EnterpriseRefSchema)
    filing_id = ma.fields.UUID(allow_none=True, metadata={"description": "The filing the phone named"})
    covering_filing_id = ma.fields.UUID(allow_none=True, metadata={
        "description": "The approved or statutory filing covering it; null: unfiled"})
    inspected_at = ma.fields.AwareDateTime(metadata={
        "description": "Device time corrected by the device's clock skew when the phone sent X-Device-Time"})
    inspected_on = ma.fields.Date(metadata={"description": "The office's day (Asia/Shanghai) of the inspection"})
    checked = ma.fields.String()
    found = ma.fields.String()
    measure = ma.fields.Enum(InspectionMeasure)
    fine_amount = Yuan(allow_none=True)
    compulsory_measure_id = ma.fields.UUID(allow_none=True)
    distance_m = ma.fields.Float(allow_none=True, metadata={
        "description": "Great-circle metres from the enterprise's position (null: it has none)"})


class InspectionQuerySchema(ma.Schema):
    enterprise_id = ma.fields.UUID(load_default=None)
    filing_id = ma.fields.UUID(load_default=None, metadata={"description": "Named by the phone or covering"})
    unit_id = ma.fields.UUID(load_default=None)
    measure = ma.fields.Enum(InspectionMeasure, load_default=None)
    flag = ma.fields.String(load_default=None, validate=ma.validate.OneOf(sorted(INSPECTION_FLAGS)))
    review_state = ma.fields.Enum(ReviewState, load_default=None)
    start = ma.fields.Date(load_default=None, data_key="from", metadata={"description": "Inspected on or after"})
    end = ma.fields.Date(load_default=None, data_key="to", metadata={"description": "Inspected on or before"})


# -- unfiled inspections ----------------------------------------------------------------------------


class UnfiledSchema(RecordEnvelopeSchema):
    """Any record flagged unfiled: an inspection record, a liaison's enforcement-visit report, …"""

    location = EnvelopeLocationField(dump_only=True, allow_none=True)
    submitted_by = ma.fields.Nested(UserRefSchema)
    unit_id = ma.fields.UUID(allow_none=True, metadata={"description": "The unit that inspected"})
    enterprise_id = ma.fields.Function(
        lambda record: str(record.enterprise_id) if getattr(record, "enterprise_id", None) else None,
        metadata={"type": ["string", "null"], "format": "uuid", "description": "The enterprise inspected"})


class UnfiledQuerySchema(ma.Schema):
    kind = ma.fields.String(load_default=None, metadata={"description": "inspection, report, …"})
    unit_id = ma.fields.UUID(load_default=None)
    review_state = ma.fields.Enum(ReviewState, load_default=None)


# -- the record kinds of this area (field/records/kinds.py, api/records.py) ---------------------------

register_schemas(KindSchemas(
    kind=kinds.kind('filing'), create=FilingCreateSchema, amend=FilingAmendSchema, out=FilingSchema,
    query=FilingQuerySchema, id_param='filing_id', located=False, docs={
        'list': "Filings the caller may see, newest first (an inspector: their unit's)",
        'create': ("File a planned inspection for the inspector's unit\n"
            '\n'
            'Safe to send again: 201 the first time, 200 with the stored filing after; the same id\n'
            'with another body is a 409. An ad_hoc window starting fewer than 5 working days after\n'
            'today (Asia/Shanghai, server clock) is a 422 on planned_start with ``earliest``, the\n'
            'first allowed day. Approval is the generic review (accepted = approved).'),
        'get': 'One filing',
        'amend': ('Amend a filing the office asked more information about (its filer)\n'
            '\n'
            'The whole filing again, as a new version, checked as if filed today; it goes back\n'
            'to submitted. Planned measures are not part of it: request more on their own.'),
    }))

register_schemas(KindSchemas(
    kind=kinds.kind('inspection'), create=InspectionCreateSchema, amend=InspectionAmendSchema, out=InspectionSchema,
    query=InspectionQuerySchema, id_param='inspection_id', docs={
        'list': "Inspection records the caller may see, newest first (an inspector: their unit's)",
        'create': ("Record an on-site inspection (check-in, findings, measure) for the inspector's unit\n"
            '\n'
            'Safe to send again: 201 the first time, 200 with the stored record after; the same id\n'
            'with another body is a 409. A check-in farther from the enterprise than\n'
            'FAR_FROM_TARGET_M (beyond its accuracy) is flagged far_from_target; one with no\n'
            'approved or statutory filing covering the enterprise, unit and day is flagged\n'
            'unfiled. A compulsory measure not approved is a 409 naming it.'),
        'get': 'One inspection record',
        'amend': ('Amend an inspection record the office asked more information about (its inspector)\n'
            '\n'
            'The whole record again, as a new version; distance and coverage are judged again.'),
    }))
