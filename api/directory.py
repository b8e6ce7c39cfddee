"""The directory as a whole: how many of each thing the caller may see."""

from __future__ import annotations

from flask_smorest import Blueprint

from field.directory import counts as directory
from schemas.directory import DirectoryCountsSchema

from .auth import authenticated, current_user
from .db import db

blp = Blueprint("directory", __name__, url_prefix="/api/v1/directory", description="The directory as a whole")


@blp.route("/counts")
@blp.response(200, DirectoryCountsSchema)
@authenticated()
def counts():
    """How many units, persons, enterprises, monitoring points and squads the caller may see"""
    return directory.counts(db(), current_user())
