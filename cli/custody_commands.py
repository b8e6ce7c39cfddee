"""The custody commands: ``verify`` (chains, checkpoints, originals), ``checkpoint`` (cron), ``custody-key``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import inspect, select

from cli import _session


def _snapshot(session) -> None:
    """Read the log as of one moment: on PostgreSQL a REPEATABLE READ transaction, so entries
    appended while the chains are walked are neither half-seen nor taken for a break (a head read
    before them, entries after it). SQLite's transaction is a snapshot already (and, here, a lock).
    Call it before the transaction's first statement."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def _signer():
    from field.custody.notes import SigningKeyMissing, load_signer

    config = current_app.config
    try:
        return load_signer(config["CUSTODY_SIGNING_KEY"], config["CUSTODY_LOG_ORIGIN"])
    except (SigningKeyMissing, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


def _breaks(breaks, where: str = "") -> None:
    for b in breaks:
        click.echo(f"BROKEN chain of jurisdiction {b.jurisdiction_code}{where} at entry {b.seq}: {b.reason}",
                   err=True)


def _public_key(public_key_path: str | None):
    """The key checkpoints are checked with: --public-key, else the public half of CUSTODY_SIGNING_KEY."""
    from field.custody.notes import NoteError, load_public_key

    if public_key_path:
        try:
            return load_public_key(Path(public_key_path).read_bytes())
        except NoteError as exc:
            raise click.ClickException(f"{public_key_path}: {exc}") from None
    try:
        return _signer().public_key
    except click.ClickException as exc:
        raise click.ClickException(f"cannot check a checkpoint's signature without its public key: give "
                                   f"--public-key, or set CUSTODY_SIGNING_KEY ({exc.message})") from None


def _check_files(session, paths, public_key) -> bool:
    """Check the log against each checkpoint file; True when it extends them all."""
    from field.custody import checkpoints
    from field.custody.notes import NoteError, open_signed_by

    intact = True
    for path in paths:
        try:
            name, text = open_signed_by(Path(path).read_text(encoding="utf-8"), public_key)
            checkpoint = checkpoints.parse(text)
        except (NoteError, UnicodeDecodeError) as exc:
            click.echo(f"BROKEN checkpoint {path}: {exc}", err=True)
            intact = False
            continue
        breaks = checkpoints.check_extends(session, checkpoint)
        _breaks(breaks, f" (checkpoint {path})")
        intact = intact and not breaks
        click.echo(f"checkpoint {path}: signed by {name} at {checkpoint.made_at:%Y-%m-%d %H:%M:%S}Z, "
                   f"{len(checkpoint.heads)} chains, " + ("the log extends it" if not breaks else "NOT extended"))
    return intact


def _check_stored(session) -> bool:
    """The newest checkpoint kept in the database: its signature when the key is at hand, and its heads."""
    from field.custody import checkpoints
    from field.custody.notes import NoteError, SigningKeyMissing, load_signer, split

    row = checkpoints.newest_stored(session)
    if row is None:
        click.echo("stored checkpoints: none yet (fieldwatch checkpoint makes one)")
        return True
    try:
        signer = load_signer(current_app.config["CUSTODY_SIGNING_KEY"], current_app.config["CUSTODY_LOG_ORIGIN"])
    except (SigningKeyMissing, ValueError):
        signer = None
    try:
        if signer is not None and signer.key_id.hex() == row.key_id:
            checkpoint = checkpoints.open_note(row.note, signer)
        else:  # another key, or none at hand: the heads as stored, unchecked
            checkpoint = checkpoints.parse(split(row.note)[0])
    except NoteError as exc:
        click.echo(f"BROKEN stored checkpoint {row.id}: {exc}", err=True)
        return False
    breaks = checkpoints.check_extends(session, checkpoint)
    _breaks(breaks, " (newest stored checkpoint)")
    click.echo(f"newest stored checkpoint, {row.made_at:%Y-%m-%d %H:%M:%S}Z: "
               + ("the log extends it" if not breaks else "NOT extended"))
    return not breaks


def _check_originals(session, all_originals: bool) -> bool:
    from field.attachments import originals
    from field.core.models.evidence import Blob

    from api.evidence import blob_store

    # A database not yet migrated to the evidence tables has no originals to check, and
    # without originals the store is not even opened (a local one would make its folders).
    if not inspect(session.connection()).has_table("blobs"):
        return True
    any_original = session.execute(select(Blob.sha256).limit(1)).first() is not None
    report = (originals.verify_originals(session, blob_store(), stop_at_first=not all_originals, mark=True)
              if any_original else originals.OriginalsReport(checked=0))
    session.commit()  # the quarantines (evidence.damaged) and releases (evidence.repaired) found
    click.echo(f"originals checked: {report.checked}")
    for problem in report.problems:
        click.echo(f"BROKEN original {problem.sha256}: {problem.reason} (quarantined: not served until "
                   "the genuine file is uploaded again)", err=True)
    for sha256 in report.released:
        click.echo(f"original {sha256} is intact again: released from quarantine")
    return not report.problems


@click.command("verify")
@with_appcontext
@click.option("--all-originals", is_flag=True, help="check every original, not only up to the first damaged one")
@click.option("--checkpoint", "checkpoint_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="a signed checkpoint file the log must still extend (repeatable)")
@click.option("--public-key", "public_key_path", type=click.Path(exists=True, dir_okay=False),
              help="PEM public key the checkpoints were signed with [default: that of CUSTODY_SIGNING_KEY]")
def verify(all_originals, checkpoint_files, public_key_path):
    """Walk every custody chain, check the log against checkpoints, re-hash every stored original;
    exit 1 naming each break."""
    from field.custody import chain as custody

    public_key = _public_key(public_key_path) if checkpoint_files else None
    with _session() as session:
        _snapshot(session)
        chains, breaks = custody.verify_all_chains(session)
        click.echo(f"custody chains checked: {chains}")
        _breaks(breaks)
        intact = not breaks
        if inspect(session.connection()).has_table("custody_checkpoints"):
            intact = _check_stored(session) and intact
        intact = _check_files(session, checkpoint_files, public_key) and intact
        session.commit()  # the snapshot ends; quarantines are written in transactions of their own
        intact = _check_originals(session, all_originals) and intact
    if not intact:
        sys.exit(1)
    click.echo("custody log intact, originals intact")


@click.command("checkpoint")
@with_appcontext
@click.option("--out", type=click.Path(dir_okay=False),
              help="the file to write [default: CUSTODY_CHECKPOINT_DIR/custody-checkpoint-<time>-<id>.txt]")
def checkpoint(out):
    """Sign the head of every custody chain and write it out (run it from cron, and on demand)."""
    from field.custody import checkpoints

    signer = _signer()
    with _session() as session:
        _snapshot(session)  # the heads signed are the heads walked
        try:
            row = checkpoints.make_checkpoint(session, signer, origin=current_app.config["CUSTODY_LOG_ORIGIN"])
        except checkpoints.ChainsBroken as exc:
            _breaks(exc.breaks)
            click.echo("nothing signed: the log does not verify (fieldwatch verify names every break)", err=True)
            sys.exit(1)
        session.commit()
    path = Path(out) if out else (Path(current_app.config["CUSTODY_CHECKPOINT_DIR"])
                                  / f"custody-checkpoint-{row.made_at:%Y%m%dT%H%M%SZ}-{row.id.hex[:8]}.txt")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(row.note, encoding="utf-8")
    click.echo(f"checkpoint {row.id} of {row.chains} chains, signed by {row.key_name}+{row.key_id}: {path}")
    click.echo(row.note, nl=False)


@click.command("custody-key")
@with_appcontext
@click.option("--generate", is_flag=True, help="make the key file CUSTODY_SIGNING_KEY names (never replaces one)")
def custody_key(generate):
    """Show the checkpoint signing key's public half (PEM, key id, verifier key); --generate makes the key."""
    from field.custody.notes import generate_key_file

    setting = (current_app.config["CUSTODY_SIGNING_KEY"] or "").strip()
    if generate:
        if not setting or setting.startswith("-----BEGIN"):
            raise click.ClickException("--generate writes the file CUSTODY_SIGNING_KEY names; it names none")
        path = Path(setting)
        if path.exists():
            raise click.ClickException(f"{path} exists: a signing key is never replaced")
        generate_key_file(path)
        click.echo(f"custody signing key written to {path} (readable by its owner only; keep a copy offline)")
    signer = _signer()
    click.echo(f"key name: {signer.name}")
    click.echo(f"key id:   {signer.key_id.hex()}")
    click.echo(f"verifier key (C2SP/sumdb note): {signer.vkey}")
    click.echo("public key (hand it to whoever checks checkpoints: openssl pkeyutl -verify -pubin -inkey ...):")
    click.echo(signer.public_pem, nl=False)


def ensure_demo_key() -> None:
    """For the embedded default (``make run`` → seed-demo): make the signing key file if it is missing."""
    from field.custody.notes import generate_key_file

    setting = (current_app.config["CUSTODY_SIGNING_KEY"] or "").strip()
    if setting and not setting.startswith("-----BEGIN") and not Path(setting).exists():
        generate_key_file(Path(setting))
        click.echo(f"  custody signing key made: {setting} (fieldwatch custody-key shows its public key)")
