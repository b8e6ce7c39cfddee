"""The endpoints of every kind of field record, made from the record-kind seam.

For each kind registered in field/records/kinds.py with its schemas registered in
schemas/records.py (``register_schemas``), this module makes:

    GET  /api/v1/<path>               the kind's list (the domain's query and paging keys)
    POST /api/v1/<path>               submit: 201 the first time, 200 for a repeat, 409 for another body
    GET  /api/v1/<path>/{<id_param>}  one record the caller may see
    PUT  /api/v1/<path>/{<id_param>}  the submitter's amendment after needs_info

Review, comments and versions (api/reviews.py), the sync feed and the exports (api/exports.py)
are generic too. Authorization is the domain's (``kind.allow``, the verbs' and lookups' own
checks, the undercover area's 404 included); this module authenticates, reads, calls and answers.
"""

from __future__ import annotations


from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from field.records.kinds import Context
from schemas.common import AreaArgsSchema, PageArgsSchema, page_of
from schemas.records import KindSchemas, kind_schemas

from .auth import authenticated, current_user
from .clock import office_day
from .db import db
from .located import located
from .submissions import receipt, status_of

blp = Blueprint("records", __name__, url_prefix="/api/v1",
                description="Every kind of field record, submitted offline-safe by phones and amended after review: "
                            "filings, on-site inspections, contact-point reports, leader visits, visits, findings, "
                            "callbacks (field/records/kinds.py)")


def context() -> Context:
    """What the deployment decides for this request's verbs."""
    return Context(far_threshold_m=float(current_app.config["FAR_FROM_TARGET_M"]), today=office_day())


#: Kinds whose endpoints sit on their area's blueprint (its ``before_reading`` rule applies to them too);
#: every other kind's are on this module's.
HOSTED = {"visit": "visits", "finding": "visits", "callback": "callbacks"}


def _documented(fn, text: str | None):
    fn.__doc__ = text
    return fn


def _collection(blp: Blueprint, spec: KindSchemas) -> type[MethodView]:
    kind = spec.kind

    def get(self, query, cursor, limit, area=None):
        user = current_user()
        kind.allow(user, "list")
        return kind.list_page(db(), user, query, area=area, cursor=cursor, limit=limit)

    def post(self, body):
        user = current_user()
        kind.allow(user, "create")
        result = kind.create(db(), receipt(), body, context())
        return result.record, status_of(result)

    get = authenticated()(_documented(get, spec.docs.get("list")))
    get = blp.response(200, page_of(spec.out))(get)
    get = blp.alt_response(403, response="FORBIDDEN")(blp.alt_response(404, response="NOT_FOUND")(get))
    get = blp.arguments(PageArgsSchema, location="query", as_kwargs=True)(get)
    if spec.area:
        get = blp.arguments(AreaArgsSchema, location="query", as_kwargs=True)(get)
    get = blp.arguments(spec.query, location="query")(get)
    post = authenticated()(_documented(post, spec.docs.get("create")))
    for code, response in ((409, "CONFLICT"), (404, "NOT_FOUND"), (403, "FORBIDDEN")):
        post = blp.alt_response(code, response=response)(post)
    post = blp.alt_response(200, schema=spec.out, description=f"A repeat: the stored {kind.noun}")(post)
    post = blp.arguments(spec.create)(blp.response(201, spec.out)(post))
    if spec.located:
        get, post = located(blp, geojson=True)(get), located(blp)(post)
    attrs = {"get": get, "post": post}
    return type(f"{_camel(kind.name)}Records", (MethodView,), attrs)


def _by_id(blp: Blueprint, spec: KindSchemas) -> type[MethodView]:
    kind, param = spec.kind, spec.id_param

    def get(self, **path):
        user = current_user()
        kind.allow(user, "get")
        return kind.get_one(db(), user, path[param])

    def put(self, body, **path):
        user = current_user()
        kind.allow(user, "amend")
        record = kind.get_one(db(), user, path[param])
        kind.amend(db(), user, record, body, context())
        return record

    get = authenticated()(_documented(get, spec.docs.get("get")))
    forbidden, not_found = blp.alt_response(403, response="FORBIDDEN"), blp.alt_response(404, response="NOT_FOUND")
    get = forbidden(not_found(blp.response(200, spec.out)(get)))
    put = authenticated()(_documented(put, spec.docs.get("amend")))
    put = forbidden(not_found(blp.alt_response(409, response="CONFLICT")(put)))
    put = blp.arguments(spec.amend)(blp.response(200, spec.out)(put))
    if spec.located:
        get, put = located(blp)(get), located(blp)(put)
    attrs = {"get": get, "put": put}
    return type(f"{_camel(kind.name)}RecordById", (MethodView,), attrs)


def _camel(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


def record_routes(host: Blueprint, *names: str) -> None:
    """Add the endpoints of the kinds ``names`` (all registered ones when none) to ``host``."""
    for spec in kind_schemas():
        if (spec.kind.name in names) if names else (spec.kind.name not in HOSTED):
            host.route(f"/{spec.kind.path}")(_collection(host, spec))
            host.route(f"/{spec.kind.path}/<uuid:{spec.id_param}>")(_by_id(host, spec))


record_routes(blp)
