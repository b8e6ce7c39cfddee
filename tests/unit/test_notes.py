"""Signed notes are byte for byte those of the C2SP spec and of Go's sumdb/note: known-answer vectors."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from field.custody.notes import NoteError, Signer, Verifier, open_signed_by, split

# golang.org/x/mod/sumdb/note, package documentation: a signer key (base64 of 0x01 || the Ed25519
# seed), its verifier key, and the note it signs. Ed25519 is deterministic (RFC 8032): signing the
# same text with the same key must give the very same note.
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = GO_TEXT + ("\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdng"
                     "otpRZb6KE6RyyBwJnAM=\n")
# c2sp.org/signed-note, its example.
SPEC_VERIFIER = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = ("This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTg"
             "K7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n")


def go_signer() -> Signer:
    seed = base64.b64decode(GO_SIGNER.split("+", 4)[4])[1:]  # PRIVATE+KEY+<name>+<id>+<base64>
    return Signer.from_private_key("PeterNeumann", Ed25519PrivateKey.from_private_bytes(seed))


def test_the_go_signer_key_gives_the_published_verifier_key_and_the_published_note():
    signer = go_signer()
    assert signer.key_id.hex() == "c74f20a3" and signer.vkey == GO_VERIFIER
    assert signer.sign(GO_TEXT) == GO_NOTE


@pytest.mark.parametrize("vkey, note", [(GO_VERIFIER, GO_NOTE), (SPEC_VERIFIER, SPEC_NOTE)])
def test_published_notes_open_with_their_verifier_keys_and_not_once_changed(vkey, note):
    verifier = Verifier.from_vkey(vkey)
    text = verifier.open(note)
    assert note.startswith(text) and text.endswith("\n")
    assert open_signed_by(note, verifier.public_key) == (verifier.name, text)
    with pytest.raises(NoteError, match="does not verify"):
        verifier.open(note.replace("message", "massage").replace("problem,", "problems"))


def test_a_verifier_key_whose_base64_holds_a_plus_reads():
    # transparency-dev/formats' test key: the base64 after the key id contains a '+'.
    assert Verifier.from_vkey("TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6").name == "TEST"


def test_a_note_of_another_key_or_malformed_is_refused():
    with pytest.raises(NoteError, match="carries no signature of"):
        Verifier.from_vkey(SPEC_VERIFIER).open(GO_NOTE)
    with pytest.raises(NoteError, match="no blank line"):
        split("just text\n")
    with pytest.raises(NoteError, match="malformed signature line"):
        split(GO_TEXT + "\n-- PeterNeumann abc=\n")
    with pytest.raises(NoteError, match="key id"):
        Verifier.from_vkey(GO_VERIFIER.replace("c74f20a3", "c74f20a4"))
    with pytest.raises(ValueError):
        go_signer().sign("two\n\nparagraphs\n")  # a text holds no blank line: it would end the text
