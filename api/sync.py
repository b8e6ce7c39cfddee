"""The sync feed: phones pull what changed in their scope since their cursor."""

from __future__ import annotations

from flask_smorest import Blueprint

from field.core import sync
from schemas.sync import SyncArgsSchema, SyncSchema

from .auth import authenticated, current_user
from .db import db
from .located import located

blp = Blueprint("sync", __name__, url_prefix="/api/v1/sync",
                description="Delta sync of the directory (and, as they are added, other feeds) for phones")


@blp.route("")
@located(blp)
@blp.arguments(SyncArgsSchema, location="query", as_kwargs=True)
@blp.response(200, SyncSchema)
@authenticated()
def pull(cursor, limit):
    """What changed since the cursor: upserts with the current data, and tombstones

    Start with no cursor; keep the answer's cursor and send it next time. While
    ``has_more`` is true, ask again at once. A ``delete`` means: drop the local copy
    (deleted, or no longer visible to this account). When ``reset`` is true the cursor
    belonged to another scope (a changed role or jurisdiction): drop everything first.
    Feeds: unit, person, enterprise, monitoring_point (covert ones only for the office
    and the point's own people), squad (the office and its own members), visit_task, record_review,
    key_project, service_assignment and service_problem (the office, and the officials serving the
    project or enterprise now).
    """
    return sync.changes_since(db(), current_user(), cursor, limit)
