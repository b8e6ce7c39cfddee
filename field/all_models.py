"""Every package's models, imported once: ``Base.metadata`` and the polymorphic loads of field records
are complete only when all are. Alembic, the app and the tests import ``Base`` from here."""

import field.accounts.models  # noqa: F401  (each import registers its package's tables and classes)
import field.approvals.models  # noqa: F401
import field.cases.models  # noqa: F401
import field.commitments.models  # noqa: F401
import field.complaints.models  # noqa: F401
import field.core.models.calendar  # noqa: F401
import field.core.models.changes  # noqa: F401
import field.core.models.evidence  # noqa: F401
import field.core.models.records  # noqa: F401
import field.custody.models  # noqa: F401
import field.directory.models  # noqa: F401
import field.evaluations.models  # noqa: F401
import field.filings.models  # noqa: F401
import field.reports.models  # noqa: F401
import field.service.models  # noqa: F401
import field.visits.models  # noqa: F401
from field.core.models.base import Base

__all__ = ["Base"]
