"""The case view: a read model the domain builds, which schemas only serialise.

``CaseView`` holds the case row and what the view computes beside it: its sources' envelopes,
every piece of its evidence, whether a complainant is on file, the gates still missing and
where the case may go now. Nothing is hung on the ORM object; the case's own columns are
read through ``CaseView.case`` (and, for the schema's convenience, as the view's attributes).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from field.core.read_models import Beside

from .complainants import has_complainant_contact
from .lifecycle import allowed_transitions, missing_gates
from .models import Case, CaseState, Gate
from .view import EvidenceItem, SourceView, case_evidence, source_views


@dataclass(frozen=True)
class CaseView(Beside):
    case: Case
    sources: list[SourceView]
    evidence: list[EvidenceItem]
    complainant_on_file: bool
    missing_gates: list[Gate]
    allowed_transitions: list[CaseState]

    __row__ = "case"


def case_view(session: Session, case: Case) -> CaseView:
    """Everything the case view shows, computed once, from the case and its records."""
    return CaseView(case=case, sources=source_views(session, case), evidence=case_evidence(session, case),
                    complainant_on_file=has_complainant_contact(session, case),
                    missing_gates=missing_gates(case), allowed_transitions=allowed_transitions(case))
