"""Evaluations (千人评, 百名科长, 窗口月评, 差评整改): HTTP only; who may do what is field/evaluations/policy.py."""

from __future__ import annotations

import csv
import io
import uuid

import segno
from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from evidence.storage import content_disposition
from field.core.pages import paginate
from field.core.spreadsheets import spreadsheet_cell
from field.evaluations import ballots, campaigns, questionnaires, rectifications, results
from field.evaluations.campaigns import RaterInput
from field.evaluations.models import Campaign, Invitation, Questionnaire, Rectification
from schemas.common import PageArgsSchema, page_of
from schemas.evaluations import (
    AnswerInSchema,
    AppealDecisionInSchema,
    AppealInSchema,
    BallotInSchema,
    CampaignInSchema,
    CampaignQuerySchema,
    CampaignSchema,
    InvitationInSchema,
    InvitationListSchema,
    QuestionnaireInSchema,
    QuestionnaireSchema,
    RaterSchema,
    ReasonInSchema,
    ReceiptSchema,
    RectificationQuerySchema,
    RectificationSchema,
    ResultsArgsSchema,
    ResultsSchema,
    VerifyInSchema,
)

from .auth import authenticated, current_device, current_user
from .clock import office_day
from .db import db
from .idempotency import discloses_identity

blp = Blueprint("evaluations", __name__, url_prefix="/api/v1",
                description="Evaluations: campaigns (千人评, 百名科长, 窗口月评) with their questionnaires and one-time "
                            "codes, the public ballot, results computed in the database, and the bad-rating loop "
                            "(差评整改). Office staff run them; an inspector answers their unit's bad ratings "
                            "without ever learning who gave them; anyone else gets 404")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# -- questionnaires ------------------------------------------------------------------------------


@blp.route("/questionnaires")
class Questionnaires(MethodView):
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(QuestionnaireSchema))
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, cursor, limit):
        """Questionnaires, every version, newest first (office staff)"""
        return paginate(db(), questionnaires.questionnaires_query(current_user()),
                        [Questionnaire.created_at, Questionnaire.id], cursor=cursor, limit=limit, descending=True)

    @blp.arguments(QuestionnaireInSchema)
    @blp.response(201, QuestionnaireSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def post(self, body):
        """Define a questionnaire: questions as data (office staff)

        Types ``grade5`` (5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意), ``single``,
        ``multiple``, ``number``, ``text``; zh/en labels; ``weight`` (and ``weights`` per target
        kind) of a grade5 question in the weighted score. At least one grade5 question.
        """
        row = questionnaires.create_questionnaire(db(), current_user(), **body)
        return row, 201


@blp.route("/questionnaires/import")
class QuestionnaireImport(MethodView):
    @blp.doc(requestBody={"required": True, "description": "An XLSForm-like sheet: CSV (UTF-8) or XLSX, columns "
                          "`type,name,label::zh,label::en,required` (+ `choices`: `value=label|…`, `weight`); "
                          "the title is the query's `title`", "content": {
                              "text/csv": {"schema": {"type": "string"}}, XLSX: {"schema": {"type": "string",
                                                                                         "format": "binary"}}}})
    @blp.response(201, QuestionnaireSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
    @authenticated()
    def post(self):
        """Import a questionnaire from a sheet (office staff)"""
        from flask_smorest import abort

        questionnaires.policy.require(current_user(), "questionnaire.write", "questionnaire")
        if request.mimetype not in ("text/csv", XLSX):
            abort(415, message="Send the sheet as text/csv or as XLSX.")
        if (request.content_length or 0) > 2 * 1024 * 1024:
            abort(413, message="Sheets are limited to 2 MiB.")
        questions = questionnaires.questions_from_sheet(request.get_data(cache=True), request.mimetype)
        title = (request.args.get("title") or "").strip() or "问卷"
        row = questionnaires.create_questionnaire(db(), current_user(), title=title[:200], questions=questions)
        return row, 201


@blp.route("/questionnaires/<uuid:questionnaire_id>")
class QuestionnaireById(MethodView):
    @blp.response(200, QuestionnaireSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, questionnaire_id: uuid.UUID):
        """One version of a questionnaire (office staff)"""
        return questionnaires.get_questionnaire(db(), current_user(), questionnaire_id)

    @blp.arguments(QuestionnaireInSchema)
    @blp.response(200, QuestionnaireSchema)
    @blp.alt_response(201, schema=QuestionnaireSchema, description="The version was locked: the next version")
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def put(self, body, questionnaire_id: uuid.UUID):
        """Change a questionnaire: in place until a campaign opens with it, then as its next version (201)"""
        current = questionnaires.get_questionnaire(db(), current_user(), questionnaire_id)
        row, new = questionnaires.revise_questionnaire(db(), current_user(), current, **body)
        return row, 201 if new else 200


# -- campaigns -----------------------------------------------------------------------------------


@blp.route("/evaluation-campaigns")
class Campaigns(MethodView):
    @blp.arguments(CampaignQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(CampaignSchema))
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, query, cursor, limit):
        """Campaigns, newest first (office staff)"""
        return paginate(db(), campaigns.campaigns_query(current_user(), **query),
                        [Campaign.created_at, Campaign.id], cursor=cursor, limit=limit, descending=True)

    @blp.arguments(CampaignInSchema)
    @blp.response(201, CampaignSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def post(self, body):
        """Set up a campaign: its kind, window of days, questionnaire and targets (office staff)

        ``thousand`` (千人评) rates units, sections and windows; ``section_chiefs`` (百名科长) named
        persons; ``window_monthly`` windows, ranked month by month. ``rectify_days`` working days
        for a bad rating (default 5). Ballots are taken once it is opened, within its window.
        """
        row = campaigns.create_campaign(db(), current_user(), **body)
        return row, 201


@blp.route("/evaluation-campaigns/<uuid:campaign_id>")
class CampaignById(MethodView):
    @blp.response(200, CampaignSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, campaign_id: uuid.UUID):
        """One campaign with its targets (office staff)"""
        return campaigns.get_campaign(db(), current_user(), campaign_id)


@blp.route("/evaluation-campaigns/<uuid:campaign_id>/open")
class CampaignOpen(MethodView):
    @blp.response(200, CampaignSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def post(self, campaign_id: uuid.UUID):
        """Open a campaign for ballots; its questionnaire version is locked from now on (office staff)"""
        campaign = campaigns.get_campaign(db(), current_user(), campaign_id)
        campaigns.open_campaign(db(), current_user(), campaign)
        return campaign


@blp.route("/evaluation-campaigns/<uuid:campaign_id>/invitations")
class CampaignInvitations(MethodView):
    @blp.response(200, InvitationListSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, campaign_id: uuid.UUID):
        """A campaign's invitations, with their codes and whether each was used (office staff)"""
        campaign = campaigns.get_campaign(db(), current_user(), campaign_id)
        rows = db().execute(campaigns.invitations_query(current_user(), campaign)
                            .order_by(Invitation.created_at, Invitation.code)).unique().scalars().all()
        return {"items": rows}

    @blp.arguments(InvitationInSchema)
    @blp.response(201, InvitationListSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def post(self, body, campaign_id: uuid.UUID):
        """Issue one-time codes for a target (office staff)

        A named rater (an enterprise of the directory, a liaison, an invited citizen by real name)
        gets one code; ``counter`` codes (anonymous, printed for a window's counter) come ``count``
        at a time. Each code is used once. Print them from ``/evaluation-invitations/<id>/qr.svg``.
        """
        campaign = campaigns.get_campaign(db(), current_user(), campaign_id)
        made = campaigns.issue_invitations(db(), current_user(), campaign, target_id=body["target_id"],
                                           rater=RaterInput(**body["rater"]), count=body["count"])
        return {"items": made}, 201


@blp.route("/evaluation-campaigns/<uuid:campaign_id>/results")
class CampaignResults(MethodView):
    @blp.arguments(ResultsArgsSchema, location="query")
    @blp.response(200, ResultsSchema)
    @blp.doc(responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, args, campaign_id: uuid.UUID):
        """A campaign's results, computed in the database (office staff; ``?format=csv`` for a spreadsheet)

        Per target: ballots, mean grade, distribution, satisfaction rate (top two grades),
        weighted score (0–100), rank and rank from the bottom (competition ranks on the score at
        two decimals: ties share a rank); top and bottom five (ties at the fifth place all in);
        most and least satisfied; monthly rankings with the windows last two months running;
        the previous campaign for comparison. Liaisons' ratings in the window count.
        """
        result = results.results(db(), current_user(), campaign_id)
        if args["format"] == "csv":
            buffer = io.StringIO()
            buffer.write("\ufeff")
            writer = csv.writer(buffer)
            for row in results.rows(result):
                writer.writerow([spreadsheet_cell(value) for value in row])
            return Response(buffer.getvalue().encode("utf-8"), mimetype="text/csv", headers={
                "Content-Type": "text/csv; charset=utf-8",
                "Content-Disposition": content_disposition(f"evaluation-{campaign_id}.csv")})
        return result


@blp.route("/evaluation-invitations/<uuid:invitation_id>/qr.svg")
class InvitationQr(MethodView):
    @blp.doc(responses={200: {"description": "The invitation's page as a QR code",
                              "content": {"image/svg+xml": {"schema": {"type": "string"}}}}})
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, invitation_id: uuid.UUID):
        """An invitation's QR code (SVG), for a letter or a window's counter (office staff)"""
        invitation = campaigns.get_invitation(db(), current_user(), invitation_id)
        buffer = io.BytesIO()
        segno.make(f"{request.host_url.rstrip('/')}/e/{invitation.code}", error="m").save(
            buffer, kind="svg", scale=4, border=2, title=invitation.code)
        return Response(buffer.getvalue(), mimetype="image/svg+xml")


# -- the public ballot ---------------------------------------------------------------------------


def receipt_of(cast: ballots.Cast) -> dict:
    rect = cast.rectification
    return {"receipt_no": cast.ballot.receipt_no, "submitted_at": cast.ballot.submitted_at,
            "target": db().get(Invitation, cast.ballot.invitation_id).target.label,
            "rectification": rect is not None, "due_on": rect.due_on if rect else None}


@blp.route("/ballots")
class Ballots(MethodView):
    @blp.arguments(BallotInSchema)
    @blp.response(201, ReceiptSchema)
    @blp.alt_response(200, schema=ReceiptSchema, description="A repeat (same Idempotency-Key or same answers): "
                                                             "the first ballot's receipt")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def post(self, body):
        """Vote with an invitation code (public: the code is the credential)

        A code votes once: the first ballot is kept; a repeat with the same ``Idempotency-Key``
        (or the same answers) gets its receipt again (200), anything else 409. Many ballots from
        one address within the hour are flagged for the office and, past a limit, refused (429).
        """
        key = request.headers.get("Idempotency-Key")
        cast = ballots.cast(db(), body["code"], body["answers"], client_key=key[:200] if key else None,
                            address=request.remote_addr)
        return receipt_of(cast), 201 if cast.created else 200


# -- rectifications ------------------------------------------------------------------------------


def _shown(item: Rectification) -> Rectification:
    item.overdue = rectifications.is_overdue(item, office_day())
    return item


@blp.route("/rectifications")
class Rectifications(MethodView):
    @blp.arguments(RectificationQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(RectificationSchema))
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, query, cursor, limit):
        """Bad ratings to put right, earliest deadline first: the office all, an inspector their unit's"""
        page = paginate(db(), rectifications.rectifications_query(db(), current_user(), today=office_day(), **query),
                        [Rectification.due_on, Rectification.id], cursor=cursor, limit=limit)
        for item in page.items:
            _shown(item)
        return page


@blp.route("/rectifications/<uuid:rectification_id>")
class RectificationById(MethodView):
    @blp.response(200, RectificationSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, rectification_id: uuid.UUID):
        """One bad rating and its rectification (never who rated)"""
        return _shown(rectifications.get_rectification(db(), current_user(), rectification_id))


def _step(rectification_id: uuid.UUID, verb, **kwargs):
    item = rectifications.get_rectification(db(), current_user(), rectification_id)
    verb(db(), current_user(), item, **kwargs)
    return _shown(item)


@blp.route("/rectifications/<uuid:rectification_id>/answer")
class RectificationAnswer(MethodView):
    @blp.arguments(AnswerInSchema)
    @blp.response(200, RectificationSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def post(self, body, rectification_id: uuid.UUID):
        """The unit's answer: what it found and put right (the unit's inspectors, or office staff)"""
        return _step(rectification_id, rectifications.answer, **body)


@blp.route("/rectifications/<uuid:rectification_id>/verification")
class RectificationVerification(MethodView):
    @blp.arguments(VerifyInSchema)
    @blp.response(200, RectificationSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def post(self, body, rectification_id: uuid.UUID):
        """The office verifies the answer: accepted, ``reply`` goes back to the rater's page; refused, open again"""
        return _step(rectification_id, rectifications.verify, **body)


@blp.route("/rectifications/<uuid:rectification_id>/appeal")
class RectificationAppeal(MethodView):
    @blp.arguments(AppealInSchema)
    @blp.response(200, RectificationSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def post(self, body, rectification_id: uuid.UUID):
        """The unit appeals a mistaken or malicious rating (once); the office decides"""
        return _step(rectification_id, rectifications.appeal, **body)


@blp.route("/rectifications/<uuid:rectification_id>/appeal-decision")
class RectificationAppealDecision(MethodView):
    @blp.arguments(AppealDecisionInSchema)
    @blp.response(200, RectificationSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def post(self, body, rectification_id: uuid.UUID):
        """The office decides an appeal (logged in custody): upheld, the rating stops counting"""
        return _step(rectification_id, rectifications.decide_appeal, **body)


@blp.route("/rectifications/<uuid:rectification_id>/case")
class RectificationCase(MethodView):
    @blp.response(201, RectificationSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def post(self, rectification_id: uuid.UUID):
        """Turn an overdue item into an accountability case naming the unit (office staff, once)"""
        item = rectifications.get_rectification(db(), current_user(), rectification_id)
        rectifications.escalate(db(), current_user(), item, today=office_day())
        return _shown(item), 201


@blp.route("/rectifications/<uuid:rectification_id>/rater")
class RectificationRater(MethodView):
    @discloses_identity
    @blp.arguments(ReasonInSchema)
    @blp.response(200, RaterSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def post(self, body, rectification_id: uuid.UUID):
        """Who gave the bad rating, for the callback (回访): admins only, each time logged in custody"""
        item = rectifications.get_rectification(db(), current_user(), rectification_id)
        rater = rectifications.disclose_rater(db(), current_user(), item, reason=body["reason"],
                                              device_id=current_device().id)
        return rater
