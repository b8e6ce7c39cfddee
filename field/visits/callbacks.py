"""Callback sampling (抽件回头访, brief 7): import completed cases, draw a reproducible sample, call back.

Import. The office posts a CSV of completed service cases (service_cases.py: header ``COLUMNS``; the
required ones ``REQUIRED``; UTF-8, with or without BOM, or GB18030 as Excel writes it on
a Chinese Windows). The batch is keyed by the file's SHA-256 within the jurisdiction:
the same file again answers the same batch and adds nothing. A case is keyed by its
case number within the jurisdiction: a row whose case is already in another batch is
refused (and reported), never duplicated. Bad rows are refused one by one with their
row number and the column at fault; the good ones are kept. The unit column is matched
against the directory (a full path ``区市场监管局/登记注册科`` or a name that is unique in
the jurisdiction); an unmatched unit is kept as text, and a finding made from such a
case must then name its unit.

Draw. ``draw(population, seed, size)`` is the whole procedure (``ALGORITHM``): the
batch's cases sorted by case number (Python string order: code points, whatever the
database's collation), then a partial Fisher–Yates shuffle driven by
``random.Random(seed).random()``, the one method whose sequence for a given seed Python
promises to keep across versions (``Random.sample`` and ``randrange`` have changed
before). The first ``size`` positions are the sample, in draw order. The sample stores
the seed (chosen by the office, or drawn from ``secrets`` and kept), the size, and the
population's size and digest, so an auditor re-running the draw on the same batch gets
the same cases in the same order, and can tell if the batch has changed. A batch never
changes after import, so it cannot.

Confidentiality. The applicant's name and contact are seen by office staff and by the
members of the squad the case's sample is assigned to (a live task of method
``callback``), nobody else: cases are invisible (404) to every other user.
"""

from __future__ import annotations

import hashlib
import math
import random
import secrets
import uuid
from decimal import Decimal
from dataclasses import dataclass
from typing import Sequence

from sqlalchemy import ColumnElement, Select, and_, false, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from field.core.errors import InvalidInput, NotFound
from field.core.models.platform import OFFICE_ROLES, Jurisdiction, Role, User
from field.core.read_models import Beside
from field.core.pages import keyed
from field.core.scope import get_one, in_scope, visible_records_predicate
from field.core.scoped import target_jurisdiction
from field.custody import chain as custody
from field.records import lifecycle as records
from field.records.lifecycle import Receipt, Submitted
from field.records.kinds import RecordKind, first_text, register

from .models import Callback, CallbackBatch, CallbackSample, SampleCase, ServiceCase, TaskState, VisitTask
from .service_cases import LIMITS, REQUIRED, _completed_on, _UnitIndex, _visible_cells, read_cases
from .visits import active_squad_ids, canonical_body, require_office, require_undercover_role, utc


#: Seeds are below 2**53 so that a JSON client (a JavaScript number) reads them exactly.
SEED_LIMIT = 2 ** 53
ALGORITHM = "fisher-yates-random-v1"


# -- the draw ----------------------------------------------------------------------------------


def draw(population: Sequence[str], seed: int, size: int) -> list[int]:
    """Indices of the ``size`` members of ``population`` (sorted case numbers) drawn with ``seed``, in order."""
    if not 0 <= size <= len(population):
        raise ValueError("size out of range")
    rng = random.Random(seed)
    order = list(range(len(population)))
    for i in range(size):
        j = i + int(rng.random() * (len(order) - i))
        order[i], order[j] = order[j], order[i]
    return order[:size]


def population_digest(case_nos: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(case_nos).encode()).hexdigest()


def sample_size(population: int, size: int | None, percent: Decimal | None) -> int:
    """The number of cases to draw: ``size``, or ``percent`` of the population rounded up."""
    if (size is None) == (percent is None):
        raise InvalidInput("size", "Give either size (a number of cases) or percent.")
    if percent is not None:
        if not Decimal(0) < percent <= Decimal(100):
            raise InvalidInput("percent", "More than 0 and at most 100.")
        return math.ceil(Decimal(population) * percent / 100)
    if not 1 <= size <= population:
        raise InvalidInput("size", f"From 1 to the batch's {population} case(s).")
    return size


# -- batches -----------------------------------------------------------------------------------


def import_batch(session: Session, actor: User, raw: bytes, *, name: str | None = None,
                 jurisdiction_id: uuid.UUID | None = None) -> tuple[CallbackBatch, bool]:
    """Import a CSV of completed cases as a batch; (batch, created). The same file again: (that batch, False)."""
    require_office(actor, "import service cases")
    jurisdiction = target_jurisdiction(session, actor, jurisdiction_id)
    digest = hashlib.sha256(raw).hexdigest()
    stmt = select(CallbackBatch).where(CallbackBatch.jurisdiction_id == jurisdiction.id,
                                       CallbackBatch.file_sha256 == digest)
    found = session.execute(stmt).scalar_one_or_none()
    if found is not None:
        return found, False
    rows = read_cases(raw)
    name = (name or "").strip() or f"cases {digest[:8]}"
    try:
        with session.begin_nested():
            batch = _import_rows(session, actor, jurisdiction, rows, name, digest)
    except IntegrityError:
        # The same file imported concurrently committed first, or a case number was taken meanwhile.
        found = session.execute(stmt).scalar_one_or_none()
        if found is None:
            raise
        return found, False
    return batch, True


def _import_rows(session: Session, actor: User, jurisdiction: Jurisdiction, rows: list, name: str,
                 digest: str) -> CallbackBatch:
    batch = CallbackBatch(jurisdiction_id=jurisdiction.id, name=name[:200], file_sha256=digest, case_count=0,
                          rejected=[], imported_by_id=actor.id)
    session.add(batch)
    session.flush()
    numbers = [r.get("case_no", "") for _, r in rows if r.get("case_no")]
    taken: dict[str, str] = {}
    for start in range(0, len(numbers), 500):
        chunk = numbers[start:start + 500]
        taken.update(session.execute(
            select(ServiceCase.case_no, CallbackBatch.name)
            .join(CallbackBatch, ServiceCase.batch_id == CallbackBatch.id)
            .where(ServiceCase.jurisdiction_id == jurisdiction.id, ServiceCase.case_no.in_(chunk))).all())
    units = _UnitIndex(session, jurisdiction)
    seen: dict[str, int] = {}
    rejected, cases = [], []
    for index, record in rows:
        case_no = record.get("case_no", "")
        try:
            if "__error__" in record:
                raise ValueError(record["__error__"])
            record = _visible_cells(record)
            for column in REQUIRED:
                if not record.get(column):
                    raise ValueError(f"{column}: required.")
            for column, limit in LIMITS.items():
                if len(record.get(column) or "") > limit:
                    raise ValueError(f"{column}: longer than {limit} characters.")
            if case_no in taken:
                raise ValueError(f"case_no: already imported, in batch {taken[case_no]!r}.")
            if case_no in seen:
                raise ValueError(f"case_no: repeats row {seen[case_no]}.")
            completed_on = _completed_on(record["completed_on"])
        except ValueError as exc:
            rejected.append({"row": index, "case_no": case_no, "reason": str(exc)})
            continue
        seen[case_no] = index
        cases.append(ServiceCase(
            jurisdiction_id=jurisdiction.id, batch_id=batch.id, row=index, case_no=case_no,
            unit_name=record["unit"], unit_id=units.find(record["unit"]), service=record["service"],
            completed_on=completed_on, applicant_name=record.get("applicant_name") or None,
            applicant_contact=record["applicant_contact"]))
    session.add_all(cases)
    batch.case_count, batch.rejected = len(cases), rejected
    session.flush()
    custody.record(session, jurisdiction_id=jurisdiction.id, kind="callback_batch.imported",
                   subject_type="callback_batch", subject_id=batch.id, actor=actor,
                   data={"file_sha256": digest, "cases": len(cases), "rejected": len(rejected)})
    return batch


@keyed(CallbackBatch.created_at, CallbackBatch.id, descending=True)
def batches_query(user: User) -> Select:
    require_office(user, "see imported cases")
    return select(CallbackBatch).where(in_scope(CallbackBatch.jurisdiction_id, user))


def get_batch(session: Session, user: User, batch_id: uuid.UUID) -> CallbackBatch:
    require_undercover_role(user)
    if user.role not in OFFICE_ROLES:
        raise NotFound("batch")
    return get_one(session, CallbackBatch, batch_id, "batch", in_scope(CallbackBatch.jurisdiction_id, user))


@keyed(ServiceCase.case_no, ServiceCase.id)
def batch_cases_query(batch: CallbackBatch) -> Select:
    return select(ServiceCase).where(ServiceCase.batch_id == batch.id)


# -- samples -----------------------------------------------------------------------------------


def draw_sample(session: Session, actor: User, batch: CallbackBatch, *, size: int | None = None,
                percent: Decimal | None = None, seed: int | None = None) -> CallbackSample:
    """Draw a sample of ``batch`` and keep everything needed to draw it again."""
    require_office(actor, "draw samples")
    cases = sorted(session.execute(select(ServiceCase.case_no, ServiceCase.id)
                                   .where(ServiceCase.batch_id == batch.id)).all(), key=lambda r: r.case_no)
    if not cases:
        raise InvalidInput("size", "This batch holds no cases to draw from.")
    n = sample_size(len(cases), size, percent)
    if seed is None:
        seed = secrets.randbelow(SEED_LIMIT)
    elif not 0 <= seed < SEED_LIMIT:
        raise InvalidInput("seed", f"From 0 to {SEED_LIMIT - 1}.")
    case_nos = [c.case_no for c in cases]
    picked = draw(case_nos, seed, n)
    sample = CallbackSample(jurisdiction_id=batch.jurisdiction_id, batch_id=batch.id, batch=batch, seed=seed,
                            requested_size=size, requested_percent=percent, size=n, population=len(cases),
                            population_sha256=population_digest(case_nos), algorithm=ALGORITHM,
                            drawn_by_id=actor.id)
    session.add(sample)
    session.flush()
    session.add_all([SampleCase(sample_id=sample.id, case_id=cases[i].id, position=p)
                     for p, i in enumerate(picked, start=1)])
    session.flush()
    custody.record(session, jurisdiction_id=sample.jurisdiction_id, kind="callback_sample.drawn",
                   subject_type="callback_sample", subject_id=sample.id, actor=actor,
                   data={"batch_id": str(batch.id), "seed": seed, "size": n, "algorithm": ALGORITHM,
                         "population": len(cases), "population_sha256": sample.population_sha256,
                         "case_nos": [case_nos[i] for i in picked]})
    return sample


@keyed(CallbackSample.created_at, CallbackSample.id, descending=True)
def samples_query(user: User, *, batch_id: uuid.UUID | None = None) -> Select:
    require_office(user, "see samples")
    stmt = select(CallbackSample).where(in_scope(CallbackSample.jurisdiction_id, user))
    if batch_id is not None:
        stmt = stmt.where(CallbackSample.batch_id == batch_id)
    return stmt


def get_sample(session: Session, user: User, sample_id: uuid.UUID) -> CallbackSample:
    require_undercover_role(user)
    if user.role not in OFFICE_ROLES:
        raise NotFound("sample")
    return get_one(session, CallbackSample, sample_id, "sample", in_scope(CallbackSample.jurisdiction_id, user))


@dataclass(frozen=True)
class SampleView(Beside):
    """A sample as its views show it: the row, and its case numbers in draw order."""

    sample: CallbackSample
    case_nos: list[str]
    __row__ = "sample"


def sample_view(session: Session, sample: CallbackSample) -> SampleView:
    return SampleView(sample, drawn_case_nos(session, sample))


def drawn_case_nos(session: Session, sample: CallbackSample) -> list[str]:
    """The sample's case numbers in draw order."""
    return list(session.execute(
        select(ServiceCase.case_no).join(SampleCase, SampleCase.case_id == ServiceCase.id)
        .where(SampleCase.sample_id == sample.id).order_by(SampleCase.position)).scalars())


@keyed(ServiceCase.case_no, ServiceCase.id)
def sample_cases_query(sample_id: uuid.UUID) -> Select:
    return select(ServiceCase).join(SampleCase, SampleCase.case_id == ServiceCase.id) \
        .where(SampleCase.sample_id == sample_id)


@keyed(ServiceCase.case_no, ServiceCase.id)
def task_cases_query(task: VisitTask) -> Select:
    """The cases a callback task is about (none for other tasks)."""
    if task.sample_id is None:
        return select(ServiceCase).where(false())
    return sample_cases_query(task.sample_id)


# -- who sees a case, and the calls ------------------------------------------------------------


def _live_assignments(user: User) -> Select:
    """Sample ids assigned to the monitor's squad by a task that is not cancelled."""
    return select(VisitTask.sample_id).where(VisitTask.sample_id.is_not(None),
                                             VisitTask.state != TaskState.cancelled,
                                             VisitTask.squad_id.in_(active_squad_ids(user)))


def visible_cases(user: User) -> ColumnElement[bool]:
    if user.role in OFFICE_ROLES:
        return in_scope(ServiceCase.jurisdiction_id, user)
    if user.role is Role.squad_member:
        return and_(in_scope(ServiceCase.jurisdiction_id, user), ServiceCase.id.in_(
            select(SampleCase.case_id).where(SampleCase.sample_id.in_(_live_assignments(user)))))
    return false()


def outcomes(session: Session, case_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict]:
    """Per case: how many calls were recorded, and the latest one's reached/satisfied/called_at."""
    if not case_ids:
        return {}
    rows = session.execute(select(Callback.case_id, Callback.called_at, Callback.reached, Callback.satisfied,
                                  Callback.id).where(Callback.case_id.in_(list(case_ids)))
                           .order_by(Callback.case_id, Callback.called_at, Callback.id)).all()
    out: dict[uuid.UUID, dict] = {}
    for case_id, called_at, reached, satisfied, _ in rows:
        entry = out.setdefault(case_id, {"calls": 0})
        entry.update(calls=entry["calls"] + 1, last_called_at=called_at, reached=reached, satisfied=satisfied)
    return out


def show_cases(session: Session, actor: User, cases: Sequence[ServiceCase], *, device_id: uuid.UUID | None) -> None:
    """Fill each case's ``outcome`` for the answer, and log that ``actor`` is shown their applicants' contacts.

    A disclosure of identities: one custody entry per batch on the page (``applicant_contacts.shown``,
    the case ids, never a name or a number), in the transaction the caller commits before answering.
    """
    known = outcomes(session, [c.id for c in cases])
    shown: dict[tuple[uuid.UUID, uuid.UUID], list[uuid.UUID]] = {}
    for case in cases:
        case.outcome = known.get(case.id)
        shown.setdefault((case.jurisdiction_id, case.batch_id), []).append(case.id)
    for (jurisdiction_id, batch_id), case_ids in shown.items():
        custody.record(session, jurisdiction_id=jurisdiction_id, kind="applicant_contacts.shown",
                       subject_type="callback_batch", subject_id=batch_id, actor=actor, device_id=device_id,
                       data={"case_ids": case_ids})


def _callback_values(session: Session, user: User, values: dict) -> dict:
    case = session.execute(select(ServiceCase).where(ServiceCase.id == values["case_id"], visible_cases(user))
                           ).scalar_one_or_none()
    if case is None:
        raise InvalidInput("case_id", "No such case assigned to you.")
    assignment = select(VisitTask).join(SampleCase, SampleCase.sample_id == VisitTask.sample_id).where(
        SampleCase.case_id == case.id, VisitTask.state != TaskState.cancelled)
    if user.role is Role.squad_member:
        assignment = assignment.where(VisitTask.squad_id.in_(active_squad_ids(user)))
    task = session.execute(assignment.order_by(VisitTask.created_at.desc()).limit(1)).scalar_one_or_none()
    if not values["reached"] and values.get("satisfied") is not None:
        raise InvalidInput("satisfied", "Only an applicant who was reached says whether they are satisfied.")
    return {"case": case, "task": task}


def _apply_callback(callback: Callback, values: dict, checked: dict) -> None:
    case, task = checked["case"], checked["task"]
    callback.case_id, callback.case = case.id, case
    callback.jurisdiction_id, callback.unit_id = case.jurisdiction_id, case.unit_id
    callback.task_id = task.id if task else None
    callback.squad_id = task.squad_id if task else None
    callback.called_at = utc(values["called_at"])
    callback.reached = values["reached"]
    callback.satisfied = values.get("satisfied")
    callback.problem = (values.get("problem") or "").strip() or None


def record_callback(session: Session, receipt: Receipt, values: dict) -> Submitted[Callback]:
    """One call to an applicant, created once per client id; by the assigned squad or office staff."""
    user = receipt.user
    require_undercover_role(user)

    def build() -> Callback:
        checked = _callback_values(session, user, values)
        callback = Callback(device_time=utc(values["device_time"]))
        _apply_callback(callback, values, checked)
        return callback

    return records.submit(session, Callback, values["id"], canonical_body(values), receipt, build)


def amend_callback(session: Session, user: User, callback: Callback, values: dict) -> Callback:
    def apply() -> None:
        checked = _callback_values(session, user, values)
        callback.device_time = utc(values["device_time"])
        _apply_callback(callback, values, checked)

    return records.amend(session, user, callback, canonical_body(values), apply, values.get("amendment_note"))


def get_callback(session: Session, user: User, callback_id: uuid.UUID) -> Callback:
    require_undercover_role(user)
    return records.get_record(session, user, callback_id, Callback, "callback")


@keyed(Callback.received_at, Callback.id, descending=True)
def callbacks_query(user: User, *, case_id: uuid.UUID | None = None, sample_id: uuid.UUID | None = None,
                    task_id: uuid.UUID | None = None) -> Select:
    require_undercover_role(user)
    stmt = select(Callback).where(visible_records_predicate(user))
    if case_id is not None:
        stmt = stmt.where(Callback.case_id == case_id)
    if sample_id is not None:
        stmt = stmt.where(Callback.case_id.in_(select(SampleCase.case_id).where(SampleCase.sample_id == sample_id)))
    if task_id is not None:
        stmt = stmt.where(Callback.task_id == task_id)
    return stmt


__all__ = ["ALGORITHM", "draw", "population_digest", "sample_size",
           "import_batch", "draw_sample", "record_callback", "amend_callback"]


register(RecordKind(
    name="callback", model=Callback, noun="callback", path="callbacks",
    create=lambda s, receipt, body, ctx: record_callback(s, receipt, body),
    amend=lambda s, user, callback, body, ctx: amend_callback(s, user, callback, body),
    get=get_callback, query=callbacks_query,
    summary=lambda r: ([], "reached" if r.reached else "not_reached", first_text(r.problem, r.case.unit_name))))
