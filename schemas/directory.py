"""Schemas of the directory: units, persons, enterprises, monitoring points, squads."""

from __future__ import annotations

import marshmallow as ma

from field.directory.models import PersonRank, UnitKind, VisitFrequency
from field.accounts.users import MIN_PASSWORD_LENGTH

from .common import Line, LocationField, StrictSchema, Text

_JURISDICTION_HELP = "Defaults to the admin's own jurisdiction"


def _distance():
    return ma.fields.Float(dump_only=True, metadata={
        "description": "Great-circle metres from `near`; only when the list was asked with `near`"})


_EXAMPLE_LOCATION = {"type": "Point", "coordinates": [106.5286, 29.5026], "crs": "gcj02", "accuracy_m": 8.0}


def _text(limit: int, **kwargs):
    return Line(limit, **kwargs)


def _optional_text(limit: int, **kwargs):
    return Line(limit, blank=True, allow_none=True, **kwargs)


class UnitRefSchema(ma.Schema):
    id = ma.fields.UUID()
    name = ma.fields.String()
    kind = ma.fields.Enum(UnitKind)


class UserRefSchema(ma.Schema):
    id = ma.fields.UUID()
    display_name = ma.fields.String(metadata={"example": "李明"})


class PointStatusSchema(ma.Schema):
    """The enterprise's monitoring point, when the caller may know of it."""

    id = ma.fields.UUID()
    covert = ma.fields.Boolean()


# -- units ----------------------------------------------------------------------------------


class UnitSchema(ma.Schema):
    id = ma.fields.UUID()
    jurisdiction_id = ma.fields.UUID()
    parent_id = ma.fields.UUID(allow_none=True, metadata={"description": "The department above a section or window"})
    name = ma.fields.String(metadata={"example": "区市场监督管理局"})
    kind = ma.fields.Enum(UnitKind, metadata={
        "description": "department 政府部门, public_service 公共服务企业 (water, power, gas), section 科室, window 窗口"})
    address = ma.fields.String(allow_none=True, metadata={"example": "九龙坡区杨家坪正街 1 号"})
    location = LocationField(allow_none=True, metadata={"example": _EXAMPLE_LOCATION})
    distance_m = _distance()
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


class UnitCreateSchema(StrictSchema):
    name = _text(200, required=True, metadata={"example": "登记注册科"})
    kind = ma.fields.Enum(UnitKind, required=True, metadata={"example": "section"})
    jurisdiction_id = ma.fields.UUID(load_default=None, metadata={
        "description": _JURISDICTION_HELP + "; a section or window is always in its parent's"})
    parent_id = ma.fields.UUID(load_default=None)
    address = _optional_text(300, load_default=None)
    location = LocationField(allow_none=True, load_default=None, metadata={"example": _EXAMPLE_LOCATION})


class UnitUpdateSchema(StrictSchema):
    name = _text(200)
    kind = ma.fields.Enum(UnitKind)
    jurisdiction_id = ma.fields.UUID(metadata={"description": "Moves the unit with its sections and staff"})
    parent_id = ma.fields.UUID(allow_none=True)
    address = _optional_text(300)
    location = LocationField(allow_none=True)


class UnitQuerySchema(ma.Schema):
    parent_id = ma.fields.UUID(load_default=None, metadata={"description": "Only the units right below this one"})
    top_level = ma.fields.Boolean(load_default=False, metadata={"description": "Only units with no parent"})
    kind = ma.fields.Enum(UnitKind, load_default=None)
    q = ma.fields.String(load_default=None, validate=ma.validate.Length(1, 100),
                         metadata={"description": "Text in the name or address"})


# -- persons --------------------------------------------------------------------------------


class PersonSchema(ma.Schema):
    id = ma.fields.UUID()
    jurisdiction_id = ma.fields.UUID()
    unit_id = ma.fields.UUID()
    unit = ma.fields.Nested(UnitRefSchema)
    name = ma.fields.String(metadata={"example": "王建国"})
    post = ma.fields.String(allow_none=True, metadata={"example": "科长"})
    rank = ma.fields.Enum(PersonRank, allow_none=True, metadata={
        "description": "division 处级, section 科级, below_section 科级以下"})
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


class PersonCreateSchema(StrictSchema):
    unit_id = ma.fields.UUID(required=True)
    name = _text(100, required=True, metadata={"example": "王建国"})
    post = _optional_text(100, load_default=None, metadata={"example": "科长"})
    rank = ma.fields.Enum(PersonRank, allow_none=True, load_default=None, metadata={"example": "section"})


class PersonUpdateSchema(StrictSchema):
    unit_id = ma.fields.UUID()
    name = _text(100)
    post = _optional_text(100)
    rank = ma.fields.Enum(PersonRank, allow_none=True)


class PersonQuerySchema(ma.Schema):
    unit_id = ma.fields.UUID(load_default=None)
    rank = ma.fields.Enum(PersonRank, load_default=None)
    q = ma.fields.String(load_default=None, validate=ma.validate.Length(1, 100),
                         metadata={"description": "Text in the name or post"})


# -- enterprises ----------------------------------------------------------------------------


_CODE_HELP = ("统一社会信用代码, 18 characters, checked with both check characters (GB 32100-2015, GB 11714); "
              "full-width and lower-case input is normalised")


class EnterpriseSchema(ma.Schema):
    id = ma.fields.UUID()
    jurisdiction_id = ma.fields.UUID()
    name = ma.fields.String(metadata={"example": "重庆九龙精密机械有限公司"})
    credit_code = ma.fields.String(metadata={"example": "91500107MA5U7G8X5Q", "description": _CODE_HELP})
    address = ma.fields.String(allow_none=True)
    location = LocationField(allow_none=True, metadata={"example": _EXAMPLE_LOCATION})
    above_designated_size = ma.fields.Boolean(metadata={"description": "规模以上企业"})
    key_enterprise = ma.fields.Boolean(metadata={"description": "重点企业"})
    key_project = ma.fields.Boolean(metadata={"description": "重点项目"})
    contact_name = ma.fields.String(allow_none=True, metadata={"example": "陈经理"})
    contact_phone = ma.fields.String(allow_none=True, metadata={"example": "023-68780000"})
    monitoring_point = ma.fields.Nested(PointStatusSchema, attribute="visible_point", allow_none=True, metadata={
        "description": "Its monitoring point, if it is one and the caller may know: a covert point is "
                       "shown only to the office and the point's own liaisons and leader"})
    distance_m = _distance()
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


class EnterpriseCreateSchema(StrictSchema):
    name = _text(200, required=True, metadata={"example": "重庆九龙精密机械有限公司"})
    credit_code = Line(40, required=True, metadata={"example": "91500107MA5U7G8X5Q", "description": _CODE_HELP})
    jurisdiction_id = ma.fields.UUID(load_default=None, metadata={"description": _JURISDICTION_HELP})
    address = _optional_text(300, load_default=None)
    location = LocationField(allow_none=True, load_default=None, metadata={"example": _EXAMPLE_LOCATION})
    above_designated_size = ma.fields.Boolean(load_default=False)
    key_enterprise = ma.fields.Boolean(load_default=False)
    key_project = ma.fields.Boolean(load_default=False)
    contact_name = _optional_text(100, load_default=None)
    contact_phone = _optional_text(32, load_default=None)


class EnterpriseUpdateSchema(StrictSchema):
    name = _text(200)
    credit_code = Line(40)
    jurisdiction_id = ma.fields.UUID()
    address = _optional_text(300)
    location = LocationField(allow_none=True)
    above_designated_size = ma.fields.Boolean()
    key_enterprise = ma.fields.Boolean()
    key_project = ma.fields.Boolean()
    contact_name = _optional_text(100)
    contact_phone = _optional_text(32)


class EnterpriseQuerySchema(ma.Schema):
    q = ma.fields.String(load_default=None, validate=ma.validate.Length(1, 100),
                         metadata={"description": "Text in the name, credit code or address"})
    credit_code = ma.fields.String(load_default=None, validate=ma.validate.Length(1, 40))
    monitoring_point = ma.fields.Boolean(load_default=None, metadata={
        "description": "Only monitoring points (true) or only the others (false), as far as the caller may know"})
    above_designated_size = ma.fields.Boolean(load_default=None)
    key_enterprise = ma.fields.Boolean(load_default=None)
    key_project = ma.fields.Boolean(load_default=None)


# -- monitoring points ----------------------------------------------------------------------


class EnterpriseRefSchema(ma.Schema):
    id = ma.fields.UUID()
    name = ma.fields.String(metadata={"example": "重庆九龙精密机械有限公司"})
    credit_code = ma.fields.String(metadata={"example": "91500107MA5U7G8X5Q"})


class MonitoringPointSchema(ma.Schema):
    id = ma.fields.UUID()
    jurisdiction_id = ma.fields.UUID()
    enterprise = ma.fields.Nested(EnterpriseRefSchema)
    location = LocationField(attribute="enterprise.location", allow_none=True, dump_only=True,
                             metadata={"description": "The enterprise's location"})
    covert = ma.fields.Boolean(metadata={"description": "Covert points are visible only to the office and to "
                                                        "the point's own liaisons and leader"})
    liaisons = ma.fields.List(ma.fields.Nested(UserRefSchema))
    leader = ma.fields.Nested(UserRefSchema, allow_none=True)
    visit_frequency = ma.fields.Enum(VisitFrequency, allow_none=True, metadata={
        "description": "The leader visits at least once per calendar week, month or quarter"})
    active_from = ma.fields.Date(metadata={"example": "2025-01-01"})
    active_to = ma.fields.Date(allow_none=True)
    distance_m = _distance()
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


class MonitoringPointCreateSchema(StrictSchema):
    enterprise_id = ma.fields.UUID(required=True)
    covert = ma.fields.Boolean(load_default=False, metadata={"example": True})
    liaison_ids = ma.fields.List(ma.fields.UUID(), load_default=list, validate=ma.validate.Length(0, 20),
                                 metadata={"description": "Users with the liaison role"})
    leader_id = ma.fields.UUID(load_default=None, metadata={"description": "A user with the leader role"})
    visit_frequency = ma.fields.Enum(VisitFrequency, load_default=None, metadata={"example": "monthly"})
    active_from = ma.fields.Date(required=True, metadata={"example": "2025-01-01"})
    active_to = ma.fields.Date(allow_none=True, load_default=None)


class MonitoringPointUpdateSchema(StrictSchema):
    covert = ma.fields.Boolean()
    liaison_ids = ma.fields.List(ma.fields.UUID(), validate=ma.validate.Length(0, 20),
                                 metadata={"description": "Replaces the list"})
    leader_id = ma.fields.UUID(allow_none=True)
    visit_frequency = ma.fields.Enum(VisitFrequency, allow_none=True)
    active_from = ma.fields.Date()
    active_to = ma.fields.Date(allow_none=True)


class MonitoringPointQuerySchema(ma.Schema):
    covert = ma.fields.Boolean(load_default=None)
    enterprise_id = ma.fields.UUID(load_default=None)
    leader_id = ma.fields.UUID(load_default=None)
    liaison_id = ma.fields.UUID(load_default=None)
    active_on = ma.fields.Date(load_default=None, metadata={"description": "Only points active on this date"})
    q = ma.fields.String(load_default=None, validate=ma.validate.Length(1, 100),
                         metadata={"description": "Text in the enterprise's name or credit code"})


# -- squads ---------------------------------------------------------------------------------


class SquadMemberSchema(ma.Schema):
    """A monitor as everyone sees them: a code. The real identity needs the audited unmask."""

    user_id = ma.fields.UUID()
    code = ma.fields.String(metadata={"example": "JLP-A07"})
    joined_at = ma.fields.AwareDateTime()
    left_at = ma.fields.AwareDateTime(allow_none=True)


class SquadSchema(ma.Schema):
    id = ma.fields.UUID()
    jurisdiction_id = ma.fields.UUID()
    name = ma.fields.String(metadata={"example": "九龙坡区第一暗访小分队"})
    code_prefix = ma.fields.String(metadata={"example": "JLP"})
    members = ma.fields.List(ma.fields.Nested(SquadMemberSchema), attribute="current_members",
                             metadata={"description": "Current members, by code"})
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


class SquadCreateSchema(StrictSchema):
    name = _text(100, required=True, metadata={"example": "九龙坡区第一暗访小分队"})
    code_prefix = ma.fields.String(required=True, validate=ma.validate.Regexp(
        r"^[A-Za-z]{2,6}$", error="Two to six letters."), metadata={
        "example": "JLP", "description": "Start of the members' codes (JLP → JLP-A01); unique, never reused"})
    jurisdiction_id = ma.fields.UUID(load_default=None, metadata={"description": _JURISDICTION_HELP})


class SquadUpdateSchema(StrictSchema):
    name = _text(100)


class SquadQuerySchema(ma.Schema):
    q = ma.fields.String(load_default=None, validate=ma.validate.Length(1, 100))


class SquadMemberQuerySchema(ma.Schema):
    include_former = ma.fields.Boolean(load_default=False)


class SquadMemberCreateSchema(StrictSchema):
    real_name = _text(100, required=True, load_only=True, metadata={"example": "张卫东"})
    phone = _optional_text(32, load_default=None, load_only=True, metadata={"example": "13800000000"})
    password = ma.fields.String(load_only=True, load_default=None,
                                validate=ma.validate.Length(MIN_PASSWORD_LENGTH, 1024), metadata={
        "description": "For a new account, whose username is the code in lower case (jlp-a07)"})
    user_id = ma.fields.UUID(load_default=None, metadata={
        "description": "Instead of a password: an existing account with the squad_member role; its display "
                       "name becomes the code"})


class SquadMemberUpdateSchema(StrictSchema):
    real_name = _text(100, load_only=True)
    phone = _optional_text(32, load_only=True)


class UnmaskSchema(StrictSchema):
    reason = Text(500, required=True, validate=ma.validate.Length(2, 500),
                  metadata={"example": "核实暗访反映问题的线索来源"})


class IdentitySchema(ma.Schema):
    user_id = ma.fields.UUID()
    code = ma.fields.String(metadata={"example": "JLP-A07"})
    real_name = ma.fields.String(metadata={"example": "张卫东", "x-identity": "monitor"})
    phone = ma.fields.String(allow_none=True, metadata={"example": "13800000000", "x-identity": "monitor"})
    disclosure_id = ma.fields.UUID(metadata={"description": "The audit entry this unmasking wrote"})
    disclosed_at = ma.fields.AwareDateTime()


class DisclosureSchema(ma.Schema):
    id = ma.fields.UUID()
    actor_id = ma.fields.UUID(metadata={"description": "The admin who unmasked"})
    subject_id = ma.fields.UUID(metadata={"description": "The monitor's account"})
    squad_id = ma.fields.UUID()
    device_id = ma.fields.UUID(allow_none=True, metadata={"description": "The device token of the request"})
    reason = ma.fields.String()
    disclosed_at = ma.fields.AwareDateTime()


# -- the directory as a whole ----------------------------------------------------------------


class PointCountsSchema(ma.Schema):
    open = ma.fields.Integer()
    covert = ma.fields.Integer()


class DirectoryCountsSchema(ma.Schema):
    units = ma.fields.Integer(metadata={"example": 86})
    persons = ma.fields.Integer(metadata={"example": 412})
    enterprises = ma.fields.Integer(metadata={"example": 3120})
    monitoring_points = ma.fields.Nested(PointCountsSchema, metadata={
        "description": "As far as the caller may know: covert points count only for the office and their own people"})
    squads = ma.fields.Integer(metadata={"example": 2})
