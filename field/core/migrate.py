"""Run the Alembic migrations programmatically (the CLI, `make run` and the tests use this)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from geoalchemy2 import alembic_helpers

from .models.base import UTCDateTime

#: The migrations folder beside the packages (installed with them as the ``migrations`` package).
SCRIPT_LOCATION = str(Path(__file__).resolve().parents[2] / "migrations")


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def revision(url: str, message: str) -> None:
    command.revision(alembic_config(url), message=message, autogenerate=True)


def include_object(obj, name, type_, reflected, compare_to):
    # SpatiaLite's and PostGIS's own tables are not ours to migrate.
    if type_ == "table" and reflected and compare_to is None:
        if name.startswith(("spatial_ref_sys", "geometry_columns", "geom_cols", "views_geometry",
                            "virts_geometry", "spatialite_history", "sql_statements_log",
                            "idx_", "SpatialIndex", "ElementaryGeometries", "KNN", "data_licenses",
                            "spatialite_", "rl2map", "SE_", "vector_layers", "topologies",
                            "networks", "raster_coverages", "wms_", "ISO_metadata", "stored_",
                            "sqlite_", "alembic_version")) or name in ("layer_statistics",):
            return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def render_item(type_, obj, autogen_context):
    # Our TypeDecorators are storage details: migrations name the plain column type.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return alembic_helpers.render_item(type_, obj, autogen_context)
