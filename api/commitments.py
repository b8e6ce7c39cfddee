"""Unit heads' service commitments (服务承诺书): letters, items, checks, the yearly report, cases, figures.

Design: docs/service.md §3 and field/commitments/. Views authenticate; the rules are the domain's.
"""

from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_smorest import Blueprint

from field.commitments import letters
from field.commitments.models import CommitmentLetter
from field.core.pages import paginate
from schemas import commitments as sch
from schemas.common import PageArgsSchema, page_of

from .auth import authenticated, current_user
from .db import db

blp = Blueprint("commitments", __name__, url_prefix="/api/v1",
                description="Unit heads' service commitment letters, the office's checks and the yearly report "
                            "(office staff)")


@blp.route("/commitment-letters")
class Letters(MethodView):
    @blp.arguments(sch.CommitmentLetterQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(sch.CommitmentLetterSchema))
    @blp.alt_response(403, response="FORBIDDEN")
    @authenticated()
    def get(self, query, cursor, limit):
        """Letters in scope, by year and unit"""
        return paginate(db(), letters.letters_query(current_user(), **query),
                        [CommitmentLetter.year, CommitmentLetter.id], cursor=cursor, limit=limit, descending=True)

    @blp.arguments(sch.CommitmentLetterCreateSchema)
    @blp.response(201, sch.CommitmentLetterSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @authenticated()
    def post(self, body):
        """Enter a head's letter for a year, with its items (a draft until published)"""
        letter = letters.create_letter(db(), current_user(), **body)
        return letter


@blp.route("/commitment-letters/<uuid:letter_id>")
@blp.response(200, sch.CommitmentLetterSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@authenticated()
def get_letter(letter_id: uuid.UUID):
    """One letter with its items and their checks"""
    return letters.get_letter(db(), current_user(), letter_id)


@blp.route("/commitment-letters/<uuid:letter_id>/items", methods=["POST"])
@blp.arguments(sch.CommitmentItemCreateSchema)
@blp.response(201, sch.CommitmentItemSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@authenticated()
def add_item(body, letter_id: uuid.UUID):
    """Add a commitment to a draft letter"""
    user = current_user()
    item = letters.add_item(db(), user, letters.get_letter(db(), user, letter_id), body)
    return item


@blp.route("/commitment-letters/<uuid:letter_id>/publication", methods=["POST"])
@blp.arguments(sch.CommitmentPublishSchema)
@blp.response(200, sch.CommitmentLetterSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@authenticated()
def publish(body, letter_id: uuid.UUID):
    """Record the letter's publication: the day and the channel (television, newspaper …)"""
    user = current_user()
    letter = letters.publish(db(), user, letters.get_letter(db(), user, letter_id), **body)
    return letter


@blp.route("/commitment-letters/<uuid:letter_id>/report", methods=["PUT"])
@blp.arguments(sch.CommitmentReportSchema)
@blp.response(200, sch.CommitmentLetterSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@authenticated()
def report(body, letter_id: uuid.UUID):
    """The yearly report (述职) on a published letter, and the office's assessment of it"""
    user = current_user()
    letter = letters.report(db(), user, letters.get_letter(db(), user, letter_id), **body)
    return letter


@blp.route("/commitment-items/<uuid:item_id>/checks", methods=["POST"])
@blp.arguments(sch.CommitmentCheckCreateSchema)
@blp.response(201, sch.CommitmentCheckSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@authenticated()
def check(body, item_id: uuid.UUID):
    """The office's follow-up of a commitment: kept, partly or not kept, with evidence"""
    user = current_user()
    result = letters.record_check(db(), user, letters.get_item(db(), user, item_id), **body)
    return result


@blp.route("/commitment-items/<uuid:item_id>/case", methods=["POST"])
@blp.arguments(sch.CommitmentCaseSchema)
@blp.response(201, sch.CommitmentOpenedSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@authenticated()
def to_case(body, item_id: uuid.UUID):
    """Open a case on a commitment checked as not kept (or partly)"""
    user = current_user()
    case = letters.open_case(db(), user, letters.get_item(db(), user, item_id), **body)
    return {"case_id": case.id, "number": case.number}


@blp.route("/commitment-figures")
@blp.arguments(sch.CommitmentFiguresArgsSchema, location="query")
@blp.response(200, sch.CommitmentFigureRowSchema(many=True))
@blp.alt_response(403, response="FORBIDDEN")
@authenticated()
def commitment_figures(args):
    """Per unit: items of the year's published letters, checked, kept, partly, not kept, kept rate"""
    return letters.figures(db(), current_user(), year=args["year"])
