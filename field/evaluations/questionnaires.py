"""Questionnaires as data: questions checked, versions locked once a campaign opens, sheets imported.

A question is ``{"name", "type", "required", "label": {"zh", "en"}, "choices", "weight", "weights"}``:

- ``type``: ``grade5`` (the five grades of 好差评: 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意),
  ``single`` and ``multiple`` (``choices``: ``[{"value", "label": {"zh", "en"}}]``), ``number``, ``text``;
- ``name``: a slug (``[a-z][a-z0-9_]*``), unique in the questionnaire;
- ``weight`` (grade5 only, default 1): the question's weight in the weighted score; ``weights`` may
  give another weight per target kind (``{"window": 2, "person": 0}``), 0 leaving the question out
  of that kind's score.

An imported sheet (CSV or XLSX, first sheet) is XLSForm-like: columns ``type,name,label::zh,
label::en,required`` and optionally ``choices`` (``value=label|value=label``) and ``weight``;
``select_one``/``select_multiple`` are read as single/multiple, ``integer``/``decimal`` as number.
"""

from __future__ import annotations

import csv
import io
import re
import uuid

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from field.core import text
from field.core.errors import InvalidInput
from field.core.models.base import utcnow
from field.core.models.platform import User
from field.core.scope import get_in_scope, in_scope

from . import policy
from .models import Questionnaire, TargetKind

TYPES = ("grade5", "single", "multiple", "number", "text")
GRADES = {5: ("非常满意", "very satisfied"), 4: ("满意", "satisfied"), 3: ("基本满意", "fairly satisfied"),
          2: ("不满意", "dissatisfied"), 1: ("非常不满意", "very dissatisfied")}
#: The grades of a bad rating (差评): each one opens a rectification.
BAD = (1, 2)
MAX_QUESTIONS = 60
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_SHEET_TYPES = {"grade5": "grade5", "select_one": "single", "select_multiple": "multiple", "single": "single",
                "multiple": "multiple", "integer": "number", "decimal": "number", "number": "number",
                "text": "text"}


def _line(value, where: str) -> str:
    try:
        return text.line(str(value or ""))[:500]
    except text.TextRefused as refused:
        raise InvalidInput(where, str(refused)) from None


def _label(value, where: str) -> dict:
    if isinstance(value, str):
        value = {"zh": value}
    if not isinstance(value, dict) or not _line(value.get("zh"), f"{where}.zh"):
        raise InvalidInput(f"{where}.zh", "A label in Chinese (zh) is required; English (en) is optional.")
    out = {"zh": _line(value["zh"], f"{where}.zh")}
    if _line(value.get("en"), f"{where}.en"):
        out["en"] = _line(value["en"], f"{where}.en")
    return out


def _weight(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
        raise InvalidInput(where, "A weight is a number from 0 to 100.")
    return float(value)


def check_questions(questions: list) -> list[dict]:
    """The questions, normalised; InvalidInput naming ``questions.<i>.<member>`` at the first fault."""
    if not isinstance(questions, list) or not questions:
        raise InvalidInput("questions", "At least one question.")
    if len(questions) > MAX_QUESTIONS:
        raise InvalidInput("questions", f"At most {MAX_QUESTIONS} questions.")
    seen, out = set(), []
    for i, q in enumerate(questions):
        at = f"questions.{i}"
        if not isinstance(q, dict):
            raise InvalidInput(at, "A question is an object.")
        name = q.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise InvalidInput(f"{at}.name", "A name of lower-case letters, digits and _ starting with a letter.")
        if name in seen:
            raise InvalidInput(f"{at}.name", f"The name {name!r} is used twice.")
        seen.add(name)
        kind = q.get("type")
        if kind not in TYPES:
            raise InvalidInput(f"{at}.type", f"One of {', '.join(TYPES)}.")
        item = {"name": name, "type": kind, "required": bool(q.get("required", False)),
                "label": _label(q.get("label"), f"{at}.label")}
        if kind in ("single", "multiple"):
            choices = q.get("choices")
            if not isinstance(choices, list) or len(choices) < 2:
                raise InvalidInput(f"{at}.choices", "At least two choices.")
            values = set()
            item["choices"] = []
            for j, c in enumerate(choices):
                value = c.get("value") if isinstance(c, dict) else None
                if not isinstance(value, str) or not value.strip() or value in values:
                    raise InvalidInput(f"{at}.choices.{j}.value", "A value, unique in the question.")
                values.add(value)
                item["choices"].append({"value": value, "label": _label(c.get("label", value),
                                                                        f"{at}.choices.{j}.label")})
        if kind == "grade5":
            item["weight"] = _weight(q.get("weight", 1), f"{at}.weight")
            weights = q.get("weights") or {}
            if not isinstance(weights, dict) or set(weights) - {k.value for k in TargetKind}:
                raise InvalidInput(f"{at}.weights", "Weights by target kind: unit, section, window, person.")
            if weights:
                item["weights"] = {k: _weight(v, f"{at}.weights.{k}") for k, v in weights.items()}
        out.append(item)
    if not any(q["type"] == "grade5" for q in out):
        raise InvalidInput("questions", "At least one five-grade question: the results add up its grades.")
    return out


def weight_for(question: dict, kind: TargetKind) -> float:
    return float(question.get("weights", {}).get(kind.value, question.get("weight", 1.0)))


def questionnaires_query(actor: User) -> Select:
    policy.require(actor, "questionnaire.read", "questionnaire")
    return select(Questionnaire).where(in_scope(Questionnaire.jurisdiction_id, actor))


def get_questionnaire(session: Session, actor: User, questionnaire_id: uuid.UUID) -> Questionnaire:
    policy.require(actor, "questionnaire.read", "questionnaire")
    return get_in_scope(session, Questionnaire, questionnaire_id, actor, "questionnaire")


def create_questionnaire(session: Session, actor: User, *, title: str, questions: list) -> Questionnaire:
    policy.require(actor, "questionnaire.write", "questionnaire")
    title = (title or "").strip()
    if not title:
        raise InvalidInput("title", "Required.")
    family = uuid.uuid4()
    row = Questionnaire(id=family, family_id=family, version=1, title=title, questions=check_questions(questions),
                        jurisdiction_id=actor.jurisdiction_id, created_by_id=actor.id)
    session.add(row)
    session.flush()
    return row


def revise_questionnaire(session: Session, actor: User, current: Questionnaire, *, title: str,
                         questions: list) -> tuple[Questionnaire, bool]:
    """Change a questionnaire: in place while no campaign has opened with it, else as its next version.

    Returns (the version changed or made, whether it is a new version).
    """
    policy.require(actor, "questionnaire.write", "questionnaire")
    checked = check_questions(questions)
    title = (title or "").strip() or current.title
    if current.locked_at is None:
        current.title, current.questions = title, checked
        session.flush()
        return current, False
    latest = session.execute(select(Questionnaire).where(Questionnaire.family_id == current.family_id)
                             .order_by(Questionnaire.version.desc()).limit(1)).scalar_one()
    if latest.locked_at is None:
        latest.title, latest.questions = title, checked
        session.flush()
        return latest, True
    row = Questionnaire(family_id=current.family_id, version=latest.version + 1, title=title, questions=checked,
                        jurisdiction_id=current.jurisdiction_id, created_by_id=actor.id)
    session.add(row)
    session.flush()
    return row, True


def lock(questionnaire: Questionnaire) -> None:
    if questionnaire.locked_at is None:
        questionnaire.locked_at = utcnow()


# -- sheets ------------------------------------------------------------------------------------

SHEET_COLUMNS = ("type", "name", "label::zh", "label::en", "required")


def _rows_of(data: bytes, mimetype: str) -> list[dict]:
    if mimetype in ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/xlsx"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:  # openpyxl raises several kinds for a file that is not a workbook
            raise InvalidInput("body", "Not an XLSX workbook.") from None
        values = [["" if v is None else str(v) for v in row] for row in book.worksheets[0].iter_rows(values_only=True)]
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("gb18030", errors="replace")
        values = list(csv.reader(io.StringIO(text)))
    if not values:
        raise InvalidInput("body", "An empty sheet.")
    header = [h.strip().lower() for h in values[0]]
    missing = [c for c in ("type", "name", "label::zh") if c not in header]
    if missing:
        raise InvalidInput("body", f"The header lacks {', '.join(missing)} (columns: {','.join(SHEET_COLUMNS)}).")
    return [dict(zip(header, (v.strip() for v in row))) for row in values[1:] if any(v.strip() for v in row)]


def questions_from_sheet(data: bytes, mimetype: str) -> list[dict]:
    """The questions of an XLSForm-like sheet; InvalidInput naming ``rows.<n>`` (1 = the first after the header)."""
    questions = []
    for n, row in enumerate(_rows_of(data, mimetype), start=1):
        kind = _SHEET_TYPES.get(row.get("type", "").split(" ")[0].lower())
        if kind is None:
            raise InvalidInput(f"rows.{n}.type", f"Unknown type {row.get('type')!r}.")
        q = {"name": row.get("name", ""), "type": kind,
             "required": row.get("required", "").lower() in ("yes", "true", "1", "是", "y"),
             "label": {"zh": row.get("label::zh", ""), "en": row.get("label::en", "")}}
        if row.get("choices"):
            q["choices"] = [{"value": part.split("=", 1)[0].strip(),
                             "label": {"zh": part.split("=", 1)[-1].strip()}}
                            for part in row["choices"].split("|") if part.strip()]
        if row.get("weight"):
            try:
                q["weight"] = float(row["weight"])
            except ValueError:
                raise InvalidInput(f"rows.{n}.weight", "A number.") from None
        questions.append(q)
    try:
        return check_questions(questions)
    except InvalidInput as exc:
        where = exc.fields[0].field
        if where.startswith("questions."):
            index, _, rest = where[len("questions."):].partition(".")
            where = f"rows.{int(index) + 1}" + (f".{rest}" if rest else "")
        raise InvalidInput(where, exc.detail) from None
