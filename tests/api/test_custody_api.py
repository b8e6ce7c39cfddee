"""Custody checkpoints over HTTP: admins list them and download each signed note."""

from __future__ import annotations

import uuid

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from field.custody import checkpoints
from field.custody import chain as custody
from field.custody.notes import Signer, open_signed_by
from field.core.models.platform import Role


def _checkpoint(session, tree, signer):
    for i in range(3):
        custody.record(session, jurisdiction_id=tree["home"].id, kind="record.created", subject_type="finding",
                       subject_id=f"f-{i}")
    custody.record(session, jurisdiction_id=tree["other"].id, kind="record.created", subject_type="finding",
                   subject_id="g")
    row = checkpoints.make_checkpoint(session, signer)
    session.commit()
    return row


def test_an_admin_lists_checkpoints_and_downloads_a_note_a_third_party_can_check(client, session, tree,
                                                                                admin_headers):
    signer = Signer.from_private_key("jlp.example/custody", Ed25519PrivateKey.generate())
    first = _checkpoint(session, tree, signer)
    second = _checkpoint(session, tree, signer)
    listed = client.get("/api/v1/custody/checkpoints", headers=admin_headers)
    assert listed.status_code == 200
    items = listed.get_json()["items"]
    assert [i["id"] for i in items] == [str(second.id), str(first.id)]
    assert items[0]["key_id"] == signer.key_id.hex() and items[0]["chains"] == 2
    assert {(h["jurisdiction_code"], h["seq"]) for h in items[0]["heads"]} == {("500107", 6), ("500103", 2)}

    note = client.get(items[0]["links"]["note"], headers=admin_headers)
    assert note.status_code == 200 and note.mimetype == "text/plain"
    assert note.headers["Content-Disposition"].startswith('attachment; filename="custody-checkpoint-')
    name, text = open_signed_by(note.get_data(as_text=True), signer.public_key)
    assert name == "jlp.example/custody"
    assert {(h.code, h.seq) for h in checkpoints.parse(text).heads} == {("500107", 6), ("500103", 2)}


def test_checkpoints_are_for_admins_and_an_unknown_one_is_404(client, session, tree, make_user, login,
                                                              admin_headers):
    signer = Signer.from_private_key("jlp.example/custody", Ed25519PrivateKey.generate())
    row = _checkpoint(session, tree, signer)
    reviewer = login(make_user(Role.reviewer))
    for url in ("/api/v1/custody/checkpoints", f"/api/v1/custody/checkpoints/{row.id}"):
        assert client.get(url, headers=reviewer).status_code == 403
    missing = client.get(f"/api/v1/custody/checkpoints/{uuid.uuid4()}", headers=admin_headers)
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
