"""The ``fieldwatch`` command: serve, migrate, create the first admin, seed a demo (``calendar``: calendar_cli.py)."""

from __future__ import annotations

import json
import secrets
import sys
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import FlaskGroup
from shapely.geometry import Polygon, shape

from field.accounts import users as accounts, jurisdictions
from field.core import migrate
from field.core.errors import DomainError, NotFound
from field.core.models.platform import JurisdictionLevel, Role

from api import create_app


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


@main.command("reset-password")
@click.argument("username")
@click.password_option(help="prompted for (twice) when not given")
def reset_password(username, password):
    """Set a new password for any account and revoke all its tokens (every device logs in again)."""
    with _session() as session:
        try:
            user, revoked = accounts.reset_password(session, username, password)
        except NotFound:
            raise click.ClickException(f"no user named {username!r}; nothing changed") from None
        except DomainError as exc:
            raise click.ClickException(f"{exc.detail} Nothing changed.") from None
        session.commit()
        click.echo(f"password of {user.username} reset; {revoked} token{'s' if revoked != 1 else ''} revoked "
                   "(every device logs in again)")


@main.command("derive")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000),
              help="photos per pass")
@click.option("--follow", is_flag=True, help="keep working: a pass every --interval seconds (the worker)")
@click.option("--interval", default=5.0, show_default=True, type=click.FloatRange(0.1, 3600.0))
@click.option("--nice", "niceness", default=10, show_default=True, type=click.IntRange(0, 19),
              help="with --follow: how far below the web workers the worker's CPU priority goes (0 keeps it)")
def derive(limit, follow, interval, niceness):
    """Make the thumbnails and previews of photos still without them, off the request path.

    With ``--follow`` it is the worker, and it gives way to the web workers on the same machine
    (``--nice``): a phone's upload waits for nobody's thumbnail, and a first view derives its own.
    """
    import os
    import time

    from evidence import pipeline
    from evidence.memory import keep_image_buffers
    from evidence.photo import keep_freed_image_memory
    from field.attachments import derivation
    from field.core.evidence_errors import StorageUnavailable
    from field.core.models.evidence import Blob, DerivativesState

    from api.evidence import blob_store, policy

    # Photo after photo: reuse the buffers instead of faulting them in again (evidence/memory.py).
    keep_image_buffers()
    keep_freed_image_memory()  # and the decoder's own, for progressive JPEGs and large photos
    store, current = blob_store(), policy()
    if follow and niceness:
        click.echo(f"derive worker at nice {os.nice(niceness)} (below the web workers)")
    with _session() as session:
        while True:
            made = undecodable = 0
            for sha256 in derivation.pending_derivations(session, limit=limit):
                if derivation.claim_derivation(session, sha256, lease=current.derive_lease) is None:
                    session.rollback()  # a first viewer or another worker took it
                    continue
                session.commit()
                # No transaction is open while the photo is read and decoded: on SQLite it would
                # hold the write lock, and every request would wait for the decode.
                try:
                    copies = pipeline.make_derivatives(store, sha256, policy=current)
                except StorageUnavailable as exc:
                    click.echo(f"storage unavailable for {sha256}: {exc.detail}", err=True)
                    continue  # the lease lapses; the next pass tries again
                blob = session.get(Blob, sha256)
                derivation.record_derivatives(session, blob, copies)
                session.commit()
                if blob.derivatives_state == DerivativesState.ready:
                    made += 1
                else:
                    undecodable += 1
            click.echo(f"derived: {made}, undecodable (kept without derivatives): {undecodable}")
            if not follow:
                break
            time.sleep(interval)


def _complete_received(session, store, policy, lease_s: float) -> tuple[int, int, int]:
    """Complete every upload whose bytes are all in but whose completion a crash or an outage cut
    short, as the resuming HEAD would (api/uploads.py): take its lease, run ``complete_upload``,
    commit, then discard the staged copy. Returns (completed, refused, left for the next run)."""
    from datetime import timedelta

    from evidence import uploads
    from field.attachments import receipt
    from field.core.models.platform import User

    completed = refused = left = 0
    seen = set()
    while True:
        batch = [u for u in uploads.received_uncompleted(session) if u.id not in seen]
        if not batch:
            return completed, refused, left
        for upload in batch:
            seen.add(upload.id)
            # As the HEAD's completion: time to read the bytes three times at 5 MB/s.
            lease = timedelta(seconds=lease_s + 3 * upload.length / 5_000_000)
            try:
                token = uploads.acquire_lock(session, store, upload, lease=lease)
            except Exception as exc:  # noqa: BLE001 - taken meanwhile (423) or the store is down
                session.rollback()
                left += 1
                click.echo(f"upload {upload.id} left for the next run: {exc}", err=True)
                continue
            session.commit()
            try:
                if upload.offset != upload.length or upload.completed_at is not None:
                    completion = None  # the store knows fewer bytes, or someone completed it
                else:
                    owner = session.get(User, upload.owner_id)
                    completion = receipt.complete_upload(session, store, upload, uploader=owner, policy=policy)
            except Exception as exc:  # noqa: BLE001 - the store or the database failed: keep the bytes
                session.rollback()
                session.refresh(upload)
                uploads.release_lock(session, upload, token)
                session.commit()
                left += 1
                click.echo(f"upload {upload.id} left for the next run: {exc}", err=True)
                continue
            uploads.release_lock(session, upload, token)
            session.commit()
            if completion is None:
                left += upload.completed_at is None
            elif completion.refusal is not None:
                refused += 1
            else:
                uploads.discard_staging(session, store, upload)  # the original is committed
                session.commit()
                completed += 1


@main.command("cleanup-uploads")
def cleanup_uploads():
    """Complete fully received tus uploads whose completion was cut short, and discard the staged
    bytes of unfinished uploads past their expiry (run it from cron)."""
    from evidence import uploads

    from api.evidence import blob_store, policy

    store = blob_store()
    with _session() as session:
        count = uploads.cleanup_expired(session, store)
        session.commit()
        lease_s = current_app.config.get("UPLOAD_LOCK_SECONDS", uploads.DEFAULT_LEASE.total_seconds())
        completed, refused, left = _complete_received(session, store, policy(), lease_s)
    click.echo(f"received uploads completed: {completed}, refused: {refused}, left for the next run: {left}")
    click.echo(f"expired uploads cleaned up: {count}")


#: A demo tree: Chongqing → its districts → Jiulongpo; codes from GB/T 2260.
DEMO_TREE = [
    ("500000", "重庆市", "province", None),
    ("500100", "重庆市市辖区", "city", "500000"),
    ("500107", "九龙坡区", "district", "500100"),
    ("500107001", "杨家坪街道", "street", "500107"),
]
#: Outlines for the demo's district and street (WGS-84), so that the console map of a newcomer shows an area:
#: drawn by hand around the sample field day's places, coarse on purpose; not the official boundaries, which an
#: office loads with `fieldwatch add-jurisdiction --boundary` or the API.
DEMO_OUTLINES = {
    "500107": [(106.30, 29.36), (106.40, 29.31), (106.50, 29.33), (106.55, 29.42), (106.54, 29.52),
               (106.49, 29.55), (106.42, 29.52), (106.35, 29.47), (106.30, 29.36)],
    "500107001": [(106.49, 29.49), (106.53, 29.49), (106.53, 29.52), (106.49, 29.52), (106.49, 29.49)],
}


@main.command("seed-demo")
@click.option("--sample", is_flag=True,
              help="Also lay down a small sample field day (accounts, a finding with photos, a report, a filing, a "
                   "case half-way through its gates); only on an empty database.")
def seed_demo(sample: bool):
    """On an empty database: a demo jurisdiction tree and an admin, whose credentials are printed;
    and the custody signing key of the embedded default, if it is missing. With --sample, a small
    field day too (cli/sample_day.py), so that the console shows a working office."""
    ensure_demo_key()
    with _session() as session:
        if accounts.count_users(session):
            click.echo("accounts exist already: no demo data added" + (" (and no sample: the database holds data)"
                                                                       if sample else ""))
            # The password is printed only when the account is made; say how to get a new one.
            demo = "demo-admin" if accounts.find_user(session, "demo-admin") else "USERNAME"
            click.echo(f"  forgot the {'demo admin' if demo == 'demo-admin' else 'admin'}'s password? "
                       f"set a new one with: fieldwatch reset-password {demo}  (.venv/bin/fieldwatch in the checkout)")
            return
        for code, name, level, parent_code in DEMO_TREE:
            if jurisdictions.find_by_code(session, code) is None:
                parent = jurisdictions.find_by_code(session, parent_code) if parent_code else None
                outline = Polygon(DEMO_OUTLINES[code]) if code in DEMO_OUTLINES else None
                jurisdictions.create_jurisdiction(session, actor=None, code=code, name=name,
                                                  level=JurisdictionLevel(level),
                                                  parent_id=parent.id if parent else None, boundary=outline)
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
    if sample:
        from .sample_day import lay_down

        try:
            laid = lay_down(current_app, password)
        finally:
            current_app.extensions["ENGINE"].dispose()  # the API requests' pooled connections, closed now
        click.echo("  Sample field day laid down; the same password for these accounts:")
        for username, name in laid["users"].items():
            click.echo(f"    {username}  ({name})")
        click.echo(f"    case {laid['case']}, half-way through its four gates; a finding with two photos, one flagged")
    click.echo("")


@main.group("import")
def import_group():
    """Bulk-import the directory from CSV or GeoJSON (formats: docs/directory.md)."""


def _import(kind: str, path: str, report_path: str | None, batch_size: int) -> None:
    import csv
    from pathlib import Path

    from field.directory import imports

    report_file = Path(report_path) if report_path else Path(path).with_suffix(".rejected.csv")
    with _session() as session:
        try:
            records = imports.read_file(path, kind)
        except imports.ImportFileError as exc:
            raise click.ClickException(f"{path}: {exc.detail}") from None
        report = imports.Report()
        # click draws the bar on a terminal only; elsewhere it prints the label once.
        with click.progressbar(length=len(records), label=f"{kind} from {Path(path).name}",
                               file=sys.stderr, show_pos=True) as bar:
            for handled in imports.import_records(session, kind, records, report, batch_size=batch_size):
                session.commit()  # one transaction per batch: good rows already in stay in
                bar.update(handled)
    with report_file.open("w", newline="", encoding="utf-8-sig") as out:
        writer = csv.writer(out)
        writer.writerow(["row", "key", "reason"])
        for rejected in report.rejected:
            writer.writerow([rejected.row, rejected.key, rejected.reason])
    click.echo(f"{kind}: {report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
               f"{len(report.rejected)} rejected (report: {report_file})")


_FILE = click.argument("path", metavar="FILE", type=click.Path(exists=True, dir_okay=False))
_REPORT = click.option("--report", "report_path", type=click.Path(dir_okay=False),
                       help="where to list rejected rows [default: FILE with .rejected.csv]")
_BATCH = click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10_000),
                      help="rows per transaction")


@import_group.command("enterprises")
@_FILE
@_REPORT
@_BATCH
def import_enterprises(path, report_path, batch_size):
    """Enterprises, keyed by credit code; importing the same FILE again changes nothing."""
    _import("enterprises", path, report_path, batch_size)


@import_group.command("units")
@_FILE
@_REPORT
@_BATCH
def import_units(path, report_path, batch_size):
    """Units, keyed by jurisdiction, parent path and name; parents before their sections."""
    _import("units", path, report_path, batch_size)


@import_group.command("persons")
@_FILE
@_REPORT
@_BATCH
def import_persons(path, report_path, batch_size):
    """Persons, keyed by unit path and name; their units must exist."""
    _import("persons", path, report_path, batch_size)


@main.command("seed-taxonomy")
def seed_taxonomy():
    """Add the seeded finding categories that are missing and correct their labels (safe to repeat)."""
    from field.visits import taxonomy

    with _session() as session:
        report = taxonomy.seed_categories(session)
        session.commit()
    click.echo(f"finding categories: {report.created} added, {report.updated} relabelled, "
               f"{report.unchanged} unchanged")


# The calendar group lives in its own module and registers itself on ``main``.
from . import calendar_cli  # noqa: E402,F401

# The custody commands live beside this module; they use its _session, defined above.
from .custody_commands import checkpoint, custody_key, ensure_demo_key, verify  # noqa: E402

for _command in (verify, checkpoint, custody_key):
    main.add_command(_command)


if __name__ == "__main__":
    sys.exit(main())
