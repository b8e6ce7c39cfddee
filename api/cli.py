"""The ``fieldwatch`` command: serve, migrate, create the first admin, seed a demo."""

from __future__ import annotations

import json
import secrets
import sys
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import FlaskGroup
from shapely.geometry import shape

from field import accounts, jurisdictions, migrate
from field.errors import DomainError
from field.models import JurisdictionLevel, Role

from . import create_app


@contextmanager
def _session():
    """A session for one command; the engine's connections are closed when it is done."""
    session = current_app.extensions["SESSION_FACTORY"]()
    try:
        yield session
    finally:
        session.close()
        current_app.extensions["ENGINE"].dispose()


@click.group(cls=FlaskGroup, create_app=lambda: create_app(), add_version_option=False)
def main():
    """fieldwatch: field inspection and undercover-visit backend."""


@main.command("migrate")
@click.option("--revision", default="head", show_default=True)
def migrate_cmd(revision):
    """Bring the database schema up to date (Alembic)."""
    migrate.upgrade(current_app.config["DATABASE_URL"], revision)
    current_app.extensions["ENGINE"].dispose()
    click.echo(f"database at {revision}")


@main.command("add-jurisdiction")
@click.argument("code")
@click.argument("name")
@click.option("--level", type=click.Choice([lv.value for lv in JurisdictionLevel]), required=True)
@click.option("--parent", "parent_code", help="code of the parent jurisdiction")
@click.option("--boundary", type=click.File(), help="GeoJSON geometry (Polygon/MultiPolygon, WGS-84)")
def add_jurisdiction(code, name, level, parent_code, boundary):
    """Add a jurisdiction (the first province is added here)."""
    with _session() as session:
        parent = jurisdictions.find_by_code(session, parent_code) if parent_code else None
        if parent_code and parent is None:
            raise click.ClickException(f"no jurisdiction with code {parent_code}")
        geom = None
        if boundary:
            doc = json.load(boundary)
            geom = shape(doc.get("geometry", doc) if doc.get("type") == "Feature" else doc)
        try:
            j = jurisdictions.create_jurisdiction(
                session, actor=None, code=code, name=name, level=JurisdictionLevel(level),
                parent_id=parent.id if parent else None, boundary=geom)
        except DomainError as exc:
            raise click.ClickException(exc.detail) from None
        session.commit()
        click.echo(f"{j.level.value} {j.code} {j.name} ({j.id})")


@main.command("create-admin")
@click.argument("username")
@click.option("--jurisdiction", "code", required=True, help="code of the admin's jurisdiction")
@click.option("--name", "display_name", default="Administrator", show_default=True)
@click.password_option(help="prompted for when not given")
def create_admin(username, code, display_name, password):
    """Create an admin account (the first one, or one more)."""
    with _session() as session:
        j = jurisdictions.find_by_code(session, code)
        if j is None:
            raise click.ClickException(f"no jurisdiction with code {code}; add it with add-jurisdiction")
        try:
            user = accounts.create_user(session, actor=None, username=username, password=password,
                                        display_name=display_name, role=Role.admin, jurisdiction_id=j.id)
        except DomainError as exc:
            raise click.ClickException(exc.detail) from None
        session.commit()
        click.echo(f"admin {user.username} created for {j.name} ({j.code})")


@main.command("verify")
def verify():
    """Walk every custody chain (and re-hash stored originals); exit 1 naming the first break."""
    from evidence import custody

    failed = False
    with _session() as session:
        chains, breaks = custody.verify_all_chains(session)
    click.echo(f"custody chains checked: {chains}")
    for b in breaks:
        failed = True
        click.echo(f"BROKEN chain of jurisdiction {b.jurisdiction_id} at entry {b.seq}: {b.reason}", err=True)
    if failed:
        sys.exit(1)
    click.echo("custody log intact")


#: A demo tree: Chongqing → its districts → Jiulongpo; codes from GB/T 2260.
DEMO_TREE = [
    ("500000", "重庆市", "province", None),
    ("500100", "重庆市市辖区", "city", "500000"),
    ("500107", "九龙坡区", "district", "500100"),
    ("500107001", "杨家坪街道", "street", "500107"),
]


@main.command("seed-demo")
def seed_demo():
    """On an empty database: a demo jurisdiction tree and an admin, whose credentials are printed."""
    with _session() as session:
        if accounts.count_users(session):
            click.echo("accounts exist already: no demo data added")
            return
        for code, name, level, parent_code in DEMO_TREE:
            if jurisdictions.find_by_code(session, code) is None:
                parent = jurisdictions.find_by_code(session, parent_code) if parent_code else None
                jurisdictions.create_jurisdiction(session, actor=None, code=code, name=name,
                                                  level=JurisdictionLevel(level),
                                                  parent_id=parent.id if parent else None)
        password = current_app.config["DEMO_ADMIN_PASSWORD"] or secrets.token_urlsafe(12)
        district = jurisdictions.find_by_code(session, "500107")
        accounts.create_user(session, actor=None, username="demo-admin", password=password,
                             display_name="Demo administrator", role=Role.admin,
                             jurisdiction_id=district.id)
        session.commit()
    click.echo("")
    click.echo("  Demo admin created (九龙坡区 500107):")
    click.echo("    username: demo-admin")
    click.echo(f"    password: {password}")
    click.echo("")


if __name__ == "__main__":
    sys.exit(main())
